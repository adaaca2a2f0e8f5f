"""Wires detect -> plan -> build -> layers -> image -> publish for `s2i build`; no logic of its own."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from s2i.appconfig import AppConfig, load_app_config, override
from s2i.archive.layer import write_layer
from s2i.archive.tarwriter import TarOptions
from s2i.buildrun import app_cache_dir, run_build
from s2i.detect import Detection, detect
from s2i.errors import UsageError
from s2i.oci.image import FileBlob, Image, Layer
from s2i.oci.mutate import ConfigChanges, append_layers
from s2i.oci.reference import RegistryLocation, StoreLocation, parse_location, parse_reference
from s2i.oci.types import layer_media_type
from s2i.plan import BuildPlan, make_plan
from s2i.progress import log
from s2i.publish import Context, Published, check_destination, check_reachable, read_image, write_image
from s2i.rootfs import unpack_image
from s2i.source import copy_source
from s2i.stack import Stack, find_stack, load_stack
from s2i.stack_commands import ensure_stack_image
from s2i.store import Store


@dataclass(frozen=True)
class BuildOptions:
    app: Path
    destination: str | None
    flags: AppConfig
    buildpack: str | None = None
    compression: str = "gzip"
    log_file: Path | None = None


def git_info(app: Path) -> dict[str, str]:
    def git(*args: str) -> str:
        result = subprocess.run(["git", "-C", str(app), *args], capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    if not git("rev-parse", "--is-inside-work-tree"):
        return {}
    return {"source": git("config", "--get", "remote.origin.url"), "revision": git("rev-parse", "HEAD"), "time": git("log", "-1", "--format=%ct")}


def default_created(git: dict[str, str]) -> int:
    """SOURCE_DATE_EPOCH, else the last commit's time, else 0: never the clock."""
    value = os.environ.get("SOURCE_DATE_EPOCH") or git.get("time") or "0"
    return int(value) if value.isdigit() else 0


def layer_key(plan: BuildPlan, spec, app: Path, builder_digest: str) -> str:
    """What a reusable layer depends on: its key files, the builder, the buildpack, the build env, the time."""
    digest = hashlib.sha256()
    for part in (plan.buildpack.name, plan.buildpack.version, builder_digest, spec.name, repr(plan.build_env), str(plan.created)):
        digest.update(part.encode() + b"\0")
    for name in spec.key_files:
        path = app / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"<absent>") + b"\0")
    return "sha256:" + digest.hexdigest()


def _layer_meta(output: Path, name: str) -> dict:
    """Facts a layer's build step recorded (labels such as resolved versions), kept with the reused layer."""
    path = output / "meta" / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def default_destination(app: Path) -> str:
    return f"store:builds/{app.resolve().name or 'app'}"


def image_changes(plan: BuildPlan, launch: dict) -> ConfigChanges:
    entrypoint = plan.entrypoint or tuple(launch.get("entrypoint") or ()) or None
    if not entrypoint and not plan.cmd:
        raise UsageError(
            f"the {plan.buildpack.name} build found no entry point",
            "name one: entrypoint = [...] in s2i.toml or --entrypoint (python: a Procfile web: line, [project.scripts], app.py or main.py)",
        )
    return ConfigChanges(
        entrypoint=entrypoint,
        cmd=plan.cmd if plan.cmd is not None else (tuple(launch["cmd"]) if launch.get("cmd") else None),
        env=tuple(sorted(launch.get("env", {}).items())) + plan.env,
        workdir=launch.get("workdir"),
        user=plan.user,
        ports=plan.ports,
        labels=(("io.s2i.buildpack", f"{plan.buildpack.name}@{plan.buildpack.version}"), ("io.s2i.stack", plan.stack),
                *sorted(launch.get("labels", {}).items())),
        created_by=f"s2i build ({plan.buildpack.name})",
        annotations=dict(plan.annotations),
    )


def build(options: BuildOptions, context: Context) -> Published:
    app = options.app
    destination = parse_location(options.destination or default_destination(app))
    check_destination(destination)
    check_reachable(destination, context)
    config = override(load_app_config(app), options.flags)
    detection: Detection = detect(app, options.buildpack)
    log(f"detected {detection.buildpack.name}: {'; '.join(detection.reasons)}")
    stack = load_stack(find_stack(config.stack))
    git = git_info(app)
    created = default_created(git)
    plan = make_plan(detection.buildpack, detection.reasons, config, stack, dict(os.environ), created,
                     {"source": git.get("source", ""), "revision": git.get("revision", "")})
    store = Store()
    run_base, base_name = _run_base(plan, stack, context, store)
    builder = ensure_stack_image(stack, "builder", context, store)
    rootfs = unpack_image(builder, store)
    with ExitStack() as cleanup:
        work = Path(cleanup.enter_context(tempfile.TemporaryDirectory(dir=store.root, prefix=".build-")))
        (work / "workspace").mkdir()
        copy_source(app, work / "workspace", config.include, config.exclude)
        log_handle = cleanup.enter_context(open(options.log_file, "w")) if options.log_file else None
        cache = app_cache_dir(store.root / "builds", app, plan.buildpack.name)
        keys = {spec.name: layer_key(plan, spec, app, builder.digest) for spec in plan.layers if spec.key_files}
        reusable = {name: record for name, key in keys.items() if (record := store.keyed_layer(key))}
        for name in reusable:
            log(f"reusing the {name} layer: its inputs are unchanged")
        output = run_build(plan, rootfs, work / "workspace", work / "out", cache, log_handle, frozenset(reusable))
        family = run_base.family if run_base.layers else "oci"
        media_type = layer_media_type(family, options.compression)
        layers, labels = [], dict(output.launch.get("labels", {}))
        for name, directory in output.layers:
            if name in reusable:
                descriptor, diff_id, meta = reusable[name]
            else:
                blob = write_layer(directory, store, media_type, options.compression, TarOptions(mtime=created))
                descriptor, diff_id, meta = blob.descriptor, blob.diff_id, _layer_meta(work / "out", name)
                if name in keys:
                    store.remember_keyed_layer(keys[name], descriptor, diff_id, meta)
            labels.update(meta.get("labels", {}))
            log(f"layer {name}: {descriptor.digest} ({descriptor.size} bytes)")
            layers.append(Layer(descriptor, diff_id, FileBlob(store.blob_path(descriptor.digest))))
    launch = {**output.launch, "labels": labels}
    image = append_layers(run_base, layers, image_changes(plan, launch), created=created, base_name=base_name)
    published = write_image(destination, image, context)
    if isinstance(destination, StoreLocation):
        log(f"built into the local store; run it with: s2i run {destination}")
    return published


def _run_base(plan: BuildPlan, stack: Stack, context: Context, store: Store) -> tuple[Image, str | None]:
    """The base image and, when it lives in a registry, the name rebasing tools will look for."""
    if plan.run_image.stack_base:
        reference = stack.bases[plan.run_image.name].image
        return ensure_stack_image(stack, plan.run_image.name, context, store), reference
    return read_image(RegistryLocation(parse_reference(plan.run_image.name)), context), plan.run_image.name
