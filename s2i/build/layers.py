"""Turns a build's output directories into layers: reused by key when their inputs are unchanged."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from s2i.archive.layer import open_uncompressed, write_layer
from s2i.archive.tarwriter import TarOptions
from s2i.build.closure import layer_scan, valid_scan
from s2i.build.output import META_KEYS, check_keys, read_json
from s2i.build.plan import BuildPlan
from s2i.build.proxy import PROXY_VARIABLES
from s2i.build.source import resolve_inside
from s2i.buildpacks import LayerSpec
from s2i.files import atomic_write, open_regular, read_small
from s2i.oci.image import Layer
from s2i.progress import log
from s2i.stack.rootfs import unpack_layer, unpack_limit, unpack_tar_stream
from s2i.store import Store, remove_tree

CLOSURE_SCAN_VERSION = "1"  # bump when closure.layer_scan finds more, so kept scans are not reused


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


def closure_scans(store: Store, output_layers, layers: list[Layer], keys: dict[str, str], reusable: dict) -> list[dict]:
    """Each layer's closure scan; a keyed layer's is kept by its diff_id, so a reused one is neither unpacked nor read again."""
    scans = []
    for (name, directory), layer in zip(output_layers, layers):
        scan = kept_scan(store, layer.diff_id) if name in keys else None
        if scan is None:
            scan = _scan_blob(store, name, layer) if name in reusable else layer_scan(directory)
            if name in keys:
                keep_scan(store, layer.diff_id, scan)
        scans.append(scan)
    return scans


def _scan_path(store: Store, diff_id: str) -> Path:
    return store.root / "closure" / f"{diff_id.replace(':', '-')}-v{CLOSURE_SCAN_VERSION}.json"


def kept_scan(store: Store, diff_id: str) -> dict | None:
    """The closure scan kept for a layer's tar (None when absent or damaged: it is scanned again)."""
    text = read_small(_scan_path(store, diff_id), 64 << 20)
    try:
        scan = json.loads(text) if text is not None else None
    except ValueError:
        scan = None
    return scan if valid_scan(scan) else None


def keep_scan(store: Store, diff_id: str, scan: dict) -> None:
    atomic_write(_scan_path(store, diff_id), json.dumps(scan, sort_keys=True).encode())


def _scan_blob(store: Store, name: str, layer: Layer) -> dict:
    """A reused layer scanned before scans were kept (or one --cache brought): unpacked aside, checked, once."""
    log(f"scanning the reused {name} layer's native code once (the scan is kept for the next builds)")
    temp = Path(tempfile.mkdtemp(dir=store.root, prefix=".build-scan-"))
    try:
        unpack_layer(str(temp), store.blob_path(layer.descriptor.digest), layer, unpack_limit())
        return layer_scan(temp)
    finally:
        remove_tree(temp)
