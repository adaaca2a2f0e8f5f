"""A content-addressed local blob store under $XDG_CACHE_HOME/s2i, written atomically."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from s2i.errors import S2IError
from s2i.files import atomic_write
from s2i.oci.image import FileBlob, copy_checked, file_matches
from s2i.oci.types import Descriptor, blob_path, sha256_digest
from s2i.progress import log

# What a killed run leaves behind: build work dirs, half-unpacked rootfs, temp blobs, atomic-write temps.
LEFTOVERS = (".build-*", "rootfs/.tmp-*", "tmp/*", "refs/**/.*.tmp-*", "layers/*/.*.tmp-*", "keyed/.*.tmp-*", "sizes/.*.tmp-*", "builds/*/.import-*", "tools/.tmp-*")
_held: dict[Path, int] = {}
_held_lock = threading.Lock()


def default_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "s2i"


def remove_tree(path: Path) -> None:
    """Delete a file or tree, even one whose directories were unpacked read-only; never chmods through a link."""

    def unlock(_function, name, _exc) -> None:
        for directory in (os.path.dirname(name), name):
            if os.path.isdir(directory) and not os.path.islink(directory):
                with contextlib.suppress(OSError):
                    os.chmod(directory, 0o700)

    if not path.is_dir() or path.is_symlink():
        path.unlink(missing_ok=True)
        return
    for _ in range(8):  # each pass opens one more level of unreadable directories
        shutil.rmtree(path, onerror=unlock)
        if not os.path.lexists(path):
            return


def sweep(root: Path) -> int:
    """Remove everything LEFTOVERS names; only safe while no other s2i process uses the store."""
    found = [path for pattern in LEFTOVERS for path in root.glob(pattern)]
    for path in found:
        remove_tree(path)
    return len(found)


def hold(root: Path) -> None:
    """Hold a shared lock on the store for this process's life; a process that finds it alone first sweeps.

    A killed run's lock dies with it, so an exclusive lock means no live run owns any temp dir; while
    another run holds its shared lock nothing is swept (the next lone run does it).
    """
    key = root.absolute()
    with _held_lock:
        if key in _held:
            return
        try:
            root.mkdir(parents=True, exist_ok=True)
            fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            return  # a read-only store still serves reads; it is just not swept
        _held[key] = fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pass
        else:
            if removed := sweep(root):
                log(f"removed {removed} leftovers of killed runs from {root}")
        fcntl.flock(fd, fcntl.LOCK_SH)


class Store:
    """Blobs by digest, plus diff_id -> compressed descriptor so layers are compressed once."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else default_root()
        hold(self.root)

    def blob_path(self, digest: str) -> Path:
        return blob_path(self.root, digest)

    def blob(self, descriptor: Descriptor) -> FileBlob:
        """The stored blob as a source whose every read is checked against the descriptor."""
        return FileBlob(self.blob_path(descriptor.digest), digest=descriptor.digest, size=descriptor.size)

    def has_blob(self, digest: str, size: int | None = None) -> bool:
        try:
            actual = self.blob_path(digest).stat().st_size
        except FileNotFoundError:
            return False
        return size is None or actual == size

    @contextmanager
    def temp_file(self) -> Iterator[tuple[BinaryIO, Path]]:
        """A scratch file on the store's filesystem, so committing it is one rename."""
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmp_dir)
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                yield handle, path
        finally:
            path.unlink(missing_ok=True)

    def commit(self, temp_path: Path, digest: str) -> Path:
        """Move a finished temp file into place; a killed process leaves only tmp/ litter."""
        final = self.blob_path(digest)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp_path, final)
        return final

    def write_blob(self, data: bytes) -> str:
        digest = sha256_digest(data)
        if not self.has_blob(digest, len(data)):
            with self.temp_file() as (handle, path):
                handle.write(data)
                handle.flush()
                self.commit(path, digest)
        return digest

    def fetch(self, descriptor: Descriptor, source) -> Path:
        """The blob as a local file whose digest was just checked: copied in once, re-fetched when found corrupt."""
        final = self.blob_path(descriptor.digest)
        if self.has_blob(descriptor.digest, descriptor.size):
            if file_matches(final, descriptor):
                return final
            if Path(getattr(source, "path", "")) == final:
                raise S2IError(f"store blob {descriptor.digest} is corrupt ({final})", "delete it, then build or pull the image again")
            log(f"store blob {descriptor.digest} is corrupt: fetching it again")
        with self.temp_file() as (handle, path):
            copy_checked(source, handle, descriptor, "copying into the store")
            handle.flush()
            return self.commit(path, descriptor.digest)

    def _layer_index(self, diff_id: str, variant: str) -> Path:
        return self.root / "layers" / variant / diff_id.replace(":", "-")

    def cached_layer(self, diff_id: str, variant: str) -> Descriptor | None:
        """The compressed blob already made from this diff_id, if it is still in the store."""
        try:
            descriptor = Descriptor.from_json(json.loads(self._layer_index(diff_id, variant).read_text()), "store layer index")
        except (FileNotFoundError, ValueError, S2IError):
            return None
        return descriptor if self.has_blob(descriptor.digest, descriptor.size) else None

    def remember_layer(self, diff_id: str, variant: str, descriptor: Descriptor) -> None:
        atomic_write(self._layer_index(diff_id, variant), json.dumps(descriptor.to_json()).encode())

    def keyed_layer(self, key: str):
        """(descriptor, diff_id, meta) of a layer remembered under `key`, if its blob is still here."""
        try:
            record = json.loads((self.root / "keyed" / key.replace(":", "-")).read_text())
            descriptor = Descriptor.from_json(record["descriptor"], "store layer record")
        except (FileNotFoundError, ValueError, KeyError, TypeError, S2IError):
            return None
        if not self.has_blob(descriptor.digest, descriptor.size):
            return None
        return descriptor, record["diffId"], record.get("meta", {})

    def remember_keyed_layer(self, key: str, descriptor: Descriptor, diff_id: str, meta: dict) -> None:
        record = {"descriptor": descriptor.to_json(), "diffId": diff_id, "meta": meta}
        atomic_write(self.root / "keyed" / key.replace(":", "-"), json.dumps(record).encode())

    def remember_size(self, diff_id: str, size: int) -> None:
        path = self.root / "sizes" / diff_id.replace(":", "-")
        if not path.exists():
            atomic_write(path, str(size).encode())

    def uncompressed_size(self, diff_ids: list[str]) -> int | None:
        """Bytes of the layers' tars, when the store made (or unpacked) every one of them."""
        try:
            return sum(int((self.root / "sizes" / d.replace(":", "-")).read_text()) for d in diff_ids)
        except (FileNotFoundError, ValueError):
            return None
