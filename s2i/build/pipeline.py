"""Wires detect -> plan -> build -> layers -> image -> publish for `s2i build`; no logic of its own."""

from __future__ import annotations

import glob
import os
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from s2i.archive.tarwriter import source_date_epoch
from s2i.build.config import AppConfig, load_app_config, override
from s2i.build.detect import detect
from s2i.build.git import git_info
from s2i.build.layers import export_layers, layer_keys, restore_layers, reusable_layers
from s2i.build.limits import Limits
from s2i.build.packages import PackageIndex, extra_run_layers, with_build_packages
from s2i.build.plan import BuildPlan, image_changes, make_plan
from s2i.build.runner import app_cache_dir, run_build
from s2i.build.runtime import choose_runtime
from s2i.build.source import copy_source
from s2i.buildpacks import check_settings
from s2i.oci.image import Image
from s2i.oci.mutate import append_layers
from s2i.oci.reference import parse_location
from s2i.oci.types import layer_media_type
from s2i.progress import log
from s2i.stack.files import Stack
from s2i.stack.images import ensure_stack_image
from s2i.stack.rootfs import unpack_image
from s2i.store import Store
from s2i.transports import Context, Published, prepare_destination, read_image, write_image


@dataclass(frozen=True)
class BuildOptions:
    app: Path
    destination: str | None
    flags: AppConfig
    buildpack: str | None = None
    compression: str = "gzip"
    log_file: Path | None = None
    secrets: tuple[tuple[str, Path], ...] = ()  # (id, file): mounted at /run/secrets/ID for the build only
    network: str = "default"  # see s2i.build.sandbox.NETWORK_NOTES
    build_timeout: float = 1800
    isolation: str = "auto"  # see s2i.build.isolation.choose


def default_destination(app: Path) -> str:
    return f"store:builds/{app.resolve().name or 'app'}"


def build(options: BuildOptions, context: Context) -> Published:
    app = options.app
    destination = parse_location(options.destination or default_destination(app))
    prepare_destination(destination, context)
    config = override(load_app_config(app), options.flags)
    detection = detect(app, options.buildpack or config.buildpack, "--buildpack" if options.buildpack else "s2i.toml buildpack")
    buildpack = detection.buildpack
    log(f"detected {buildpack.name}: {'; '.join(detection.reasons)}")
    settings = check_settings(buildpack, config.settings)
    git = git_info(app)
    created = source_date_epoch(fallback=int(git.get("time") or 0))
    store = Store()
    with ExitStack() as cleanup:
        work = Path(cleanup.enter_context(tempfile.TemporaryDirectory(dir=store.root, prefix=".build-")))
        workspace = work / "workspace"
        workspace.mkdir()
        copy_source(app, workspace, config.include, config.exclude + secret_excludes(app, options.secrets))
        stack, runtime = choose_runtime(buildpack, workspace, settings, config.stack)  # before any download: may refuse
        if runtime:
            log(f"runtime: {runtime.describe()}")
        packages = PackageIndex(stack, store)
        packages.check(config.build_packages, "build.packages (s2i.toml, --build-package)")  # before any download
        packages.check(config.run_packages, "run.packages (s2i.toml, --run-package)")
        decision = {**buildpack.decide(workspace, settings), **({"runtime": runtime.step_input()} if runtime else {})}
        plan = make_plan(buildpack, detection.reasons, config, stack, dict(os.environ), created,
                         {"source": git.get("source", ""), "revision": git.get("revision", "")}, decision)
        run_base = _run_base(plan, stack, context, store)
        builder = ensure_stack_image(stack, "builder", context, store)
        rootfs, build_labels = with_build_packages(unpack_image(builder, store), config.build_packages, packages, store)
        log_handle = cleanup.enter_context(open(options.log_file, "w")) if options.log_file else None
        cache = app_cache_dir(store.root / "builds", app, buildpack.name)
        # the copy the build sees, ignore files applied; the builder with the packages added to it
        keys = layer_keys(plan, workspace, builder.digest + (f" {rootfs.name}" if build_labels else ""))
        reusable = reusable_layers(store, keys)
        closure = buildpack.native_closure and plan.run_image.stack_base  # a stack's base is local: its libraries are known
        if reusable and (plan.step_input.get("needs_dependencies") or closure):
            restore_layers(store, reusable, work / "out" / "layers")
        output = run_build(plan, rootfs, workspace, work / "out", cache, log_handle, frozenset(reusable), options.secrets,
                           options.network, Limits(seconds=options.build_timeout), options.isolation)
        media_type = layer_media_type(run_base.family if run_base.layers else "oci", options.compression)
        layers, labels = export_layers(output.layers, work / "out", store, media_type, options.compression, plan.layer_mtime, keys, reusable,
                                       {"app": plan.app_owner} if plan.app_owner else {})
        run_layers, run_labels = extra_run_layers(config.run_packages, output, run_base, rootfs, packages, store, closure,
                                                  plan.layer_mtime, options.compression)
    launch = {**output.launch, "labels": {**output.launch.get("labels", {}), **labels, **build_labels, **run_labels}}
    image = append_layers(run_base, [*run_layers, *layers], image_changes(plan, launch), created=created, base_name=_base_name(plan, stack))
    return write_image(destination, image, context)


def secret_excludes(app: Path, secrets: tuple[tuple[str, Path], ...]) -> tuple[str, ...]:
    """Patterns for the secret files kept inside the app, so the source copy (and so no layer) holds them."""
    root = app.resolve()
    return tuple(glob.escape(path.relative_to(root).as_posix()) for _, path in secrets if path.is_relative_to(root))


def _run_base(plan: BuildPlan, stack: Stack, context: Context, store: Store) -> Image:
    if plan.run_image.stack_base:
        return ensure_stack_image(stack, plan.run_image.name, context, store)
    return read_image(parse_location(plan.run_image.name), context)


def _base_name(plan: BuildPlan, stack: Stack) -> str | None:
    """The name rebasing tools look for, when the base lives in a registry."""
    if plan.run_image.stack_base:
        return stack.bases[plan.run_image.name].image
    return parse_location(plan.run_image.name).base_name
