"""Copies an app's source for the sandbox, honouring .s2iignore (or .dockerignore), never following links out."""

from __future__ import annotations

import fnmatch
import os
import shutil
from pathlib import Path

from s2i.errors import UsageError

ALWAYS_SKIPPED = (".git", ".s2i")


def read_ignore_patterns(app: Path) -> list[str]:
    for name in (".s2iignore", ".dockerignore"):
        path = app / name
        if path.is_file():
            lines = [line.strip() for line in path.read_text().splitlines()]
            return [line for line in lines if line and not line.startswith("#")]
    return []


def _normalise(pattern: str) -> str:
    return pattern.strip().lstrip("/").rstrip("/").removeprefix("./")


def _matches(rel: str, pattern: str) -> bool:
    """Docker's rules, close enough: a pattern names a path or any directory above it."""
    pattern = _normalise(pattern)
    if not pattern:
        return False
    parts = rel.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    return any(fnmatch.fnmatchcase(prefix, pattern) or fnmatch.fnmatchcase(prefix, pattern.replace("**/", "")) for prefix in prefixes)


def is_ignored(rel: str, patterns: list[str]) -> bool:
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _matches(rel, pattern[1:] if negated else pattern):
            ignored = not negated
    return ignored


def _check_link(app: Path, path: Path, rel: str) -> None:
    target = os.readlink(path)
    resolved = os.path.normpath(os.path.join(os.path.dirname(rel), target))
    if os.path.isabs(target) or resolved == ".." or resolved.startswith("../"):
        raise UsageError(
            f"{rel} is a symlink to {target}, outside the app",
            f"make it point inside the app, or list it in .s2iignore",
        )


def copy_source(app: Path, dest: Path, include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> int:
    """Copy what the build may see; returns the number of files. Links stay links and must stay inside."""
    patterns = read_ignore_patterns(app) + list(exclude)
    count = 0
    for directory, dirs, files in os.walk(app):
        rel_dir = os.path.relpath(directory, app)
        rel_dir = "" if rel_dir == "." else rel_dir
        keep_dirs = []
        for name in sorted(dirs):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if name in ALWAYS_SKIPPED or is_ignored(rel, patterns):
                continue
            path = Path(directory) / name
            if path.is_symlink():
                files.append(name)  # copied as a link, never walked into
                continue
            keep_dirs.append(name)
            (dest / rel).mkdir(parents=True, exist_ok=True)
        dirs[:] = keep_dirs
        for name in sorted(files):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if is_ignored(rel, patterns) or (include and not any(_matches(rel, p) for p in include)):
                continue
            path = Path(directory) / name
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink():
                _check_link(app, path, rel)
                os.symlink(os.readlink(path), target)
            elif path.is_file():
                shutil.copy2(path, target)
                count += 1
    return count
