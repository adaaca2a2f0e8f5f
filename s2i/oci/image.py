"""The Image value: manifest and config bytes plus layers that know where their bytes live."""

from __future__ import annotations

import io
import json
import os
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO, Protocol

from s2i.errors import S2IError
from s2i.oci.types import (
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_MANIFEST,
    MALFORMED,
    MAX_DOCUMENT,
    Descriptor,
    canonical_json,
    digest_matches,
    digest_string,
    hasher,
    load_document,
    parse_digest,
    sha256_digest,
)

CORRUPT = "the copy is corrupt or was tampered with; delete it, then fetch or build the image again"


class BlobSource(Protocol):
    """Where a blob's bytes can be read; `origin` is (registry, repository) when it can be mounted."""

    origin: tuple[str, str] | None

    def open(self) -> BinaryIO: ...


class CheckedReader:
    """Reads a blob through, hashing it: the read that reaches its size (or ends short, or goes past) checks it."""

    def __init__(self, handle: BinaryIO, digest: str, size: int, where: str):
        self._handle, self.digest, self.size, self.where = handle, digest, size, where
        self._hash = hasher(digest)
        self._done = 0
        self._checked = False

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._done += len(data)
        self._hash.update(data)
        if self._done > self.size or (not data and size != 0 and self._done < self.size):
            raise S2IError(f"{self.where}: blob {self.digest} is not the {self.size} bytes its descriptor says", CORRUPT)
        if self._done == self.size and not self._checked:
            self._checked = True
            if digest_string(self._hash) != self.digest:
                raise S2IError(f"{self.where}: blob {self.digest} does not match its digest", CORRUPT)
        return data

    def close(self) -> None:
        self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_regular(path: Path) -> BinaryIO:
    """Open a file for reading only if it is a regular file: a FIFO or device planted in its place never hangs s2i."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise S2IError(f"{path} is not a regular file", CORRUPT)
    return os.fdopen(fd, "rb")


def read_document_blob(path: Path, descriptor: Descriptor, where: str) -> bytes:
    """A manifest, index or config blob from a file: bounded before it is read, then checked against its digest."""
    if descriptor.size > MAX_DOCUMENT:
        raise S2IError(f"{where} is {descriptor.size} bytes, over the {MAX_DOCUMENT >> 20} MiB limit", MALFORMED)
    with open_regular(path) as handle:
        data = handle.read(MAX_DOCUMENT + 1)
    if not digest_matches(data, descriptor.digest):
        raise S2IError(f"{where}: blob {descriptor.digest} ({path}) does not match its digest", CORRUPT)
    return data


def copy_checked(source: BlobSource, out: BinaryIO, descriptor: Descriptor, where: str) -> None:
    """Copy a blob, hashing it on the way: a mismatch raises before the caller can commit `out`."""
    with source.open() as handle:
        reader = CheckedReader(handle, descriptor.digest, descriptor.size, where)
        while chunk := reader.read(1 << 20):
            out.write(chunk)


def file_matches(path: Path, descriptor: Descriptor) -> bool:
    """Whether the file holds exactly the blob's bytes (read through once)."""
    try:
        with FileBlob(path, digest=descriptor.digest, size=descriptor.size).open() as handle:
            while handle.read(1 << 20):
                pass
    except (OSError, S2IError):
        return False
    return True


@dataclass(frozen=True)
class FileBlob:
    """A blob in a file; with a digest and size, every read is checked against them."""

    path: Path
    origin: tuple[str, str] | None = None
    digest: str = ""
    size: int = -1

    def open(self) -> BinaryIO:
        handle = open_regular(self.path)
        return CheckedReader(handle, self.digest, self.size, str(self.path)) if self.digest else handle


@dataclass(frozen=True)
class BytesBlob:
    data: bytes
    origin: tuple[str, str] | None = None

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data)


@dataclass(frozen=True)
class Layer:
    """A layer's compressed blob (`descriptor`, bytes from `source`) and the digest of its tar."""

    descriptor: Descriptor
    diff_id: str
    source: BlobSource


@dataclass(frozen=True)
class Image:
    """Exact manifest and config bytes, so a copied image keeps its digest."""

    manifest_bytes: bytes
    config_bytes: bytes
    layers: tuple[Layer, ...]
    origin: tuple[str, str] | None = None  # (registry, repository) the config blob can be mounted from

    @cached_property
    def manifest(self) -> dict:
        return json.loads(self.manifest_bytes)

    @cached_property
    def config(self) -> dict:
        return json.loads(self.config_bytes)

    @property
    def labels(self) -> dict[str, str]:
        """The config's labels, as strings (a label of another type, from a hostile image, reads as its text)."""
        found = (self.config.get("config") or {}).get("Labels") or {}
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    @property
    def media_type(self) -> str:
        return self.manifest.get("mediaType") or OCI_MANIFEST

    @property
    def family(self) -> str:
        return "docker" if self.media_type == DOCKER_MANIFEST else "oci"

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest_bytes)

    @property
    def config_descriptor(self) -> Descriptor:
        return Descriptor.from_json(self.manifest["config"], "image manifest")

    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, self.digest, len(self.manifest_bytes))

    @property
    def size(self) -> int:
        """Compressed bytes of config and layers, what a pull transfers."""
        return len(self.config_bytes) + sum(layer.descriptor.size for layer in self.layers)


def parse_manifest(data: bytes, where: str) -> tuple[Descriptor, list[Descriptor]]:
    """The config and layer descriptors of an untrusted manifest, every field checked."""
    manifest = load_document(data, where)
    layers = manifest.get("layers", [])
    if not isinstance(layers, list) or not isinstance(manifest.get("mediaType", ""), str):
        raise S2IError(f"{where}: layers is not a list, or mediaType not a string", MALFORMED)
    config = Descriptor.from_json(manifest.get("config"), f"{where}, config")
    return config, [Descriptor.from_json(layer, f"{where}, layer {n}") for n, layer in enumerate(layers, 1)]


_RUNTIME_TYPES = {
    "Entrypoint": "strings", "Cmd": "strings", "Env": "strings", "User": str, "WorkingDir": str,
    "Labels": dict, "ExposedPorts": dict, "Volumes": dict, "StopSignal": str,
}


def _typed(value, kind) -> bool:
    if kind == "strings":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, kind)


def parse_config(data: bytes, where: str) -> list[str]:
    """The diff_ids of an untrusted image config, after checking the fields s2i reads have their JSON types."""
    config = load_document(data, where)
    rootfs, runtime, history = config.get("rootfs") or {}, config.get("config") or {}, config.get("history") or []
    if not isinstance(rootfs, dict) or not isinstance(runtime, dict) or not isinstance(history, list):
        raise S2IError(f"{where}: rootfs or config is not an object, or history not a list", MALFORMED)
    for key, kind in _RUNTIME_TYPES.items():
        if runtime.get(key) is not None and not _typed(runtime[key], kind):
            raise S2IError(f"{where}: config.{key} has the wrong JSON type", MALFORMED)
    diff_ids = rootfs.get("diff_ids") or []
    if not isinstance(diff_ids, list):
        raise S2IError(f"{where}: rootfs.diff_ids is not a list", MALFORMED)
    return [parse_digest(diff_id, f"{where}, diff_id {n}") for n, diff_id in enumerate(diff_ids, 1)]


def assemble(
    manifest_bytes: bytes, config_bytes: bytes, sources: list[BlobSource], origin: tuple[str, str] | None = None, where: str = "image"
) -> Image:
    """Pair each manifest layer with its diff_id and byte source, checking the config matches."""
    config_descriptor, descriptors = parse_manifest(manifest_bytes, f"manifest of {where}")
    if not digest_matches(config_bytes, config_descriptor.digest):
        raise S2IError(f"config of {where} does not match its digest", "the source is corrupt; fetch it again")
    diff_ids = parse_config(config_bytes, f"config of {where}")
    if len(diff_ids) != len(descriptors) or len(sources) != len(descriptors):
        raise S2IError(f"{where}: config and manifest disagree on the layer count", MALFORMED)
    layers = tuple(Layer(d, diff_id, src) for d, diff_id, src in zip(descriptors, diff_ids, sources))
    return Image(manifest_bytes, config_bytes, layers, origin)


def empty_image(os_name: str = "linux", architecture: str = "amd64", variant: str = "") -> Image:
    """`scratch`: no layers, an empty config, OCI media types."""
    config = {"architecture": architecture, "os": os_name, "rootfs": {"type": "layers", "diff_ids": []}, "config": {}}
    if variant:
        config["variant"] = variant
    config_bytes = canonical_json(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": Descriptor(OCI_CONFIG, sha256_digest(config_bytes), len(config_bytes)).to_json(),
        "layers": [],
    }
    return Image(canonical_json(manifest), config_bytes, ())


def parse_platform(text: str) -> dict:
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        from s2i.errors import UsageError

        raise UsageError(f"invalid platform {text!r}", "write it as os/arch[/variant], e.g. linux/arm64")
    platform = {"os": parts[0], "architecture": parts[1]}
    if len(parts) == 3:
        platform["variant"] = parts[2]
    return platform


def select_platform(index: dict, platform: dict, where: str = "image index") -> Descriptor:
    """The index entry for the wanted os/arch (and variant, when asked for)."""
    entries = index.get("manifests", [])
    if not isinstance(entries, list):
        raise S2IError(f"{where}: manifests is not a list", MALFORMED)
    descriptors = [Descriptor.from_json(entry, f"{where}, entry {n}") for n, entry in enumerate(entries, 1)]
    for found, descriptor in ((d.platform or {}, d) for d in descriptors):
        if found.get("os") != platform["os"] or found.get("architecture") != platform["architecture"]:
            continue
        if platform.get("variant") and found.get("variant") != platform["variant"]:
            continue
        return descriptor
    available = ", ".join(
        "/".join(str(v) for v in (p.get("os"), p.get("architecture"), p.get("variant")) if v)
        for p in (d.platform or {} for d in descriptors)
    )
    wanted = "/".join(filter(None, [platform["os"], platform["architecture"], platform.get("variant")]))
    raise S2IError(f"no {wanted} image in the index", f"choose one with --platform: {available or 'none listed'}")
