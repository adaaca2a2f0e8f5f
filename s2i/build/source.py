"""Copies an app's source for the sandbox, honouring .s2iignore (or .dockerignore), never following links out."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from s2i.build.ignore import any_match, compile_rules, is_ignored, must_walk
from s2i.errors import UsageError
from s2i.files import LeavesRoot, NotRegularFile, open_regular, read_limited, resolve_in
from s2i.progress import log

ALWAYS_SKIPPED = (".git", ".s2i")
MAX_LINK_HOPS = 40
MAX_APP_FILE = 1 << 20


def resolve_inside(app: Path, rel: str) -> str | None:
    """Where `rel` leads, following links as a chroot at `app` would; None when it leaves the app or loops."""
    try:
        return "/".join(resolve_in(str(app), rel.split("/"), clamp=False, max_hops=MAX_LINK_HOPS))
    except (LeavesRoot, OSError):
        return None


def read_app_file(app: Path, name: str, limit: int = MAX_APP_FILE) -> str | None:
    """A small settings file of the app as text; None when absent. Links are followed only inside the app."""
    rel = resolve_inside(app, name)
    if rel is None:
        raise UsageError(f"{app / name} is a symlink that leads out of the app", f"make {name} a file inside the app")
    try:
        data = read_limited(open_regular(app / rel), limit)
    except FileNotFoundError:
        return None
    except NotRegularFile:
        raise UsageError(f"{app / name} is not a regular file", f"make {name} a plain text file") from None
    if data is None:
        raise UsageError(f"{app / name} is larger than {limit >> 20} MiB", f"s2i reads {name} whole; shrink it")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise UsageError(f"{app / name} is not UTF-8 text", "save it as UTF-8") from None


def read_ignore_patterns(app: Path) -> list[str]:
    for name in (".s2iignore", ".dockerignore"):
        text = read_app_file(app, name)
        if text is not None:
            return text.splitlines()
    return []


def _shown(rel: str) -> str:
    """A path as one printable line, whatever bytes its name holds."""
    shown = os.fsencode(rel).decode("utf-8", "backslashreplace")
    return shown if shown.isprintable() else repr(shown)[1:-1]


def _check_name(rel: str) -> None:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{_shown(rel)}: the name is not valid UTF-8", "rename it, or list it in .s2iignore") from None


def _check_link(app: Path, rel: str) -> str:
    target = os.readlink(app / rel)
    if resolve_inside(app, rel) is None:
        raise UsageError(f"{rel} is a symlink to {target}, outside the app", "make it point inside the app, or list it in .s2iignore")
    return target


def _copy_file(source: Path, target: Path) -> None:
    """A regular file opened without following links or blocking: what was checked is what is copied."""
    with os.fdopen(open_regular(source), "rb") as reader, open(target, "wb") as writer:
        shutil.copyfileobj(reader, writer)
    shutil.copystat(source, target, follow_symlinks=False)


def copy_source(app: Path, dest: Path, include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> int:
    """Copy what the build may see; returns the number of files. Links stay links and must stay inside."""
    rules = compile_rules([*read_ignore_patterns(app), *exclude], "ignore patterns (.s2iignore, .dockerignore, exclude)")
    wanted = compile_rules(include, "include")
    count, pending = 0, [""]
    while pending:  # a stack, not recursion: a deep hostile tree cannot exhaust Python's
        rel_dir = pending.pop()
        with os.scandir(app / rel_dir) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.name in ALWAYS_SKIPPED:
                continue
            ignored = is_ignored(rel, rules)
            if entry.is_dir(follow_symlinks=False):
                if not ignored:
                    _check_name(rel)
                    (dest / rel).mkdir(parents=True, exist_ok=True)
                if not ignored or must_walk(rel, rules):
                    pending.append(rel)
                continue
            if ignored or (wanted and not any_match(rel, wanted)):
                continue
            _check_name(rel)
            count += _copy_entry(app, dest, rel, entry)
    return count


def _copy_entry(app: Path, dest: Path, rel: str, entry: os.DirEntry) -> int:
    target = dest / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if entry.is_symlink():
        os.symlink(_check_link(app, rel), target)
        return 0
    if entry.is_file(follow_symlinks=False):
        _copy_file(app / rel, target)
        return 1
    log(f"skipping {_shown(rel)}: not a file, directory or link (a FIFO, socket or device)")
    return 0
