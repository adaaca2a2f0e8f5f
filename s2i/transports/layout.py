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


def read_image(root: Path, tag: str, platform: dict) -> Image:
    index = _read_index(root)
    entries = index.get("manifests", [])
    matches = [e for e in entries if _ref_name(e) == tag]
    if not matches:
        tags = sorted({_ref_name(e) for e in entries} - {""})
        raise S2IError(f"no tag {tag!r} in OCI layout {root}", f"use one of: {', '.join(tags) or 'none'}")
    where = f"oci:{root}:{tag}"
    descriptor = Descriptor.from_json(matches[0], f"{root}/index.json, tag {tag}")
    try:
        data = read_document_blob(blob_path(root, descriptor.digest), descriptor, f"manifest of {where}")
        if descriptor.media_type in INDEX_TYPES:
            descriptor = select_platform(load_document(data, f"index of {where}"), platform, f"index of {where}")
            data = read_document_blob(blob_path(root, descriptor.digest), descriptor, f"manifest of {where}")
        config, layers = parse_manifest(data, f"manifest of {where}")
        config_bytes = read_document_blob(blob_path(root, config.digest), config, f"config of {where}")
    except FileNotFoundError as exc:
        raise S2IError(f"{where}: blob {Path(exc.filename).name} is missing from the layout", "recreate the layout") from None
    sources = [FileBlob(blob_path(root, layer.digest), digest=layer.digest, size=layer.size) for layer in layers]
    return assemble(data, config_bytes, sources, where=where)


def _copy_blob(root: Path, descriptor: Descriptor, source) -> None:
    """Hash while copying; a blob whose bytes do not match its digest never reaches its final path."""
    target = blob_path(root, descriptor.digest)
    if not file_matches(target, descriptor):
        with atomic_file(target) as out:
            copy_checked(source, out, descriptor, f"copying to {root}")


def write_image(root: Path, tag: str, image: Image) -> Descriptor:
    """Blobs first, index.json last, so a reader never sees a tag with missing blobs."""
    root.mkdir(parents=True, exist_ok=True)
    for layer in image.layers:
        _copy_blob(root, layer.descriptor, layer.source)
    atomic_write(blob_path(root, image.config_descriptor.digest), image.config_bytes)
    atomic_write(blob_path(root, image.digest), image.manifest_bytes)
    atomic_write(root / "oci-layout", canonical_json(LAYOUT_VERSION))
    index = _read_index(root) if (root / "index.json").exists() else {"schemaVersion": 2, "manifests": []}
    index["mediaType"] = OCI_INDEX
    kept = [e for e in index.get("manifests", []) if _ref_name(e) != tag]
    descriptor = Descriptor(image.media_type, image.digest, len(image.manifest_bytes), {ANNOTATION_REF_NAME: tag})
    index["manifests"] = kept + [descriptor.to_json()]
    atomic_write(root / "index.json", json.dumps(index, indent=2).encode())
    return descriptor


def read(location: LayoutLocation, context) -> Image:
    return read_image(location.path, location.tag, context.platform)


def prepare(location: LayoutLocation, context) -> None:
    pass


def write(location: LayoutLocation, image: Image, context) -> Published:
    write_image(location.path, location.tag, image)
    return Published(str(location), image.digest)
