"""Unpacks tar layers into a root directory safely: nothing lands outside it, whatever the tar says.

A layer is checked as it is unpacked: its blob digest and diff_id are computed on the way and must match
what the manifest and config claim, or the half-made rootfs is deleted. Device nodes and FIFOs are never
created on the host (the sandbox brings its own /dev), and an image may not expand past S2I_MAX_UNPACK bytes.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator

import zstandard

from s2i.archive.layer import HashingReader, TooLarge, open_uncompressed
from s2i.errors import S2IError, UsageError
from s2i.files import resolve_in
from s2i.oci.image import Image, Layer
from s2i.oci.types import shorten
from s2i.store import Store, remove_tree

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_SYMLINKS = 40
MAX_HEADER = 1 << 20  # pax and GNU long-name headers are read whole by tarfile: refuse bigger ones first
DEFAULT_UNPACK_LIMIT = "16G"
IS_ROOT = os.geteuid() == 0
_EXTENDED = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)
_BROKEN = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, zstandard.ZstdError, RecursionError, UnicodeError)


class UnsafeLayer(S2IError):
    """A layer s2i refuses to unpack: oversize headers, sparse members, digests that do not match."""


class BoundedTarInfo(tarfile.TarInfo):
    """tarfile's header parser, refusing what it would read whole into memory: big pax/long-name headers, sparse maps."""

    def _proc_member(self, tarfile_):
        if self.type in _EXTENDED and self.size > MAX_HEADER:
            raise UnsafeLayer(f"a tar header of {self.size} bytes, over the {MAX_HEADER >> 20} MiB limit")
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise UnsafeLayer(f"sparse member {shorten(self.name)}: image layers are not sparse")
        return super()._proc_member(tarfile_)

    def _proc_gnusparse_10(self, next_, pax_headers, tarfile_):
        raise UnsafeLayer(f"sparse member {shorten(next_.name)}: image layers are not sparse")


def dpkg_file_lists(root: Path) -> dict[str, str]:
    """Package (as its list file is named, maybe name:arch) -> its dpkg info/*.list text, read as data from a rootfs."""
    info = root / "var/lib/dpkg/info"
    return {p.name[: -len(".list")]: p.read_text(errors="replace") for p in sorted(info.glob("*.list"))} if info.is_dir() else {}


def unpack_limit() -> int:
    """Bytes of tar an image may expand to: S2I_MAX_UNPACK (bytes, or with a K/M/G/T suffix)."""
    text = os.environ.get("S2I_MAX_UNPACK", DEFAULT_UNPACK_LIMIT).strip().upper()
    unit = text[-1] if text and text[-1] in "KMGT" else ""
    number = text[: len(text) - len(unit)]
    if not number.isdigit():
        raise UsageError(f"S2I_MAX_UNPACK={shorten(text)} is not a size", "write bytes or a size like 32G")
    return int(number) << (10 * ("KMGT".index(unit) + 1) if unit else 0)


def member_parts(name: str) -> list[str] | None:
    """Path components relative to the root; None for names that climb out with `..`."""
    parts = [p for p in PurePosixPath(name).parts if p not in ("/", ".", "")]
    return None if ".." in parts else parts


def resolve(root: str, parts: list[str], follow_last: bool = False) -> str:
    """Join like a chroot would: symlinks resolve inside root, absolute targets are root-relative."""
    return os.path.join(root, *resolve_in(root, parts, follow_last=follow_last, clamp=True, max_hops=MAX_SYMLINKS))


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _whiteout(root: str, parts: list[str], created: set[str]) -> None:
    """Hide what lower layers put there; entries this layer wrote itself stay. Only names inside the directory."""
    directory = resolve(root, parts[:-1], follow_last=True)
    if not os.path.isdir(directory):
        return
    if parts[-1] == OPAQUE:
        for child in os.listdir(directory):
            if os.path.join(directory, child) not in created:
                _remove(os.path.join(directory, child))
        return
    target = parts[-1][len(WHITEOUT) :]
    if target in ("", ".", "..") or target.startswith(WHITEOUT):
        return  # `.wh..` and `.wh...` would name the directory or its parent; `.wh..wh.*` is aufs bookkeeping
    _remove(os.path.join(directory, target))


def extract(root: str, tar: tarfile.TarFile, keep_owners: bool = IS_ROOT) -> None:
    """Write a layer's entries over root; names that climb out, devices and FIFOs are skipped."""
    created: set[str] = set()
    while (member := tar.next()) is not None:
        tar.members.clear()  # tarfile keeps every header it read: a layer of millions of entries would fill memory
        if member.sparse is not None:  # holes are not in the stream, so its size bound would not count them
            raise UnsafeLayer(f"sparse member {shorten(member.name)}: image layers are not sparse")
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
        if _write_member(root, tar, member, path, parts):
            created.add(path)
            _set_metadata(path, member, keep_owners)


def _set_metadata(path: str, member: tarfile.TarInfo, keep_owners: bool) -> None:
    """Owner, mode and mtime as the tar says (stacks need their setuid bits); out-of-range values are dropped."""
    if member.issym():
        return
    if keep_owners:
        with contextlib.suppress(OverflowError, ValueError):
            os.lchown(path, member.uid, member.gid)
    os.chmod(path, member.mode & 0o7777)
    with contextlib.suppress(OverflowError, ValueError):
        os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)


def _write_member(root: str, tar: tarfile.TarFile, member: tarfile.TarInfo, path: str, parts: list[str]) -> bool:
    if member.isdir():
        if os.path.islink(path) and os.path.isdir(resolve(root, parts, follow_last=True)):
            return False  # keep a merged-/usr style link to a directory, as `tar --keep-directory-symlink`
        if os.path.lexists(path) and not os.path.isdir(path):
            _remove(path)
        os.makedirs(path, exist_ok=True)
        return True
    if not (member.isreg() or member.issym() or member.islnk()):
        return False  # devices and FIFOs never reach the host store; bwrap gives the sandbox its own /dev
    if os.path.lexists(path):
        _remove(path)
    if member.isreg():
        with open(path, "wb") as out:
            shutil.copyfileobj(tar.extractfile(member), out, 1 << 20)
        return True
    if member.issym():
        os.symlink(member.linkname, path)
        return True
    parts = member_parts(member.linkname)
    target = resolve(root, parts) if parts is not None else None
    if target and os.path.isfile(target) and not os.path.islink(target):
        os.link(target, path)
        return True
    return False  # a hardlink to nothing inside the root is dropped, never followed out


def unpack_tar_stream(root: str, stream: BinaryIO) -> None:
    with tarfile.open(fileobj=stream, mode="r|", tarinfo=BoundedTarInfo) as tar:
        extract(root, tar)


def chain_id(diff_ids: list[str]) -> str:
    """The OCI ChainID: one digest naming a stack of layers, wherever the image came from."""
    chain = ""
    for diff_id in diff_ids:
        chain = diff_id if not chain else "sha256:" + hashlib.sha256(f"{chain} {diff_id}".encode()).hexdigest()
    return chain or "sha256:" + hashlib.sha256(b"").hexdigest()


def walk_layer(layer: Layer, limit: int) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    """Each member of a layer's tar, read as a stream through its checks (the blob's digest as its source reads it, the
    unpack limit, bounded headers); after the last member the tar's digest must be the layer's diff_id, else UnsafeLayer.
    A caller that stops early gets no diff_id check: it must not keep what it read as a fact about that diff_id."""
    too_large = f"it expands past the unpack limit of {limit} bytes (S2I_MAX_UNPACK)"
    with layer.source.open() as raw:
        tar_stream = HashingReader(open_uncompressed(raw, layer.descriptor.media_type), layer.diff_id.partition(":")[0], limit, too_large)
        with tarfile.open(fileobj=tar_stream, mode="r|", tarinfo=BoundedTarInfo) as tar:
            for member in tar:
                yield tar, member
        tar_stream.drain()
    if tar_stream.digest != layer.diff_id:
        raise UnsafeLayer(f"layer {layer.descriptor.digest}: its tar is {tar_stream.digest}, not the config's {layer.diff_id}")


def unpack_layer(root: str, blob: Path, layer: Layer, limit: int) -> int:
    """Unpack one layer blob, hashing both forms on the way; raise unless they are what the image claims."""
    too_large = f"it expands past the unpack limit of {limit} bytes (S2I_MAX_UNPACK)"
    with open(blob, "rb") as raw:
        compressed = HashingReader(raw, layer.descriptor.digest.partition(":")[0], layer.descriptor.size, "it is larger than its descriptor says")
        tar = HashingReader(open_uncompressed(compressed, layer.descriptor.media_type), layer.diff_id.partition(":")[0], limit, too_large)
        unpack_tar_stream(root, tar)
        tar.drain()
        compressed.drain()
    if compressed.digest != layer.descriptor.digest:
        raise UnsafeLayer(f"its bytes hash to {compressed.digest}, not the manifest's {layer.descriptor.digest}")
    if tar.digest != layer.diff_id:
        raise UnsafeLayer(f"its tar is {tar.digest} but the image config claims {layer.diff_id}")
    return tar.size


def unpack_image(image: Image, store: Store) -> Path:
    """The image's root filesystem under the store, keyed by the ChainID of diff_ids checked while unpacking."""
    final = store.root / "rootfs" / chain_id([layer.diff_id for layer in image.layers]).replace(":", "-")
    if final.is_dir():
        return final
    left = unpack_limit()
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-"))
    try:
        for number, layer in enumerate(image.layers, 1):
            blob = store.fetch(layer.descriptor, layer.source)
            try:
                size = unpack_layer(str(temp), blob, layer, left)
            except (UnsafeLayer, TooLarge, *_BROKEN) as exc:
                detail = exc.message if isinstance(exc, S2IError) else f"not a valid layer ({shorten(str(exc) or type(exc).__name__)})"
                raise UnsafeLayer(f"layer {number} ({layer.descriptor.digest}) of image {image.digest}: {detail}", "the image is corrupt or hostile; nothing was kept") from None
            left -= size
            store.remember_size(layer.diff_id, size)  # now a checked fact, which `s2i stack list` reports
        os.chmod(temp, 0o755)
        try:
            os.rename(temp, final)
        except OSError:
            if not final.is_dir():
                raise  # anything but "another process finished first"
    except OSError as exc:
        raise S2IError(f"unpacking image {image.digest} under {final.parent}: {exc.strerror or exc}", "free disk space, or check the store's permissions") from None
    finally:
        if temp.exists():
            remove_tree(temp)
    return final
