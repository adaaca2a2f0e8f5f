"""Chooses the buildpack for an app from file names and small files only, and says why."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from s2i.buildpacks import Buildpack, all_buildpacks, get_buildpack
from s2i.errors import UsageError

MAX_SCAN_BYTES = 256 * 1024


class NoMatchError(UsageError):
    exit_code = 2


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


def looked_for(buildpack: Buildpack) -> str:
    things = list(buildpack.files) + [f"{rule.glob} that {rule.reason}" for rule in buildpack.sources]
    return f"{buildpack.name}: {', '.join(things)}"


def detect(app: Path, forced: str | None = None, chosen_by: str = "--buildpack") -> Detection:
    if not app.is_dir():
        raise UsageError(f"{app} is not a directory", "pass the app's source directory")
    if forced:
        buildpack = get_buildpack(forced)
        return Detection(buildpack, (f"chosen with {chosen_by} {forced}",))
    if not any(p for p in app.iterdir() if p.name not in (".git", ".s2iignore", ".dockerignore")):
        raise NoMatchError(f"{app} is empty", "point s2i build at the directory holding your source")
    for buildpack in all_buildpacks():
        reasons = _matches(app, buildpack)
        if reasons:
            return Detection(buildpack, tuple(reasons))
    wanted = "; ".join(looked_for(bp) for bp in all_buildpacks())
    raise NoMatchError(f"no buildpack recognises {app} (looked for {wanted})", "add one of those, or force one with --buildpack NAME")
