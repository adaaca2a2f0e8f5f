"""Turns a directory into a compressed layer blob in the store, hashing both forms in one pass."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

from s2i.archive.tarwriter import TarOptions, write_tree
from s2i.errors import S2IError
from s2i.oci.types import Descriptor, compression_of, digest_string
from s2i.store import Store

GZIP_LEVEL = 6
ZSTD_LEVEL = 3
COMPRESSIONS = ("gzip", "zstd")


class _HashingWriter:
    """A write-only sink that hashes and counts what passes through to `target` (if any)."""

    def __init__(self, target: BinaryIO | None = None):
        self.sha = hashlib.sha256()
        self.size = 0
        self.target = target

    def write(self, data) -> int:
        self.sha.update(data)
        self.size += len(data)
        if self.target is not None:
            self.target.write(data)
        return len(data)

    def flush(self) -> None:
        if self.target is not None:
            self.target.flush()

    @property
    def digest(self) -> str:
        return "sha256:" + self.sha.hexdigest()


def _compressor(compression: str, sink: BinaryIO):
    if compression == "gzip":
        # mtime=0 and no file name: the gzip header must not vary between runs
        return gzip.GzipFile(filename="", mode="wb", fileobj=sink, mtime=0, compresslevel=GZIP_LEVEL)
    if compression == "zstd":
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL).stream_writer(sink, closefd=False)
    raise S2IError(f"unknown compression {compression!r}", "use gzip or zstd")


def open_uncompressed(handle: BinaryIO, media_type: str) -> BinaryIO:
    """The tar inside a layer blob, read as a stream whatever the layer's compression."""
    compression = compression_of(media_type)
    if compression == "gzip":
        return gzip.GzipFile(fileobj=handle, mode="rb")
    if compression == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(handle)
    return handle


class TooLarge(S2IError):
    """A stream went past the bytes it was allowed."""


class HashingReader:
    """A read-through view that hashes and counts a stream, raising TooLarge once it passes `limit` bytes."""

    def __init__(self, stream: BinaryIO, algorithm: str, limit: int, too_large: str):
        self.stream, self.limit, self.too_large = stream, limit, too_large
        self.sha = hashlib.new(algorithm)
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        data = self.stream.read(size)
        self.sha.update(data)
        self.size += len(data)
        if self.size > self.limit:
            raise TooLarge(self.too_large)
        return data

    def drain(self) -> None:
        """Read to the end: a digest covers every byte, also those after the tar's end-of-archive blocks."""
        while self.read(1 << 20):
            pass

    @property
    def digest(self) -> str:
        return digest_string(self.sha)


@dataclass(frozen=True)
class LayerBlob:
    """A compressed layer in the store: its descriptor and the digest of its tar."""

    descriptor: Descriptor
    diff_id: str


def tree_diff_id(root: Path, options: TarOptions) -> tuple[str, int]:
    sink = _HashingWriter()
    write_tree(root, sink, options)
    return sink.digest, sink.size


def write_layer(root: Path, store: Store, media_type: str, compression: str, options: TarOptions) -> LayerBlob:
    """Hash the tar first; only a diff_id the store has never seen gets compressed."""
    variant = f"{compression}-{GZIP_LEVEL if compression == 'gzip' else ZSTD_LEVEL}"
    diff_id, tar_size = tree_diff_id(root, options)
    store.remember_size(diff_id, tar_size)
    cached = store.cached_layer(diff_id, variant)
    if cached:
        return LayerBlob(Descriptor(media_type, cached.digest, cached.size), diff_id)
    with store.temp_file() as (handle, temp_path):
        compressed = _HashingWriter(handle)
        uncompressed = _HashingWriter(_compressor(compression, compressed))
        write_tree(root, uncompressed, options)
        uncompressed.target.close()
        handle.flush()
        if uncompressed.digest != diff_id:
            raise S2IError(f"files under {root} changed while s2i was reading them", "run it again")
        store.commit(temp_path, compressed.digest)
    descriptor = Descriptor(media_type, compressed.digest, compressed.size)
    store.remember_layer(diff_id, variant, descriptor)
    return LayerBlob(descriptor, diff_id)
