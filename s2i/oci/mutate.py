"""Derives new images from old ones: append layers, change the config; never edits in place."""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from s2i.oci.image import Image, Layer
from s2i.oci.types import (
    ANNOTATION_BASE_DIGEST,
    ANNOTATION_BASE_LAYERS,
    ANNOTATION_BASE_NAME,
    DOCKER_CONFIG,
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_MANIFEST,
    Descriptor,
    canonical_json,
    sha256_digest,
)


@dataclass(frozen=True)
class ConfigChanges:
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()
    workdir: str | None = None
    user: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    ports: tuple[str, ...] = ()
    created_by: str = "s2i"
    annotations: dict = field(default_factory=dict)


def iso_time(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def merge_env(base: list[str], updates: tuple[tuple[str, str], ...]) -> list[str]:
    """Later values win, keeping each variable at its first position."""
    merged = {entry.partition("=")[0]: entry for entry in base}
    for key, value in updates:
        merged[key] = f"{key}={value}"
    return list(merged.values())


def _runtime_config(base: dict, changes: ConfigChanges) -> dict:
    runtime = copy.deepcopy(base or {})
    if changes.entrypoint is not None:
        runtime["Entrypoint"] = list(changes.entrypoint)
        # as in a Dockerfile: a new entrypoint drops the base's arguments
        runtime.pop("Cmd", None)
    if changes.cmd is not None:
        runtime["Cmd"] = list(changes.cmd)
    if changes.env:
        runtime["Env"] = merge_env(runtime.get("Env") or [], changes.env)
    if changes.workdir is not None:
        runtime["WorkingDir"] = changes.workdir
    if changes.user is not None:
        runtime["User"] = changes.user
    if changes.labels:
        runtime["Labels"] = {**(runtime.get("Labels") or {}), **dict(changes.labels)}
    if changes.ports:
        ports = dict(runtime.get("ExposedPorts") or {})
        for port in changes.ports:
            ports[port if "/" in port else f"{port}/tcp"] = {}
        runtime["ExposedPorts"] = ports
    return {key: value for key, value in runtime.items() if value not in (None, [], {})}


def append_layers(
    base: Image,
    layers: list[Layer],
    changes: ConfigChanges = ConfigChanges(),
    *,
    created: int = 0,
    base_name: str | None = None,
    layer_names: Sequence[str] = (),
) -> Image:
    """A new image: base layers untouched, `layers` on top, config and manifest rewritten.

    `layer_names` (one per layer) go into each layer's history entry, so `inspect --layers` can say what made it."""
    config = copy.deepcopy(base.config)
    config["created"] = iso_time(created)
    config["config"] = _runtime_config(config.get("config") or {}, changes)
    rootfs = config.setdefault("rootfs", {"type": "layers", "diff_ids": []})
    rootfs["diff_ids"] = list(rootfs.get("diff_ids", [])) + [layer.diff_id for layer in layers]
    history = list(config.get("history") or [])
    names = list(layer_names) or [""] * len(layers)
    history += [{"created": iso_time(created), "created_by": f"{changes.created_by}: {name}" if name else changes.created_by} for name in names]
    if not layers:
        history.append({"created": iso_time(created), "created_by": changes.created_by, "empty_layer": True})
    config["history"] = history
    config_bytes = canonical_json(config)

    docker = base.media_type == DOCKER_MANIFEST and bool(base.layers)
    annotations = dict(base.manifest.get("annotations") or {})
    for key in (ANNOTATION_BASE_NAME, ANNOTATION_BASE_DIGEST, ANNOTATION_BASE_LAYERS):
        annotations.pop(key, None)
    if base.layers:
        annotations[ANNOTATION_BASE_DIGEST] = base.digest
        annotations[ANNOTATION_BASE_LAYERS] = str(len(base.layers))
        if base_name:
            annotations[ANNOTATION_BASE_NAME] = base_name
    annotations.update(changes.annotations)
    manifest = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
        "config": Descriptor(DOCKER_CONFIG if docker else OCI_CONFIG, sha256_digest(config_bytes), len(config_bytes)).to_json(),
        "layers": list(base.manifest.get("layers", [])) + [layer.descriptor.to_json() for layer in layers],
    }
    if annotations:
        manifest["annotations"] = annotations
    return Image(canonical_json(manifest), config_bytes, base.layers + tuple(layers))
