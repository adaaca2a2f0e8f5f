"""The Image value: manifest and config bytes plus layers that know where their bytes live."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO, Protocol

from s2i.errors import S2IError
from s2i.oci.types import DOCKER_MANIFEST, OCI_CONFIG, OCI_MANIFEST, Descriptor, canonical_json, sha256_digest


class BlobSource(Protocol):
    """Where a blob's bytes can be read; `origin` is (registry, repository) when it can be mounted."""

    origin: tuple[str, str] | None

    def open(self) -> BinaryIO: ...


@dataclass(frozen=True)
class FileBlob:
    path: Path
    origin: tuple[str, str] | None = None

    def open(self) -> BinaryIO:
        return open(self.path, "rb")


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
        return Descriptor.from_json(self.manifest["config"])

    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, self.digest, len(self.manifest_bytes))

    @property
    def size(self) -> int:
        """Compressed bytes of config and layers, what a pull transfers."""
        return len(self.config_bytes) + sum(layer.descriptor.size for layer in self.layers)


def assemble(manifest_bytes: bytes, config_bytes: bytes, sources: list[BlobSource], origin: tuple[str, str] | None = None) -> Image:
    """Pair each manifest layer with its diff_id and byte source, checking the config matches."""
    manifest = json.loads(manifest_bytes)
    config_descriptor = Descriptor.from_json(manifest["config"])
    if sha256_digest(config_bytes) != config_descriptor.digest:
        raise S2IError("image config does not match its digest", "the source is corrupt; fetch it again")
    diff_ids = json.loads(config_bytes).get("rootfs", {}).get("diff_ids", [])
    descriptors = [Descriptor.from_json(d) for d in manifest.get("layers", [])]
    if len(diff_ids) != len(descriptors):
        raise S2IError("image config and manifest disagree on the layer count", "the source image is malformed")
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


def select_platform(index: dict, platform: dict) -> Descriptor:
    """The index entry for the wanted os/arch (and variant, when asked for)."""
    for entry in index.get("manifests", []):
        found = entry.get("platform") or {}
        if found.get("os") != platform["os"] or found.get("architecture") != platform["architecture"]:
            continue
        if platform.get("variant") and found.get("variant") != platform["variant"]:
            continue
        return Descriptor.from_json(entry)
    available = ", ".join(
        "/".join(filter(None, [p.get("os"), p.get("architecture"), p.get("variant")]))
        for p in (e.get("platform") or {} for e in index.get("manifests", []))
    )
    wanted = "/".join(filter(None, [platform["os"], platform["architecture"], platform.get("variant")]))
    raise S2IError(f"no {wanted} image in the index", f"choose one with --platform: {available or 'none listed'}")
