"""The ImageIndex value: one image per platform under an OCI index (or Docker manifest list), made or checked here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

from s2i.errors import S2IError
from s2i.oci.image import Image
from s2i.oci.types import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    INDEX_TYPES,
    MALFORMED,
    MANIFEST_TYPES,
    OCI_INDEX,
    Descriptor,
    canonical_json,
    load_document,
    sha256_digest,
    shorten,
)

MAX_CHILDREN = 128  # more platforms than any real index has; each one costs fetches, so a hostile index cannot make thousands
UNKNOWN = ("unknown", "unknown")  # buildkit's attestation manifests: several per index, so never duplicates
ATTESTATION = ("vnd.docker.reference.type", "attestation-manifest")  # its config is a placeholder, said buildkit


def platform_of(image: Image) -> dict:
    """The os/architecture[/variant] an image's config declares, as an index entry's `platform`."""
    config = image.config
    platform = {"os": config.get("os"), "architecture": config.get("architecture")}
    if not all(isinstance(value, str) and value for value in platform.values()):
        raise S2IError("an image's config names no os and architecture, so it cannot go in an index", "set them in its base image")
    if isinstance(config.get("variant"), str) and config["variant"]:
        platform["variant"] = config["variant"]
    return platform


def platform_text(platform: dict) -> str:
    return "/".join(str(platform[key]) for key in ("os", "architecture", "variant") if platform.get(key))


@dataclass(frozen=True)
class ImageIndex:
    """Exact index bytes and its children in entry order, so a copied index keeps its digest."""

    manifest_bytes: bytes
    children: tuple[Image, ...]

    @cached_property
    def manifest(self) -> dict:
        return json.loads(self.manifest_bytes)

    @property
    def media_type(self) -> str:
        return self.manifest.get("mediaType") or OCI_INDEX

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest_bytes)

    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, self.digest, len(self.manifest_bytes))

    @property
    def entries(self) -> list[Descriptor]:
        return [Descriptor.from_json(entry, "index") for entry in self.manifest["manifests"]]

    @property
    def size(self) -> int:
        """Compressed bytes of every child's config and layers."""
        return sum(child.size for child in self.children)


def make_index(images: list[Image], annotations: dict | None = None) -> ImageIndex:
    """An index of `images` in the order given; a Docker manifest list when every image is Docker-typed. No clock is read."""
    if not images:
        raise S2IError("an image index needs at least one image", "build or name at least one platform")
    entries = []
    for image in images:
        entries.append(Descriptor(image.media_type, image.digest, len(image.manifest_bytes), platform=platform_of(image)))
    docker = all(image.media_type == DOCKER_MANIFEST for image in images)
    document = {"schemaVersion": 2, "mediaType": DOCKER_LIST if docker else OCI_INDEX, "manifests": [e.to_json() for e in entries]}
    if annotations and not docker:  # a Docker manifest list has no annotations
        document["annotations"] = dict(annotations)
    index_bytes = canonical_json(document)
    parse_index(index_bytes, "new index")  # the same rules as a pulled index: no duplicate platform
    return ImageIndex(index_bytes, tuple(images))


def parse_index(data: bytes, where: str) -> list[Descriptor]:
    """The entries of an untrusted index: bounded, each an image manifest with its own platform."""
    index = load_document(data, where)
    entries = index.get("manifests")
    if not isinstance(entries, list) or not entries:
        raise S2IError(f"{where}: manifests is not a non-empty list", MALFORMED)
    if len(entries) > MAX_CHILDREN:
        raise S2IError(f"{where} lists {len(entries)} manifests, over the limit of {MAX_CHILDREN}", "copy the platforms you need with --platform")
    descriptors = [Descriptor.from_json(entry, f"{where}, entry {n}") for n, entry in enumerate(entries, 1)]
    seen = set()
    for n, descriptor in enumerate(descriptors, 1):
        _check_entry(descriptor, f"{where}, entry {n}")
        key = (descriptor.platform["os"], descriptor.platform["architecture"], descriptor.platform.get("variant"))
        if key in seen and key[:2] != UNKNOWN:
            raise S2IError(f"{where} lists platform {platform_text(descriptor.platform)} twice", MALFORMED)
        seen.add(key)
    return descriptors


def _check_entry(descriptor: Descriptor, where: str) -> None:
    if descriptor.media_type in INDEX_TYPES:
        raise S2IError(f"{where} is itself an index; s2i reads one level of index only", "copy a child index by its digest")
    if descriptor.media_type not in MANIFEST_TYPES:
        raise S2IError(f"{where} has media type {shorten(descriptor.media_type)}, which s2i cannot read", MALFORMED)
    platform = descriptor.platform or {}
    values = [platform.get(key) for key in ("os", "architecture")]
    if not all(isinstance(value, str) and value for value in values) or not isinstance(platform.get("variant", ""), str):
        raise S2IError(f"{where} names no platform os and architecture", MALFORMED)


def check_child(descriptor: Descriptor, image: Image, where: str) -> None:
    """A child fetched by the entry's digest is the manifest the entry names, for the platform it claims."""
    if image.digest != descriptor.digest or len(image.manifest_bytes) != descriptor.size:
        raise S2IError(f"{where}: manifest {image.digest} is not the {descriptor.digest} the index names", MALFORMED)
    if image.media_type != descriptor.media_type:
        raise S2IError(f"{where}: manifest is a {shorten(image.media_type)}, the index says {shorten(descriptor.media_type)}", MALFORMED)
    claimed, config = descriptor.platform, image.config
    if descriptor.annotations.get(ATTESTATION[0]) == ATTESTATION[1] and (claimed["os"], claimed["architecture"]) == UNKNOWN:
        return
    variant = claimed.get("variant") and config.get("variant")
    if (config.get("os"), config.get("architecture")) != (claimed["os"], claimed["architecture"]) or variant and variant != claimed["variant"]:
        found = "/".join(str(config.get(key)) for key in ("os", "architecture"))
        raise S2IError(f"{where}: index says {platform_text(claimed)}, the image's config says {shorten(found)}", MALFORMED)

