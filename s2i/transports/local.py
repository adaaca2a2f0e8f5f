"""`store:NAME`: images kept in the local store, their manifest named by `refs/NAME`."""

from __future__ import annotations

import json

from s2i.errors import UsageError
from s2i.files import atomic_write
from s2i.oci.image import FileBlob, Image, assemble, parse_manifest, read_document_blob, select_platform
from s2i.oci.index import ImageIndex, check_child, parse_index
from s2i.oci.reference import StoreLocation
from s2i.oci.types import INDEX_TYPES, Descriptor, load_document
from s2i.progress import log
from s2i.store import Store
from s2i.transports import Published


def _save_blobs(store: Store, image: Image) -> None:
    for layer in image.layers:
        store.fetch(layer.descriptor, layer.source)
    store.write_blob(image.config_bytes)
    store.write_blob(image.manifest_bytes)


def save_image(store: Store, name: str, image: Image | ImageIndex) -> Descriptor:
    """Keep an image's (or each child's) config and manifest as blobs and point `refs/NAME` at the manifest or index."""
    for child in image.children if isinstance(image, ImageIndex) else (image,):
        _save_blobs(store, child)
    store.write_blob(image.manifest_bytes)
    descriptor = image.descriptor()
    atomic_write(store.root / "refs" / name, json.dumps(descriptor.to_json()).encode())
    return descriptor


def _load_manifest(store: Store, descriptor: Descriptor, where: str) -> Image:
    manifest_bytes = read_document_blob(store.blob_path(descriptor.digest), descriptor, f"manifest of {where}")
    config, layers = parse_manifest(manifest_bytes, f"manifest of {where}")
    config_bytes = read_document_blob(store.blob_path(config.digest), config, f"config of {where}")
    sources = [FileBlob(store.blob_path(layer.digest), digest=layer.digest, size=layer.size) for layer in layers]
    return assemble(manifest_bytes, config_bytes, sources, where=where)


def load_image(store: Store, name: str, platform: dict | None = None) -> Image | ImageIndex | None:
    """What `refs/NAME` names, every blob checked as it is read: an index's child for `platform`, or without
    one the whole index; None if it (or a blob) is gone."""
    where = f"store:{name}"
    try:
        ref = load_document((store.root / "refs" / name).read_bytes(), f"store ref {name}")
        descriptor = Descriptor.from_json(ref, f"store ref {name}")
        if descriptor.media_type not in INDEX_TYPES:
            return _load_manifest(store, descriptor, where)
        data = read_document_blob(store.blob_path(descriptor.digest), descriptor, f"index of {where}")
        if platform:
            return _load_manifest(store, select_platform(load_document(data, where), platform, f"index of {where}"), where)
        entries = parse_index(data, f"index of {where}")
        children = [_load_manifest(store, entry, f"{where}, entry {n}") for n, entry in enumerate(entries, 1)]
    except (FileNotFoundError, NotADirectoryError):
        return None
    for n, (entry, child) in enumerate(zip(entries, children), 1):
        check_child(entry, child, f"index of {where}, entry {n}")
    return ImageIndex(data, tuple(children))


def read(location: StoreLocation, context) -> Image:
    return _read(location, context.platform)


def read_all(location: StoreLocation, context) -> Image | ImageIndex:
    return _read(location, None)


def _read(location: StoreLocation, platform: dict | None) -> Image | ImageIndex:
    image = load_image(Store(), location.name, platform)
    if image is None:
        raise UsageError(f"nothing in the local store under {location.name}", "list it with s2i stack list, or build it first")
    return image


def prepare(location: StoreLocation, context) -> None:
    pass


def write(location: StoreLocation, image: Image, context) -> Published:
    save_image(Store(), location.name, image)
    log(f"saved in the local store; run it with: s2i run {location}")
    return Published(str(location), image.digest)


def write_index(location: StoreLocation, index: ImageIndex, context) -> Published:
    return write(location, index, context)
