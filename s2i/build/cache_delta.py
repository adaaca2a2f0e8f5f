"""What a build wrote and read in its build cache: a snapshot of each file's inode state, and access times.

A file whose inode, size, mtime and ctime are all as snapshotted was not written since: any write (or chmod or
utime) moves ctime, which no process can set back. So an export needs to send only the paths that differ.
A file whose atime is set before mtime gets a new atime when next read (relatime and strictatime both do that), so
after a build the files under Go's build cache that kept their old times are entries the build did not use.
"""

from __future__ import annotations

import os
import re
import stat
import time
from pathlib import Path

Snapshot = dict[str, tuple]


def _entries(root: Path):
    """(relative path, lstat) of every entry under root, never through a link."""
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(root / rel if rel else root) as entries:
            for entry in entries:
                path = f"{rel}/{entry.name}" if rel else entry.name
                st = entry.stat(follow_symlinks=False)
                yield path, st
                if stat.S_ISDIR(st.st_mode):
                    stack.append(path)


def freshen(root: Path) -> None:
    """Give every imported file the time of the import as its mtime (Go rewrites the mtime of an entry older than an
    hour each time it uses one, which would make every entry this build reads look written) and an atime before it."""
    now = time.time_ns()
    for rel, st in _entries(root):
        if stat.S_ISREG(st.st_mode):
            os.utime(root / rel, ns=(0, now), follow_symlinks=False)


def forget_reads(root: Path) -> None:
    """Set every file's atime before its mtime, so that a read during the build shows."""
    if root.is_dir() and not root.is_symlink():
        for rel, st in _entries(root):
            if stat.S_ISREG(st.st_mode):
                os.utime(root / rel, ns=(0, st.st_mtime_ns), follow_symlinks=False)


def unused_files(root: Path, started_ns: int) -> set[str]:
    """Files under root the build neither read nor wrote since `started_ns`; none when no file shows a read at all
    (a noatime mount), since then nothing can be told apart."""
    if not root.is_dir() or root.is_symlink():
        return set()
    unused, reads_show = set(), False
    for rel, st in _entries(root):
        if stat.S_ISREG(st.st_mode):
            if st.st_atime_ns < started_ns and st.st_mtime_ns < started_ns:
                unused.add(rel)
            reads_show = reads_show or st.st_mtime_ns < started_ns <= st.st_atime_ns
    return unused if reads_show else set()


def snapshot(root: Path) -> Snapshot:
    """Each file's and link's state; directories are left out (they change whenever an entry is added)."""
    taken: Snapshot = {}
    for rel, st in _entries(root):
        if stat.S_ISREG(st.st_mode):
            taken[rel] = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)
        elif stat.S_ISLNK(st.st_mode):
            taken[rel] = ("link", os.readlink(root / rel))
    return taken


def changed_paths(before: Snapshot, after: Snapshot) -> tuple[str, ...]:
    """Paths added or written since `before`, sorted; entries removed since are not named (a cache keeps them)."""
    return tuple(sorted(path for path, state in after.items() if before.get(path) != state))


GO_INDEX = re.compile(r"v1 [0-9a-f]{64} ([0-9a-f]{64}) +\d+ +\d+\n")


def new_go_entries(root: Path, go_cache: str, before: Snapshot, after: Snapshot, paths: tuple[str, ...]) -> tuple[str, ...]:
    """The paths less Go index entries (`xx/<action>-a`) that were imported and now name an output that was imported
    and not written: Go rewrites an entry's time each time it stores it again, and the imported entry is as good."""
    def same_entry(path: str) -> bool:
        if path not in before or not path.startswith(f"{go_cache}/") or not path.endswith("-a") or after[path][1] > 4096:
            return False
        with open(root / path, "rb") as handle:
            match = GO_INDEX.fullmatch(handle.read(4097).decode("ascii", "replace"))
        output = f"{go_cache}/{match[1][:2]}/{match[1]}-d" if match else ""
        return output in before and before[output] == after.get(output)

    return tuple(path for path in paths if not same_entry(path))


def used_parts(cache_dir: Path, go_cache: str, parts: list[tuple[str, ...]], unused: set[str]) -> list[tuple[str, ...]]:
    """The parts with the unused files left out: a directory of Go's cache (`go_cache/xx`) is named file by file."""
    if not unused:
        return parts
    kept = []
    for part in parts:
        names = []
        for name in part:
            if name.startswith(f"{go_cache}/") and (cache_dir / name).is_dir() and not (cache_dir / name).is_symlink():
                names += [f"{name}/{child}" for child in sorted(os.listdir(cache_dir / name)) if f"{name}/{child}" not in unused]
            else:
                names.append(name)
        kept += [tuple(names)] if names else []
    return kept
