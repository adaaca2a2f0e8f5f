"""A content-addressed local blob store under $XDG_CACHE_HOME/s2i, written atomically."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from s2i.errors import S2IError
from s2i.files import atomic_write
from s2i.oci.types import Descriptor, sha256_digest


def default_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "s2i"


class Store:
    """Blobs by digest, plus diff_id -> compressed descriptor so layers are compressed once."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else default_root()

    def blob_path(self, digest: str) -> Path:
        algorithm, _, hexdigest = digest.partition(":")
        return self.root / "blobs" / algorithm / hexdigest

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
        """The blob as a local file, copied in (and its digest checked) the first time."""
        if self.has_blob(descriptor.digest, descriptor.size):
            return self.blob_path(descriptor.digest)
        with self.temp_file() as (handle, path), source.open() as reader:
            sha = hashlib.sha256()
            while chunk := reader.read(1 << 20):
                sha.update(chunk)
                handle.write(chunk)
            handle.flush()
            if "sha256:" + sha.hexdigest() != descriptor.digest:
                raise S2IError(f"blob {descriptor.digest} arrived corrupt", "fetch it again; the source may be damaged")
            return self.commit(path, descriptor.digest)

    def _layer_index(self, diff_id: str, variant: str) -> Path:
        return self.root / "layers" / variant / diff_id.replace(":", "-")

    def cached_layer(self, diff_id: str, variant: str) -> Descriptor | None:
        """The compressed blob already made from this diff_id, if it is still in the store."""
        try:
            descriptor = Descriptor.from_json(json.loads(self._layer_index(diff_id, variant).read_text()))
        except (FileNotFoundError, ValueError, KeyError):
            return None
        return descriptor if self.has_blob(descriptor.digest, descriptor.size) else None

    def remember_layer(self, diff_id: str, variant: str, descriptor: Descriptor) -> None:
        atomic_write(self._layer_index(diff_id, variant), json.dumps(descriptor.to_json()).encode())

    def keyed_layer(self, key: str):
        """(descriptor, diff_id, meta) of a layer remembered under `key`, if its blob is still here."""
        try:
            record = json.loads((self.root / "keyed" / key.replace(":", "-")).read_text())
            descriptor = Descriptor.from_json(record["descriptor"])
        except (FileNotFoundError, ValueError, KeyError):
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
