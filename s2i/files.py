"""Writing files so that no reader sees half of one; reading untrusted ones without following links, blocking or bloat."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Yields a temp file beside `path`; on a clean exit it is flushed, synced and renamed over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:64]}.tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        if os.path.lexists(temp):
            os.unlink(temp)


def atomic_write(path: Path, data: bytes) -> None:
    with atomic_file(path) as handle:
        handle.write(data)


class NotRegularFile(OSError):
    """A link, FIFO, socket, device or directory where a regular file was wanted."""


def open_regular(path: Path | str, dir_fd: int | None = None) -> int:
    """A read fd on the regular file at `path`, never blocking; NotRegularFile for a final link or a special file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):  # a link (O_NOFOLLOW), a socket
            raise NotRegularFile(exc.errno, "not a regular file", str(path)) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotRegularFile(errno.EINVAL, "not a regular file", str(path))
    return fd


def read_limited(fd: int, limit: int) -> bytes | None:
    """All of `fd` (which it closes), or None when it holds more than `limit` bytes."""
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    return data if len(data) <= limit else None


def read_small(path: Path, limit: int = 1 << 20) -> str | None:
    """A small regular file's text; None when it is absent, a link, not a regular file, unreadable or too big."""
    try:
        data = read_limited(open_regular(path), limit)
    except OSError:
        return None
    return data.decode("utf-8", "replace") if data is not None else None


class LeavesRoot(Exception):
    """A path, or a link on it, leads out of the root it must stay in."""


def resolve_in(root: str, parts: list[str], *, follow_last: bool = True, clamp: bool = True, max_hops: int = 40) -> list[str]:
    """The components of where `parts` lead under root, following links as a chroot at root would.

    A `..` or an absolute link target that would leave root stays at root when `clamp` (an image's
    rootfs), else raises LeavesRoot (an app's source); more than `max_hops` links raise OSError.
    """
    resolved: list[str] = []
    pending = list(parts)
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not resolved and not clamp:
                raise LeavesRoot("/".join(parts))
            resolved = resolved[:-1]
            continue
        candidate = os.path.join(root, *resolved, part)
        if (pending or follow_last) and os.path.islink(candidate):
            hops += 1
            if hops > max_hops:
                raise OSError(f"too many symlinks under {'/'.join(parts)}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                if not clamp:
                    raise LeavesRoot("/".join(parts))
                resolved = []
            pending = target.split("/") + pending
            continue
        resolved.append(part)
    return resolved


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file's bytes, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
