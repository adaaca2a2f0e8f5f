"""Wires detect -> plan -> build -> layers -> image -> publish for `s2i build`; no logic of its own."""

from __future__ import annotations

import glob
import os
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, fields, replace
from pathlib import Path

from s2i.archive.tarwriter import source_date_epoch
from s2i.build.config import AppConfig, load_app_config, override
from s2i.build.detect import Detection, detect
from s2i.build.git import git_info
from s2i.build.packages import PackageIndex
from s2i.build.plan import make_plan
from s2i.build.platform_build import Built, Shared, build_platform
from s2i.build.platforms import Target, check_cross, check_targets, cross_packages, parse_platforms
from s2i.build.proxy import announce_proxies
from s2i.build.remote_cache import parse_cache_repo
from s2i.build.runtime import RuntimeChoice, choose_runtime
from s2i.build.source import copy_source
from s2i.buildpacks import check_settings
from s2i.errors import UsageError
from s2i.files import atomic_write
from s2i.oci.reference import RegistryLocation, parse_destination, repository_name
from s2i.oci.types import ANNOTATION_CREATED
from s2i.progress import log
from s2i.sbom.make import image_sbom
from s2i.store import Store
from s2i.transports import Context, Published, prepare_destination, transport_for, write_image
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
    platforms: tuple[dict, ...] = ()  # --platform; none: s2i.toml's [build] platforms, else the host's. Several: an image each, and their index


def default_destination(app: Path) -> str:
    return f"store:builds/{app.resolve().name or 'app'}"


def build(options: BuildOptions, context: Context) -> Published:
    """One image for one platform (as before --platform); an image per platform and their index for several."""
    app = options.app
    destination = parse_destination(options.destination or default_destination(app), options.tags)
    prepare_destination(destination, context)
    cache_repo = parse_cache_repo(options.cache) if options.cache else None
    config = override(load_app_config(app), options.flags)
    platforms = options.platforms or parse_platforms(config.platforms)
    if len(platforms) > 1:
        _check_several(destination, platforms, options)
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
        targets = check_targets(platforms, stack, buildpack.name)
        if runtime:
            log(f"runtime: {runtime.describe()}")
        packages = PackageIndex(stack, store)
        packages.check(config.build_packages, "build.packages (s2i.toml, --build-package)")  # before any download
        packages.check(config.run_packages, "run.packages (s2i.toml, --run-package)")
        decision = {**buildpack.decide(workspace, decide_settings(config, settings)), **({"runtime": runtime.step_input()} if runtime else {})}
        for target in targets:  # every platform's refusal before any platform's download
            check_cross(target, stack, buildpack.name, decision, config.build_packages, config.run_packages)
        plan = make_plan(buildpack, detection.reasons, config, stack, dict(os.environ), created,
                         {"source": git.get("source", ""), "revision": git.get("revision", "")}, decision)
        announce_proxies(dict(plan.build_env), options.network)
        log_handle = cleanup.enter_context(open(options.log_file, "w")) if options.log_file else None
        shared = Shared(options, config, stack, plan, packages, store, cache_repo, log_handle)
        built = _build_each(shared, targets, decision, context, work)
    if len(targets) == 1:
        return _publish(destination, built[0], options, context, store)
    return _publish_index(destination, targets, built, options, context, store)


def _check_several(destination, platforms: tuple[dict, ...], options: BuildOptions) -> None:
    """Refusals of a multi-platform build that need no detection: before any work."""
    if not hasattr(transport_for(destination), "write_index"):
        raise UsageError(f"{destination} holds one image, not an index of {len(platforms)} platforms",
                         "build one --platform, or write to a registry, oci:DIR[:TAG] or store:NAME")
    if options.sbom_file:
        raise UsageError("--sbom FILE takes one platform's SBOM", "build one --platform with --sbom, or fetch each with s2i sbom IMAGE --platform P")


def _build_each(shared: Shared, targets: tuple[Target, ...], decision: dict, context: Context, work: Path) -> list[Built]:
    """Each platform's image, the first built in the tree detection read, the others each in a fresh copy of the source."""
    built = []
    for number, target in enumerate(targets):
        # its own copy: a second platform's build must not find the first one's objects "up to date"
        where = work if number == 0 else work / target.architecture
        if number:
            (where / "workspace").mkdir(parents=True)
            filtered_source(shared.options.app, where / "workspace", shared.config, shared.options.secrets)
        if len(targets) > 1:
            log(f"building for {target.name}")
        # what the buildpack's build system needs beyond the builder (C's meson), then the target's cross compiler
        extra = (*decision.get("tool_packages", ()), *cross_packages(target, shared.stack, decision))
        built.append(build_platform(shared, target, context, where / "workspace", where, extra))
    return built


def _publish(destination, built: Built, options: BuildOptions, context: Context, store: Store) -> Published:
    _push_sbom(destination, built, options, context, store)
    return write_image(destination, built.image, context)


def _push_sbom(destination, built: Built, options: BuildOptions, context: Context, store: Store) -> None:
    """The image's SBOM: written to --sbom FILE, and pushed as its referrer before any tag names the image."""
    image = built.image
    media_type, sbom = image_sbom(image, built.base_layers, options.sbom_format, repository_name(destination), store)
    if options.sbom_file:
        atomic_write(options.sbom_file, sbom)
    if isinstance(destination, RegistryLocation):  # before the tag: a tag never names an image without its SBOM
        registry = context.registries.get(destination.reference.registry)
        digest = push_referrer(registry, destination.reference, artifact(image, media_type, sbom, {ANNOTATION_CREATED: image.config.get("created", "")}), media_type)
        log(f"sbom ({options.sbom_format}): {destination.reference.registry}/{destination.reference.repository}@{digest}")


def _publish_index(destination, targets, built: list[Built], options: BuildOptions, context: Context, store: Store) -> Published:
    """Each platform's image with its SBOM, then the index naming them all (tagged last)."""
    from s2i.transports import write_index

    for target, one in zip(targets, built):
        log(f"{target.name}: {one.image.digest}")
        _push_sbom(destination, one, options, context, store)
    published = write_index(destination, [one.image for one in built], context)  # the destination carries the tags
    images = tuple((target.name, one.image.digest) for target, one in zip(targets, built))
    return IndexPublished(**{f.name: getattr(published, f.name) for f in fields(Published)}, images=images)


@dataclass(frozen=True)
class IndexPublished(Published):
    """A multi-platform build's result: the index, and each platform's image digest."""

    images: tuple[tuple[str, str], ...] = ()  # (os/arch, manifest digest)

    def to_json(self) -> dict:
        return {**super().to_json(), "platforms": [{"platform": name, "digest": digest} for name, digest in self.images]}


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
        settings = check_settings(detection.buildpack, config.settings)
        _, runtime = choose_runtime(detection.buildpack, tree, settings, config.stack)
        explained = explain_decision(detection, tree, decide_settings(config, settings))
    return replace(detection, reasons=(*detection.reasons, explained)) if explained else detection, runtime


def explain_decision(detection: Detection, tree: Path, settings: dict) -> str:
    """What the buildpack would build and why (its decision's `explain`), or why it cannot choose yet, for `s2i detect`."""
    try:
        return detection.buildpack.decide(tree, settings).get("explain", "")
    except UsageError as exc:
        return f"cannot choose what to build: {exc.message} ({exc.hint})"


def decide_settings(config: AppConfig, settings: dict) -> dict:
    """What a buildpack's decide() reads: its [build] settings, and the Procfile process asked for."""
    return {**settings, "process": config.process} if config.process else settings


def secret_excludes(app: Path, secrets: tuple[tuple[str, Path], ...]) -> tuple[str, ...]:
    """Patterns for the secret files kept inside the app, so the source copy (and so no layer) holds them."""
    root = app.resolve()
    return tuple(glob.escape(path.relative_to(root).as_posix()) for _, path in secrets if path.is_relative_to(root))
