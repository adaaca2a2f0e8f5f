"""Reads and writes OCI image layouts (`oci:DIR:TAG`), the format skopeo and umoci share."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from s2i.errors import S2IError
from s2i.files import atomic_file, atomic_write
from s2i.oci.image import FileBlob, Image, assemble, select_platform
from s2i.oci.reference import LayoutLocation
from s2i.transports import Published
from s2i.oci.types import ANNOTATION_REF_NAME, INDEX_TYPES, OCI_INDEX, Descriptor, canonical_json, sha256_digest

LAYOUT_VERSION = {"imageLayoutVersion": "1.0.0"}


def _blob_path(root: Path, digest: str) -> Path:
    algorithm, _, hexdigest = digest.partition(":")
    return root / "blobs" / algorithm / hexdigest


def _read_index(root: Path) -> dict:
    try:
        return json.loads((root / "index.json").read_text())
    except FileNotFoundError:
        raise S2IError(f"{root} is not an OCI layout (no index.json)", "check the oci:DIR path") from None
    except ValueError as exc:
        raise S2IError(f"{root}/index.json is not valid JSON: {exc}", "recreate the layout") from None


def read_image(root: Path, tag: str, platform: dict) -> Image:
    index = _read_index(root)
    entries = index.get("manifests", [])
    matches = [e for e in entries if (e.get("annotations") or {}).get(ANNOTATION_REF_NAME) == tag]
    if not matches:
        tags = sorted({(e.get("annotations") or {}).get(ANNOTATION_REF_NAME, "") for e in entries} - {""})
        raise S2IError(f"no tag {tag!r} in OCI layout {root}", f"use one of: {', '.join(tags) or 'none'}")
    descriptor = Descriptor.from_json(matches[0])
    data = _blob_path(root, descriptor.digest).read_bytes()
    if descriptor.media_type in INDEX_TYPES:
        descriptor = select_platform(json.loads(data), platform)
        data = _blob_path(root, descriptor.digest).read_bytes()
    if sha256_digest(data) != descriptor.digest:
        raise S2IError(f"manifest {descriptor.digest} in {root} is corrupt", "recreate the layout")
    manifest = json.loads(data)
    config_bytes = _blob_path(root, manifest["config"]["digest"]).read_bytes()
    sources = [FileBlob(_blob_path(root, layer["digest"])) for layer in manifest.get("layers", [])]
    return assemble(data, config_bytes, sources)


def _copy_blob(root: Path, descriptor: Descriptor, source) -> None:
    target = _blob_path(root, descriptor.digest)
    if target.exists() and target.stat().st_size == descriptor.size:
        return
    with atomic_file(target) as out, source.open() as handle:
        shutil.copyfileobj(handle, out, 1 << 20)
        if out.tell() != descriptor.size:
            raise S2IError(f"blob {descriptor.digest} came out the wrong size", "fetch the source image again")


def write_image(root: Path, tag: str, image: Image) -> Descriptor:
    """Blobs first, index.json last, so a reader never sees a tag with missing blobs."""
    root.mkdir(parents=True, exist_ok=True)
    for layer in image.layers:
        _copy_blob(root, layer.descriptor, layer.source)
    atomic_write(_blob_path(root, image.config_descriptor.digest), image.config_bytes)
    atomic_write(_blob_path(root, image.digest), image.manifest_bytes)
    atomic_write(root / "oci-layout", canonical_json(LAYOUT_VERSION))
    index = _read_index(root) if (root / "index.json").exists() else {"schemaVersion": 2, "manifests": []}
    index["mediaType"] = OCI_INDEX
    kept = [e for e in index.get("manifests", []) if (e.get("annotations") or {}).get(ANNOTATION_REF_NAME) != tag]
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
