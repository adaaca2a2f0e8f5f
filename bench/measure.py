"""What a pushed image weighs: its manifest through skopeo, its layers decompressed from the registry's storage."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import zstandard

from tools import Registry, run


def manifest(ref: str, log: Path) -> dict:
    return json.loads(run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"], log))


def _open_layer(path: Path, media_type: str):
    if media_type.endswith("zstd"):
        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)
    if "gzip" in media_type or media_type.endswith(".tar.gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def uncompressed_size(path: Path, media_type: str) -> int:
    """Bytes of the layer's tar, by streaming it through its decompressor."""
    total = 0
    with _open_layer(path, media_type) as reader:
        while chunk := reader.read(1 << 20):
            total += len(chunk)
    return total


def image_facts(registry: Registry, ref: str, log: Path) -> dict:
    """Layer count, compressed and uncompressed size, and the layer digests of the image pushed as ref."""
    layers = manifest(ref, log)["layers"]
    return {
        "layers": len(layers),
        "compressed": sum(layer["size"] for layer in layers),
        "uncompressed": sum(uncompressed_size(registry.blob_path(layer["digest"]), layer["mediaType"]) for layer in layers),
        "layer_sizes": {layer["digest"]: layer["size"] for layer in layers},
    }


def changed_layer_bytes(before: dict, after: dict) -> int:
    """Compressed bytes of the layers the new image has and the previous one had not."""
    return sum(size for digest, size in after["layer_sizes"].items() if digest not in before["layer_sizes"])
