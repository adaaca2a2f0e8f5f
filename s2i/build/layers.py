"""Turns a build's output directories into layers: reused by key when their inputs are unchanged."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from s2i.archive.layer import open_uncompressed, write_layer
from s2i.archive.tarwriter import TarOptions
from s2i.build.output import META_KEYS, check_keys, read_json
from s2i.build.plan import BuildPlan
from s2i.build.proxy import PROXY_VARIABLES
from s2i.build.source import resolve_inside
from s2i.buildpacks import LayerSpec
from s2i.files import open_regular
from s2i.oci.image import Layer
from s2i.progress import log
from s2i.stack.rootfs import unpack_tar_stream
from s2i.store import Store


def layer_key(plan: BuildPlan, spec: LayerSpec, app: Path, builder_digest: str) -> str:
    """What a reusable layer depends on: its key files, the builder, the buildpack, the build env, its files' mtime."""
    digest = hashlib.sha256()
    env = tuple(pair for pair in plan.build_env if pair[0] not in PROXY_VARIABLES)  # the way out, not what comes in
    for part in (plan.buildpack.name, plan.buildpack.version, builder_digest, spec.name, repr(env), str(plan.layer_mtime)):
        digest.update(part.encode() + b"\0")
    for name in spec.key_files:
        digest.update(name.encode() + b"\0" + _key_file(app, name) + b"\0")
    return "sha256:" + digest.hexdigest()


def _key_file(app: Path, name: str) -> bytes:
    """A key file's bytes from the build's copy of the source: links only inside it, no FIFO waited on."""
    rel = resolve_inside(app, name)
    if rel is None:  # a link out of the app: the copy refuses it, the key never reads it
        return b"<absent>"
    try:
        with os.fdopen(open_regular(app / rel), "rb") as handle:
            return handle.read()
    except OSError:
        return b"<absent>"


def layer_keys(plan: BuildPlan, app: Path, builder_digest: str) -> dict[str, str]:
    return {spec.name: layer_key(plan, spec, app, builder_digest) for spec in plan.layers if spec.key_files}


def reusable_layers(store: Store, keys: dict[str, str]) -> dict:
    """name -> (descriptor, diff_id, meta) of each layer the store already holds under its key."""
    reusable = {name: record for name, key in keys.items() if (record := store.keyed_layer(key))}
    for name in reusable:
        log(f"reusing the {name} layer: its inputs are unchanged")
    return reusable


def restore_layers(store: Store, reusable: dict, layers_dir: Path) -> None:
    """Unpack reused layers where the build mounts them, for steps that run the app's code (collectstatic)."""
    for name, (descriptor, _diff_id, _meta) in reusable.items():
        with store.blob(descriptor).open() as handle:
            unpack_tar_stream(str(layers_dir / name), open_uncompressed(handle, descriptor.media_type))


def _layer_meta(output: Path, name: str) -> dict:
    """Facts a layer's build step recorded (labels such as resolved versions), kept with the reused layer."""
    rel = f"meta/{name}.json"
    return check_keys(read_json(output, rel) or {}, rel, META_KEYS)


def export_layers(output_layers, output: Path, store: Store, media_type: str, compression: str, mtime: int,
                  keys: dict[str, str], reusable: dict, owners: dict[str, tuple[int, int]]) -> tuple[list[Layer], dict[str, str]]:
    """(layers bottom first, labels the layers' steps recorded); `owners` gives a layer's files an owner other than root."""
    layers, labels = [], {}
    for name, directory in output_layers:
        if name in reusable:
            descriptor, diff_id, meta = reusable[name]
        else:
            uid, gid = owners.get(name, (0, 0))
            blob = write_layer(directory, store, media_type, compression, TarOptions(mtime=mtime, uid=uid, gid=gid))
            descriptor, diff_id, meta = blob.descriptor, blob.diff_id, _layer_meta(output, name)
            if name in keys:
                store.remember_keyed_layer(keys[name], descriptor, diff_id, meta)
        labels.update(meta.get("labels", {}))
        log(f"layer {name}: {descriptor.digest} ({descriptor.size} bytes)")
        layers.append(Layer(descriptor, diff_id, store.blob(descriptor)))
    return layers, labels
