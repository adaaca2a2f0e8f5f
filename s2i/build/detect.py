"""Chooses the buildpack for an app from file names and small files only, and says why."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from s2i.buildpacks import Buildpack, all_buildpacks, get_buildpack
from s2i.errors import DetectionError, UsageError

MAX_SCAN_BYTES = 256 * 1024


class NoMatchError(DetectionError):
    """No buildpack recognises the app."""


@dataclass(frozen=True)
class Detection:
    buildpack: Buildpack
    reasons: tuple[str, ...]

    def to_json(self) -> dict:
        return {"buildpack": self.buildpack.name, "version": self.buildpack.version, "reasons": list(self.reasons)}


def _matches(app: Path, buildpack: Buildpack) -> list[str]:
    reasons = [f"found {name}" for name in buildpack.files if (app / name).is_file()]
    for rule in buildpack.sources:
        pattern = re.compile(rule.contains, re.MULTILINE)
        for path in sorted(app.glob(rule.glob)):
            if path.is_file() and not path.is_symlink() and pattern.search(path.read_bytes()[:MAX_SCAN_BYTES].decode("utf-8", "replace")):
                reasons.append(f"{path.name} {rule.reason}")
                break
    return reasons


def _program_build_wins(app: Path, matched: list[tuple[Buildpack, list[str]]]) -> tuple[Buildpack, list[str]]:
    """The first match, unless its only evidence is bindings files or scripts and a later buildpack's root file builds a program."""
    first, first_reasons = matched[0]
    own = [name for name in first.files if (app / name).is_file()]
    if not first.bindings_files or any(name not in first.bindings_files for name in own):
        return first, first_reasons
    for buildpack, reasons in matched[1:]:
        builds = [name for name in buildpack.program_builds if (app / name).is_file()]
        if builds:
            beside = ", ".join(own) if own else "its scripts"
            return buildpack, [*reasons, f"{builds[0]} at the root builds the program; {beside} beside it taken for "
                                         f"{first.name} bindings or tools (--buildpack {first.name} to build those)"]
    return first, first_reasons


def _subdir_builds(app: Path, chosen: Buildpack) -> list[str]:
    """Other languages' build files one directory down, named so the user sees they were left alone."""
    if not chosen.program_builds:
        return []
    notes = []
    for directory in sorted(p for p in app.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))[:200]:
        for buildpack in all_buildpacks():
            names = [name for name in buildpack.files if buildpack is not chosen and (directory / name).is_file()]
            if names:
                notes.append(f"{directory.name}/{names[0]}: {buildpack.name} bindings or tools in a subdirectory, not built")
    return notes[:5]


def looked_for(buildpack: Buildpack) -> str:
    globs: dict[str, list[str]] = {}
    for rule in buildpack.sources:
        globs.setdefault(rule.reason, []).append(rule.glob)
    things = list(buildpack.files) + [f"{'/'.join(names)} that {reason}" for reason, names in globs.items()]
    return f"{buildpack.name}: {', '.join(things)}"


def detect(tree: Path, forced: str | None = None, app: Path | None = None, chosen_by: str = "--buildpack") -> Detection:
    """The buildpack for `tree`, the app's filtered copy (ignore files applied); messages name `app`, the source."""
    app = app or tree
    if not tree.is_dir():
        raise UsageError(f"{app} is not a directory", "pass the app's source directory")
    if forced:
        buildpack = get_buildpack(forced)
        return Detection(buildpack, (f"chosen with {chosen_by} {forced}",))
    if not any(p for p in tree.iterdir() if p.name not in (".git", ".s2iignore", ".dockerignore")):
        if tree != app and any(p for p in app.iterdir() if p.name not in (".git", ".s2iignore", ".dockerignore")):
            raise NoMatchError(f"nothing of {app} is left for the build once .s2iignore/.dockerignore and exclude are applied",
                               "a * line needs ! exceptions for what the build needs (e.g. !go.mod), or use include")
        raise NoMatchError(f"{app} is empty", "point s2i build at the directory holding your source")
    matched = [(buildpack, reasons) for buildpack in all_buildpacks() if (reasons := _matches(tree, buildpack))]
    if matched:
        buildpack, reasons = _program_build_wins(tree, matched)
        return Detection(buildpack, tuple(reasons + _subdir_builds(tree, buildpack)))
    wanted = "; ".join(looked_for(bp) for bp in all_buildpacks())
    raise NoMatchError(f"no buildpack recognises {app} (looked for {wanted})", "add one of those, or force one with --buildpack NAME")
