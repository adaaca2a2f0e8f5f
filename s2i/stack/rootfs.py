"""Unpacks tar layers into a root directory safely: nothing lands outside it, whatever the tar says."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from s2i.archive.layer import open_uncompressed
from s2i.oci.image import Image
from s2i.store import Store

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_SYMLINKS = 40
IS_ROOT = os.geteuid() == 0


def member_parts(name: str) -> list[str] | None:
    """Path components relative to the root; None for names that climb out with `..`."""
    parts = [p for p in PurePosixPath(name).parts if p not in ("/", ".", "")]
    return None if ".." in parts else parts


def resolve(root: str, parts: list[str], follow_last: bool = False) -> str:
    """Join like a chroot would: symlinks resolve inside root, absolute targets are root-relative."""
    resolved: list[str] = []
    pending = list(parts)
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        if (pending or follow_last) and os.path.islink(candidate):
            hops += 1
            if hops > MAX_SYMLINKS:
                raise OSError(f"too many symlinks under {'/'.join(parts)}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            pending = [p for p in target.split("/")] + pending
            continue
        resolved.append(part)
    return os.path.join(root, *resolved)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _whiteout(root: str, parts: list[str], created: set[str]) -> None:
    """Hide what lower layers put there; entries this layer wrote itself stay."""
    directory = resolve(root, parts[:-1], follow_last=True)
    if not os.path.isdir(directory):
        return
    if parts[-1] == OPAQUE:
        for child in os.listdir(directory):
            if os.path.join(directory, child) not in created:
                _remove(os.path.join(directory, child))
    else:
        _remove(os.path.join(directory, parts[-1][len(WHITEOUT) :]))


def extract(root: str, tar: tarfile.TarFile, keep_owners: bool = IS_ROOT) -> None:
    """Write a layer's entries over root; names that climb out are skipped, device nodes too unless root."""
    created: set[str] = set()
    for member in tar:
        parts = member_parts(member.name)
        if not parts:
            continue
        if parts[-1].startswith(WHITEOUT):
            _whiteout(root, parts, created)
            continue
        parent = resolve(root, parts[:-1], follow_last=True)
        if not os.path.isdir(parent):
            os.makedirs(parent, exist_ok=True)
        path = os.path.join(parent, parts[-1])
        if not _write_member(root, tar, member, path, parts):
            continue
        created.add(path)
        if keep_owners and not member.issym():
            os.lchown(path, member.uid, member.gid)
        if not member.issym():
            os.chmod(path, member.mode & 0o7777)
            os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)


def _write_member(root: str, tar: tarfile.TarFile, member: tarfile.TarInfo, path: str, parts: list[str]) -> bool:
    if member.isdir():
        if os.path.islink(path) and os.path.isdir(resolve(root, parts, follow_last=True)):
            return False  # keep a merged-/usr style link to a directory, as `tar --keep-directory-symlink`
        if os.path.lexists(path) and not os.path.isdir(path):
            _remove(path)
        os.makedirs(path, exist_ok=True)
        return True
    if os.path.lexists(path):
        _remove(path)
    if member.isreg():
        with open(path, "wb") as out:
            shutil.copyfileobj(tar.extractfile(member), out, 1 << 20)
        return True
    if member.issym():
        os.symlink(member.linkname, path)
        return True
    if member.islnk():
        parts = member_parts(member.linkname)
        target = resolve(root, parts) if parts is not None else None
        if target and os.path.isfile(target) and not os.path.islink(target):
            os.link(target, path)
            return True
        return False  # a hardlink to nothing inside the root is dropped, never followed out
    if (member.ischr() or member.isblk()) and IS_ROOT:
        kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
        os.mknod(path, kind | (member.mode & 0o7777), os.makedev(member.devmajor, member.devminor))
        return True
    if member.isfifo():
        os.mkfifo(path, member.mode & 0o7777)
        return True
    return False


def unpack_tar_stream(root: str, stream: BinaryIO) -> None:
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        extract(root, tar)


def chain_id(diff_ids: list[str]) -> str:
    """The OCI ChainID: one digest naming a stack of layers, wherever the image came from."""
    chain = ""
    for diff_id in diff_ids:
        chain = diff_id if not chain else "sha256:" + hashlib.sha256(f"{chain} {diff_id}".encode()).hexdigest()
    return chain or "sha256:" + hashlib.sha256(b"").hexdigest()


def unpack_image(image: Image, store: Store) -> Path:
    """The image's root filesystem under the store, keyed by ChainID; built once, then shared."""
    final = store.root / "rootfs" / chain_id([layer.diff_id for layer in image.layers]).replace(":", "-")
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-"))
    try:
        for layer in image.layers:
            with store.fetch(layer.descriptor, layer.source).open("rb") as handle:
                unpack_tar_stream(str(temp), open_uncompressed(handle, layer.descriptor.media_type))
        os.chmod(temp, 0o755)
        try:
            os.rename(temp, final)
        except OSError:
            if not final.is_dir():
                raise  # anything but "another process finished first"
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
    return final
