"""`store:NAME`: images kept in the local store, their manifest named by `refs/NAME`."""

from __future__ import annotations

import json

from s2i.errors import UsageError
from s2i.files import atomic_write
from s2i.oci.image import FileBlob, Image, assemble, parse_manifest, read_document_blob
from s2i.oci.reference import StoreLocation
from s2i.oci.types import Descriptor, load_document
from s2i.progress import log
from s2i.store import Store
from s2i.transports import Published


def save_image(store: Store, name: str, image: Image) -> Descriptor:
    """Keep an image's config and manifest as blobs and point `refs/NAME` at the manifest."""
    for layer in image.layers:
        store.fetch(layer.descriptor, layer.source)
    store.write_blob(image.config_bytes)
    store.write_blob(image.manifest_bytes)
    descriptor = image.descriptor()
    atomic_write(store.root / "refs" / name, json.dumps(descriptor.to_json()).encode())
    return descriptor


def load_image(store: Store, name: str) -> Image | None:
    """The image saved under `refs/NAME`, every blob checked as it is read; None if it (or a blob) is gone."""
    where = f"store:{name}"
    try:
        ref = load_document((store.root / "refs" / name).read_bytes(), f"store ref {name}")
        descriptor = Descriptor.from_json(ref, f"store ref {name}")
        manifest_bytes = read_document_blob(store.blob_path(descriptor.digest), descriptor, f"manifest of {where}")
        config, layers = parse_manifest(manifest_bytes, f"manifest of {where}")
        config_bytes = read_document_blob(store.blob_path(config.digest), config, f"config of {where}")
    except (FileNotFoundError, NotADirectoryError):
        return None
    sources = [FileBlob(store.blob_path(layer.digest), digest=layer.digest, size=layer.size) for layer in layers]
    return assemble(manifest_bytes, config_bytes, sources, where=where)


def read(location: StoreLocation, context) -> Image:
    image = load_image(Store(), location.name)
    if image is None:
        raise UsageError(f"nothing in the local store under {location.name}", "list it with s2i stack list, or build it first")
    return image


def prepare(location: StoreLocation, context) -> None:
    pass


def write(location: StoreLocation, image: Image, context) -> Published:
    save_image(Store(), location.name, image)
    log(f"saved in the local store; run it with: s2i run {location}")
    return Published(str(location), image.digest)
