"""One platform's part of `s2i build`: its run base and builder, the sandboxed build, its layers and its image."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from s2i.build.config import AppConfig
from s2i.build.layers import closure_scans, export_layers, layer_keys, restore_layers, reusable_layers
from s2i.build.limits import Limits
from s2i.build.packages import PackageIndex, extra_run_layers, with_build_packages
from s2i.build.plan import BuildPlan, image_changes
from s2i.build.platforms import Target, arch_suffix, is_cross, target_plan
from s2i.build.remote_cache import RemoteCache, build_cache_key
from s2i.build.runner import app_cache_dir, cache_seed, run_build
from s2i.build.tools import tool_binds, tool_pins
from s2i.errors import UsageError
from s2i.oci.image import Image
from s2i.oci.mutate import append_layers
from s2i.oci.reference import ScratchLocation, parse_location
from s2i.oci.types import layer_media_type
from s2i.sbom.bundled import record_bundled
from s2i.stack.files import Stack
from s2i.stack.images import ensure_stack_image
from s2i.stack.rootfs import unpack_image
from s2i.store import Store
from s2i.transports import Context, read_image

if TYPE_CHECKING:
    from s2i.build.pipeline import BuildOptions


@dataclass(frozen=True)
class Shared:
    """What every platform's build of one `s2i build` shares: one detection, one plan, one store."""

    options: BuildOptions
    config: AppConfig
    stack: Stack
    plan: BuildPlan  # for the stack's own architecture; target_plan() derives the others
    packages: PackageIndex
    store: Store
    cache_repo: object | None  # a parsed --cache repository
    log_handle: TextIO | None


@dataclass(frozen=True)
class Built:
    image: Image
    base_layers: int  # how many of its layers are the run base's (the SBOM scans the rest as the app's)


def build_platform(shared: Shared, target: Target, context: Context, workspace: Path, work: Path, extra_build_packages: tuple[str, ...]) -> Built:
    """Build `workspace` (a copy of the source only this platform's build touches) into an image for `target`."""
    options, stack, store = shared.options, shared.stack, shared.store
    plan = target_plan(shared.plan, target, stack)
    host_context, context = context, replace(context, platform=target.platform)  # a run base's index entry, scratch's config
    run_base = _run_base(plan, stack, context, store, target)
    builder = ensure_stack_image(stack, "builder", host_context, store)  # the host's: it runs here
    build_packages = (*shared.config.build_packages, *extra_build_packages)
    rootfs, build_labels = with_build_packages(unpack_image(builder, store), build_packages, shared.packages)
    suffix = arch_suffix(target, stack)  # Go's seed and cache, the launcher, keyed layers: each architecture its own
    cache = app_cache_dir(store.root / "builds", options.app, plan.buildpack.name + suffix)
    pins = tool_pins(stack, plan.buildpack.tools)  # what installs a layer (uv's pin) is part of its key
    builder_key = builder.digest + (f" {rootfs.name}" if build_labels else "") + suffix + "".join(f" {p.ident}" for p in pins)
    keys = layer_keys(plan, workspace, builder_key)
    remote = _remote_cache(shared.cache_repo, context, store)
    cache_key = build_cache_key(plan.buildpack.name + suffix, builder.digest, options.app)
    if remote:
        remote.import_layers(keys)
        remote.import_build_cache(cache, cache_key)
    reusable = reusable_layers(store, keys)
    # a stack's base is local: its libraries are known; a cross build's wheels bundle theirs (manylinux), and the
    # packages the closure would add come from the builder's own architecture's index
    closure = plan.buildpack.native_closure and plan.run_image.stack_base and not is_cross(target, stack)
    if reusable and plan.step_input.get("needs_dependencies"):  # the closure reads a reused layer's kept scan instead
        restore_layers(store, reusable, work / "out" / "layers")
    limits = Limits(seconds=options.build_timeout)
    tools = tool_binds(pins, store) if set(keys) - set(reusable) else ()  # fetched only for a layer built now
    # only a cold cache starts from the seed: a warm one (or one --cache brought) has what the seed holds
    seed = None if any(cache.iterdir()) else cache_seed(plan, rootfs, store.root, builder.digest + suffix, shared.log_handle, limits, options.isolation)
    if remote:
        remote.before_build(cache)
    output = run_build(plan, rootfs, workspace, work / "out", cache, shared.log_handle, frozenset(reusable), options.secrets,
                       options.network, limits, seed, options.isolation, tools)
    copies = {spec.name for spec in plan.layers if spec.debian_files} - set(reusable)
    for name, directory in output.layers:  # recorded before the layer is made: the record is part of it
        if name in copies:
            record_bundled(directory, rootfs)
    media_type = layer_media_type(run_base.family if run_base.layers else "oci", options.compression)
    layers, labels = export_layers(output.layers, work / "out", store, media_type, options.compression, plan.layer_mtime, keys, reusable,
                                   {"app": plan.app_owner} if plan.app_owner else {})
    scans = closure_scans(store, output.layers, layers, keys, reusable) if closure else None
    run_layers, run_labels = extra_run_layers(shared.config.run_packages, scans, run_base, rootfs, shared.packages, store,
                                              plan.layer_mtime, options.compression)
    if remote:
        remote.export(keys, cache, cache_key)
    launch = {**output.launch, "labels": {**output.launch.get("labels", {}), **labels, **build_labels, **run_labels}}
    changes = image_changes(plan, launch)
    changes = replace(changes, labels=changes.labels + options.labels, annotations={**changes.annotations, **dict(options.annotations)})
    image = append_layers(run_base, [*run_layers, *layers], changes, created=plan.created, base_name=_base_name(plan, stack),
                          layer_names=["run packages layer"] * len(run_layers) + [f"{name} layer" for name, _ in output.layers])
    return Built(image, len(run_base.layers))


def _remote_cache(repository, context: Context, store: Store) -> RemoteCache | None:
    if repository is None:
        return None
    remote = RemoteCache(repository, context, store)
    remote.start()
    return remote


def _run_base(plan: BuildPlan, stack: Stack, context: Context, store: Store, target: Target) -> Image:
    """The run base for the target; one of another architecture is refused (its programs could not run)."""
    name = plan.run_image.name
    if not plan.run_image.stack_base:
        image = read_image(parse_location(name), context)
    elif stack.bases[name].kind == "scratch":
        image = read_image(ScratchLocation(), context)
    elif is_cross(target, stack):
        image = ensure_stack_image(stack, name, context, store, architecture=target.architecture)
    else:
        image = ensure_stack_image(stack, name, context, store)
    found = image.config.get("architecture")
    if image.layers and found != target.architecture:
        raise UsageError(f"run base {name} is for {found}, not {target.architecture}",
                         f"name a run image that has linux/{target.architecture}, or build for linux/{found} only")
    return image


def _base_name(plan: BuildPlan, stack: Stack) -> str | None:
    """The name rebasing tools look for, when the base lives in a registry."""
    if plan.run_image.stack_base:
        return stack.bases[plan.run_image.name].image
    return parse_location(plan.run_image.name).base_name
