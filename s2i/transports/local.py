"""`store:NAME`: images kept in the local store, their manifest named by `refs/NAME`."""

from __future__ import annotations

import json

from s2i.errors import UsageError
from s2i.files import atomic_write
from s2i.oci.image import FileBlob, Image, assemble
from s2i.oci.reference import StoreLocation
from s2i.oci.types import Descriptor
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
    """The image saved under `refs/NAME`, its layers read from the store; None if there is none."""
    try:
        descriptor = Descriptor.from_json(json.loads((store.root / "refs" / name).read_text()))
    except (FileNotFoundError, ValueError, KeyError):
        return None
    manifest_bytes = store.blob_path(descriptor.digest).read_bytes()
    manifest = json.loads(manifest_bytes)
    config_bytes = store.blob_path(manifest["config"]["digest"]).read_bytes()
    sources = [FileBlob(store.blob_path(layer["digest"])) for layer in manifest.get("layers", [])]
    return assemble(manifest_bytes, config_bytes, sources)


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
