"""Reads an image from a registry: manifest (index resolved by platform), config, lazy layers."""

from __future__ import annotations

import json
from dataclasses import dataclass

from s2i.errors import S2IError
from s2i.oci.image import CheckedReader, Image, assemble, parse_manifest, select_platform
from s2i.oci.reference import Reference
from s2i.oci.types import INDEX_TYPES, MALFORMED, MANIFEST_TYPES, load_document
from s2i.transports.registry import api
from s2i.transports.registry.client import Registry


@dataclass(frozen=True)
class RemoteBlob:
    """A blob that stays in its registry until someone reads it; pushes to that registry mount it."""

    registry: Registry
    repository: str
    digest: str
    size: int

    @property
    def origin(self) -> tuple[str, str]:
        return (self.registry.host, self.repository)

    def open(self):
        """The download, checked as it is read: a registry serving other bytes fails the read that ends it."""
        reader = api.BlobReader(self.registry, self.repository, self.digest)
        return CheckedReader(reader, self.digest, self.size, f"{self.registry.host}/{self.repository}")


def media_type_of(data: bytes, header_type: str, where: str) -> str:
    declared = load_document(data, where).get("mediaType")
    if not isinstance(declared, (str, type(None))):
        raise S2IError(f"{where}: mediaType is not a string", MALFORMED)
    return declared or header_type


def read_manifest(registry: Registry, reference: Reference) -> tuple[bytes, str]:
    """The manifest or index the reference names (checked against its digest when pinned) and its media type."""
    data, header_type = api.get_manifest(registry, reference.repository, reference.identifier)
    return data, media_type_of(data, header_type, f"manifest of {reference}")


def read_image(registry: Registry, reference: Reference, platform: dict) -> Image:
    data, media_type = read_manifest(registry, reference)
    if media_type in INDEX_TYPES:
        chosen = select_platform(json.loads(data), platform, f"index of {reference}")
        data, media_type = read_manifest(registry, reference.with_digest(chosen.digest))
    return image_from(registry, reference, data, media_type)


def image_from(registry: Registry, reference: Reference, data: bytes, media_type: str, where: str = "") -> Image:
    """The image a manifest describes: config fetched and checked, layers left in the registry until read."""
    where = where or str(reference)
    if media_type not in MANIFEST_TYPES:
        raise S2IError(
            f"{where} is a {media_type or 'schema 1'} manifest, which s2i cannot read",
            "use an image with an OCI or Docker v2 schema 2 manifest",
        )
    config, layers = parse_manifest(data, f"manifest of {where}")
    config_bytes = api.get_blob(registry, reference.repository, config.digest)
    sources = [RemoteBlob(registry, reference.repository, layer.digest, layer.size) for layer in layers]
    return assemble(data, config_bytes, sources, origin=(registry.host, reference.repository), where=where)
