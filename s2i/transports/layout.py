"""Reads and writes OCI image layouts (`oci:DIR:TAG`), the format skopeo and umoci share."""

from __future__ import annotations

import json
from pathlib import Path

from s2i.errors import S2IError
from s2i.files import atomic_file, atomic_write
from s2i.oci.image import (
    FileBlob,
    Image,
    assemble,
    copy_checked,
    file_matches,
    open_regular,
    parse_manifest,
    read_document_blob,
    select_platform,
)
from s2i.oci.index import ImageIndex, check_child, parse_index
from s2i.oci.reference import LayoutLocation
from s2i.oci.types import (
    ANNOTATION_REF_NAME,
    INDEX_TYPES,
    MAX_DOCUMENT,
    OCI_INDEX,
    Descriptor,
    blob_path,
    canonical_json,
    load_document,
)
from s2i.transports import Published

LAYOUT_VERSION = {"imageLayoutVersion": "1.0.0"}


def _read_index(root: Path) -> dict:
    try:
        with open_regular(root / "index.json") as handle:
            index = load_document(handle.read(MAX_DOCUMENT + 1), f"{root}/index.json")
    except FileNotFoundError:
        raise S2IError(f"{root} is not an OCI layout (no index.json)", "check the oci:DIR path") from None
    entries = index.get("manifests", [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise S2IError(f"{root}/index.json: manifests is not a list of objects", "recreate the layout")
    return index


def _ref_name(entry: dict) -> str:
    annotations = entry.get("annotations")
    name = annotations.get(ANNOTATION_REF_NAME) if isinstance(annotations, dict) else None
    return name if isinstance(name, str) else ""


def _tagged(root: Path, tag: str) -> tuple[Descriptor, str]:
    entries = _read_index(root).get("manifests", [])
    matches = [e for e in entries if _ref_name(e) == tag]
    if not matches:
        tags = sorted({_ref_name(e) for e in entries} - {""})
        raise S2IError(f"no tag {tag!r} in OCI layout {root}", f"use one of: {', '.join(tags) or 'none'}")
    return Descriptor.from_json(matches[0], f"{root}/index.json, tag {tag}"), f"oci:{root}:{tag}"


def _read_blob(root: Path, descriptor: Descriptor, where: str) -> bytes:
    try:
        return read_document_blob(blob_path(root, descriptor.digest), descriptor, where)
    except FileNotFoundError as exc:
        raise S2IError(f"{where}: blob {Path(exc.filename).name} is missing from the layout", "recreate the layout") from None


def _read_manifest(root: Path, descriptor: Descriptor, where: str) -> Image:
    data = _read_blob(root, descriptor, f"manifest of {where}")
    config, layers = parse_manifest(data, f"manifest of {where}")
    config_bytes = _read_blob(root, config, f"config of {where}")
    sources = [FileBlob(blob_path(root, layer.digest), digest=layer.digest, size=layer.size) for layer in layers]
    return assemble(data, config_bytes, sources, where=where)


def read_image(root: Path, tag: str, platform: dict) -> Image:
    descriptor, where = _tagged(root, tag)
    if descriptor.media_type in INDEX_TYPES:
        data = _read_blob(root, descriptor, f"index of {where}")
        descriptor = select_platform(load_document(data, f"index of {where}"), platform, f"index of {where}")
    return _read_manifest(root, descriptor, where)


def _copy_blob(root: Path, descriptor: Descriptor, source) -> None:
    """Hash while copying; a blob whose bytes do not match its digest never reaches its final path."""
    target = blob_path(root, descriptor.digest)
    if not file_matches(target, descriptor):
        with atomic_file(target) as out:
            copy_checked(source, out, descriptor, f"copying to {root}")


def _write_blobs(root: Path, image: Image) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for layer in image.layers:
        _copy_blob(root, layer.descriptor, layer.source)
    atomic_write(blob_path(root, image.config_descriptor.digest), image.config_bytes)
    atomic_write(blob_path(root, image.digest), image.manifest_bytes)


def _tag(root: Path, tag: str, value: Image | ImageIndex) -> Descriptor:
    """Point `tag` in index.json at a manifest or index whose blobs are all in place."""
    atomic_write(root / "oci-layout", canonical_json(LAYOUT_VERSION))
    index = _read_index(root) if (root / "index.json").exists() else {"schemaVersion": 2, "manifests": []}
    index["mediaType"] = OCI_INDEX
    kept = [e for e in index.get("manifests", []) if _ref_name(e) != tag]
    descriptor = Descriptor(value.media_type, value.digest, len(value.manifest_bytes), {ANNOTATION_REF_NAME: tag})
    index["manifests"] = kept + [descriptor.to_json()]
    atomic_write(root / "index.json", json.dumps(index, indent=2).encode())
    return descriptor


def write_image(root: Path, tag: str, image: Image) -> Descriptor:
    """Blobs first, index.json last, so a reader never sees a tag with missing blobs."""
    _write_blobs(root, image)
    return _tag(root, tag, image)


def write_image_index(root: Path, tag: str, index: ImageIndex) -> Descriptor:
    """Every child's blobs and manifest, then the index blob, then the tag."""
    for child in index.children:
        _write_blobs(root, child)
    atomic_write(blob_path(root, index.digest), index.manifest_bytes)
    return _tag(root, tag, index)


def read_whole(root: Path, tag: str) -> Image | ImageIndex:
    """The index a tag names with every child checked, or its one image."""
    descriptor, where = _tagged(root, tag)
    if descriptor.media_type not in INDEX_TYPES:
        return read_image(root, tag, {})
    data = _read_blob(root, descriptor, f"index of {where}")
    children = []
    for n, entry in enumerate(parse_index(data, f"index of {where}"), 1):
        child = _read_manifest(root, entry, f"{where}, entry {n}")
        check_child(entry, child, f"index of {where}, entry {n}")
        children.append(child)
    return ImageIndex(data, tuple(children))


def read(location: LayoutLocation, context) -> Image:
    return read_image(location.path, location.tag, context.platform)


def read_all(location: LayoutLocation, context) -> Image | ImageIndex:
    return read_whole(location.path, location.tag)


def prepare(location: LayoutLocation, context) -> None:
    pass


def write(location: LayoutLocation, image: Image, context) -> Published:
    write_image(location.path, location.tag, image)
    return Published(str(location), image.digest)


def write_index(location: LayoutLocation, index: ImageIndex, context) -> Published:
    write_image_index(location.path, location.tag, index)
    return Published(str(location), index.digest)
