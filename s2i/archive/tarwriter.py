"""Writes a directory tree as a deterministic tar stream: same tree, same bytes."""

from __future__ import annotations

import os
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator

from s2i.errors import UsageError


@dataclass(frozen=True)
class TarOptions:
    mtime: int = 0
    uid: int = 0
    gid: int = 0
    prefix: str = ""  # where the tree lands in the image, e.g. "app"
    keep_modes: bool = False  # stacks need setuid and 1777; app layers get 755/644
    keep_owners: bool = False  # stacks keep the owners on disk (nonroot's home); app layers get uid/gid
    only: tuple[str, ...] = ()  # relative paths to write (with their parents and what is under them); all when empty


def source_date_epoch(fallback: int = 0) -> int:
    """The one timestamp of every output: SOURCE_DATE_EPOCH when set, else `fallback`; never the clock."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return fallback
    if not value.isdigit():
        raise UsageError(f"SOURCE_DATE_EPOCH={value!r} is not a number", "set it to Unix seconds, e.g. 0, or unset it")
    return int(value)


def _clean_prefix(prefix: str) -> str:
    parts = [p for p in PurePosixPath(prefix).parts if p not in ("/", ".")]
    if ".." in parts:
        raise UsageError(f"layer destination {prefix!r} leaves the image root", "use a path like /app")
    return "/".join(parts)


def _walk_under(root: Path, rel: str) -> Iterator[tuple[str, Path]]:
    for name in sorted(os.listdir(root / rel)):
        child = f"{rel}/{name}"
        yield child, root / child
        if (root / child).is_dir() and not (root / child).is_symlink():
            yield from _walk_under(root, child)


def _mode(st_mode: int, options: TarOptions) -> int:
    if options.keep_modes:
        return stat.S_IMODE(st_mode)
    if stat.S_ISDIR(st_mode) or st_mode & 0o111:
        return 0o755
    return 0o644


def _header(name: str, options: TarOptions) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = options.mtime
    info.uid, info.gid = options.uid, options.gid
    info.uname = info.gname = ""
    return info


def _parent_dirs(prefix: str, options: TarOptions) -> Iterator[tarfile.TarInfo]:
    parts = prefix.split("/") if prefix else []
    for depth in range(1, len(parts) + 1):
        info = _header("/".join(parts[:depth]), options)
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        yield info


def write_tree(root: Path, out: BinaryIO, options: TarOptions = TarOptions()) -> None:
    """Stream `root` as a PAX tar into `out`; parents first, hardlinks kept, odd files skipped."""
    prefix = _clean_prefix(options.prefix)
    seen_inodes: dict[tuple[int, int], str] = {}
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for info in _parent_dirs(prefix, options):
            tar.addfile(info)
        for rel, path in _walk_selected(root, options.only) if options.only else _walk_under_root(root):
            name = f"{prefix}/{rel}" if prefix else rel
            st = os.lstat(path)
            info = _header(name, options)
            info.mode = _mode(st.st_mode, options)
            if options.keep_owners:
                info.uid, info.gid = st.st_uid, st.st_gid
            if stat.S_ISDIR(st.st_mode):
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif stat.S_ISLNK(st.st_mode):
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, os.readlink(path), 0o777
                tar.addfile(info)
            elif stat.S_ISREG(st.st_mode):
                inode = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and inode in seen_inodes:
                    info.type, info.linkname = tarfile.LNKTYPE, seen_inodes[inode]
                    tar.addfile(info)
                    continue
                seen_inodes[inode] = name
                info.size = st.st_size
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
            # sockets, fifos and devices have no place in an app layer


def _walk_under_root(root: Path) -> Iterator[tuple[str, Path]]:
    if root.is_symlink():  # entries are stored as links, never followed; the root must not be one either
        raise UsageError(f"layer source {root} is a symlink", "pass the directory itself, not a link to it")
    if not root.is_dir():
        raise UsageError(f"layer source {root} is not a directory", "pass --layer an existing directory")
    for name in sorted(os.listdir(root)):
        yield name, root / name
        if (root / name).is_dir() and not (root / name).is_symlink():
            yield from _walk_under(root, name)


def _walk_selected(root: Path, only: tuple[str, ...]) -> Iterator[tuple[str, Path]]:
    """The named entries, each parent once before them, and everything under the named directories."""
    seen: set[str] = set()
    for rel in sorted(only):
        parts = rel.split("/")
        if any(not _real_dir(root / "/".join(parts[:depth])) for depth in range(1, len(parts))):
            continue  # never through a link: the tree may be a build's hostile output
        for depth in range(1, len(parts) + 1):
            name = "/".join(parts[:depth])
            if name not in seen:
                seen.add(name)
                yield name, root / name
        if _real_dir(root / rel):
            yield from _walk_under(root, rel)


def _real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()
