"""Wires detect -> plan -> build -> layers -> image -> publish for `s2i build`; no logic of its own."""

from __future__ import annotations

import glob
import os
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from s2i.archive.tarwriter import source_date_epoch
from s2i.build.config import AppConfig, load_app_config, override
from s2i.build.detect import Detection, detect
from s2i.build.git import git_info
from s2i.build.layers import closure_scans, export_layers, layer_keys, restore_layers, reusable_layers
from s2i.build.limits import Limits
from s2i.build.packages import PackageIndex, extra_run_layers, with_build_packages
from s2i.build.plan import BuildPlan, image_changes, make_plan
from s2i.build.proxy import announce_proxies
from s2i.build.remote_cache import RemoteCache, build_cache_key, parse_cache_repo
from s2i.build.runner import app_cache_dir, cache_seed, run_build
from s2i.build.runtime import RuntimeChoice, choose_runtime
from s2i.build.source import copy_source
from s2i.build.tools import tool_binds, tool_pins
from s2i.buildpacks import check_settings
from s2i.errors import UsageError
from s2i.files import atomic_write
from s2i.oci.image import Image
from s2i.oci.mutate import append_layers
from s2i.oci.reference import RegistryLocation, parse_destination, parse_location, repository_name
from s2i.oci.types import ANNOTATION_CREATED, layer_media_type
from s2i.progress import log
from s2i.sbom.make import image_sbom
from s2i.stack.files import Stack
from s2i.stack.images import ensure_stack_image
from s2i.stack.rootfs import unpack_image
from s2i.store import Store
from s2i.transports import (
    Context,
    Published,
    prepare_destination,
    read_image,
    write_image,
)
from s2i.transports.registry.referrers import artifact, push_referrer


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
    cache: str | None = None  # a registry repository shared by runners: see s2i.build.remote_cache
    sbom_file: Path | None = None  # also write the SBOM here
    sbom_format: str = "spdx"  # or cyclonedx
    tags: tuple[str, ...] = ()  # more tags for a registry DESTINATION, each naming the same manifest
    labels: tuple[tuple[str, str], ...] = ()  # --label: win over the buildpack's
    annotations: tuple[tuple[str, str], ...] = ()  # --annotation: manifest annotations, win over s2i's
    isolation: str = "auto"  # see s2i.build.isolation.choose


def default_destination(app: Path) -> str:
    return f"store:builds/{app.resolve().name or 'app'}"


def build(options: BuildOptions, context: Context) -> Published:
    app = options.app
    destination = parse_destination(options.destination or default_destination(app), options.tags)
    prepare_destination(destination, context)
    cache_repo = parse_cache_repo(options.cache) if options.cache else None
    config = override(load_app_config(app), options.flags)
    git = git_info(app)
    created = source_date_epoch(fallback=int(git.get("time") or 0))
    store = Store()
    with ExitStack() as cleanup:
        work = Path(cleanup.enter_context(tempfile.TemporaryDirectory(dir=store.root, prefix=".build-")))
        workspace = work / "workspace"
        workspace.mkdir()
        filtered_source(app, workspace, config, options.secrets)  # detection and build see the same tree
        chosen_by = "--buildpack" if options.buildpack else "s2i.toml buildpack"
        detection = detect(workspace, options.buildpack or config.buildpack, app, chosen_by)
        buildpack = detection.buildpack
        log(f"detected {buildpack.name}: {'; '.join(detection.reasons)}")
        settings = check_settings(buildpack, config.settings)
        stack, runtime = choose_runtime(buildpack, workspace, settings, config.stack)  # before any download: may refuse
        if runtime:
            log(f"runtime: {runtime.describe()}")
        packages = PackageIndex(stack, store)
        packages.check(config.build_packages, "build.packages (s2i.toml, --build-package)")  # before any download
        packages.check(config.run_packages, "run.packages (s2i.toml, --run-package)")
        decision = {**buildpack.decide(workspace, decide_settings(config, settings)), **({"runtime": runtime.step_input()} if runtime else {})}
        plan = make_plan(buildpack, detection.reasons, config, stack, dict(os.environ), created,
                         {"source": git.get("source", ""), "revision": git.get("revision", "")}, decision)
        announce_proxies(dict(plan.build_env), options.network)
        run_base = _run_base(plan, stack, context, store)
        builder = ensure_stack_image(stack, "builder", context, store)
        rootfs, build_labels = with_build_packages(unpack_image(builder, store), config.build_packages, packages)
        log_handle = cleanup.enter_context(open(options.log_file, "w")) if options.log_file else None
        cache = app_cache_dir(store.root / "builds", app, buildpack.name)
        # the copy the build sees, ignore files applied; the builder with the packages added to it
        pins = tool_pins(stack, buildpack.tools)  # what installs a layer (uv's pin) is part of its key
        keys = layer_keys(plan, workspace, builder.digest + (f" {rootfs.name}" if build_labels else "") + "".join(f" {p.ident}" for p in pins))
        remote, cache_key = _remote_cache(cache_repo, context, store), build_cache_key(buildpack.name, builder.digest, app)
        if remote:
            remote.import_layers(keys)
            remote.import_build_cache(cache, cache_key)
        reusable = reusable_layers(store, keys)
        closure = buildpack.native_closure and plan.run_image.stack_base  # a stack's base is local: its libraries are known
        if reusable and plan.step_input.get("needs_dependencies"):  # the closure reads a reused layer's kept scan instead
            restore_layers(store, reusable, work / "out" / "layers")
        limits = Limits(seconds=options.build_timeout)
        tools = tool_binds(pins, store) if set(keys) - set(reusable) else ()  # fetched only for a layer built now
        # only a cold cache starts from the seed: a warm one (or one --cache brought) has what the seed holds
        seed = None if any(cache.iterdir()) else cache_seed(plan, rootfs, store.root, builder.digest, log_handle, limits, options.isolation)
        output = run_build(plan, rootfs, workspace, work / "out", cache, log_handle, frozenset(reusable), options.secrets,
                           options.network, limits, seed, options.isolation, tools)
        media_type = layer_media_type(run_base.family if run_base.layers else "oci", options.compression)
        layers, labels = export_layers(output.layers, work / "out", store, media_type, options.compression, plan.layer_mtime, keys, reusable,
                                       {"app": plan.app_owner} if plan.app_owner else {})
        scans = closure_scans(store, output.layers, layers, keys, reusable) if closure else None
        run_layers, run_labels = extra_run_layers(config.run_packages, scans, run_base, rootfs, packages, store,
                                                  plan.layer_mtime, options.compression)
        if remote:
            remote.export(keys, cache, cache_key)
    launch = {**output.launch, "labels": {**output.launch.get("labels", {}), **labels, **build_labels, **run_labels}}
    changes = image_changes(plan, launch)
    changes = replace(changes, labels=changes.labels + options.labels, annotations={**changes.annotations, **dict(options.annotations)})
    image = append_layers(run_base, [*run_layers, *layers], changes, created=created, base_name=_base_name(plan, stack),
                          layer_names=["run packages layer"] * len(run_layers) + [f"{name} layer" for name, _ in output.layers])
    media_type, sbom = image_sbom(image, len(run_base.layers), options.sbom_format, repository_name(destination), store)
    if options.sbom_file:
        atomic_write(options.sbom_file, sbom)
    if isinstance(destination, RegistryLocation):  # before the tag: a tag never names an image without its SBOM
        registry = context.registries.get(destination.reference.registry)
        digest = push_referrer(registry, destination.reference, artifact(image, media_type, sbom, {ANNOTATION_CREATED: image.config.get("created", "")}), media_type)
        log(f"sbom ({options.sbom_format}): {destination.reference.registry}/{destination.reference.repository}@{digest}")
    return write_image(destination, image, context)


def _remote_cache(repository, context: Context, store: Store) -> RemoteCache | None:
    if repository is None:
        return None
    remote = RemoteCache(repository, context, store)
    remote.start()
    return remote


def filtered_source(app: Path, dest: Path, config: AppConfig, secrets: tuple[tuple[str, Path], ...] = ()) -> None:
    """The app's files as the build sees them: .s2iignore/.dockerignore, include and exclude applied, secrets left out."""
    if not app.is_dir():
        raise UsageError(f"{app} is not a directory", "pass the app's source directory")
    copy_source(app, dest, config.include, config.exclude + secret_excludes(app, secrets))


def detect_app(app: Path, forced: str | None) -> tuple[Detection, RuntimeChoice | None]:
    """`s2i detect`: the buildpack and runtime for the same filtered tree a build would get."""
    config = load_app_config(app)
    with tempfile.TemporaryDirectory(prefix="s2i-detect-") as temp:
        tree = Path(temp) / "app"
        tree.mkdir()
        filtered_source(app, tree, config)
        detection = detect(tree, forced or config.buildpack, app, "--buildpack" if forced else "s2i.toml buildpack")
        _, runtime = choose_runtime(detection.buildpack, tree, check_settings(detection.buildpack, config.settings), config.stack)
    return detection, runtime


def decide_settings(config: AppConfig, settings: dict) -> dict:
    """What a buildpack's decide() reads: its [build] settings, and the Procfile process asked for."""
    return {**settings, "process": config.process} if config.process else settings


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
