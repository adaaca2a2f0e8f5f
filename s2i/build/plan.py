"""Turns a detection, the app's settings and the stack into a BuildPlan: pure, no IO."""

from __future__ import annotations

from dataclasses import dataclass

from s2i.build.config import AppConfig
from s2i.build.proxy import proxy_env
from s2i.buildpacks import Buildpack, LayerSpec
from s2i.errors import UsageError
from s2i.oci.mutate import ConfigChanges, iso_time
from s2i.oci.reference import parse_reference
from s2i.stack.files import Stack

PASSED_THROUGH = ("GOPROXY", "GOFLAGS", "GOPRIVATE", "GONOSUMDB", "GONOPROXY", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST")
SANDBOX_CA = "/etc/ssl/certs/ca-certificates.crt"
CA_VARIABLES = ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "GIT_SSL_CAINFO", "CURL_CA_BUNDLE")
NONROOT = "65532"
LAUNCHER = "/s2i/launch"  # PID 1 of every built image: expands $VARs, forwards signals, reaps zombies
LAUNCHER_LAYER = LayerSpec("launcher")  # bottom-most of the app's layers: the same bytes for every app
DEFAULT_PORT = "8080"


@dataclass(frozen=True)
class RunImage:
    """A base of the stack (`static`, `scratch`, ...) or any registry image."""

    name: str
    stack_base: bool
    has_nonroot: bool

    @property
    def kind(self) -> str:
        return "stack" if self.stack_base else "reference"


@dataclass(frozen=True)
class BuildPlan:
    buildpack: Buildpack
    reasons: tuple[str, ...]
    stack: str
    run_image: RunImage
    step_input: dict  # the buildpack's decisions, as JSON for its step in the sandbox
    build_env: tuple[tuple[str, str], ...]
    layers: tuple[LayerSpec, ...]
    entrypoint: tuple[str, ...] | None
    cmd: tuple[str, ...] | None
    env: tuple[tuple[str, str], ...]
    ports: tuple[str, ...]
    user: str | None
    app_owner: tuple[int, int] | None  # who owns the app layer's files: the run user, so the app may write beside its code
    created: int  # the image's date: SOURCE_DATE_EPOCH, else the last commit's time
    layer_mtime: int  # the files' date in built layers: SOURCE_DATE_EPOCH, else 0; never the commit time
    annotations: tuple[tuple[str, str], ...]


def choose_run_image(buildpack: Buildpack, stack: Stack, requested: str | None) -> RunImage:
    name = requested or buildpack.default_run_image
    refusals = dict(buildpack.refused_run_images)
    if name in refusals:
        raise UsageError(
            f"the {buildpack.name} buildpack cannot run on {name!r}: {refusals[name]}",
            f"use {buildpack.default_run_image}, or --run-image with an image that has what it needs",
        )
    if name in stack.bases:
        base = stack.bases[name]
        if base.kind == "image" or name in buildpack.run_images:
            return RunImage(name, True, base.has_nonroot)
        raise UsageError(
            f"the {buildpack.name} buildpack cannot run on {name!r}",
            f"use one of: {', '.join(n for n in buildpack.run_images if n in stack.bases)}, or name an image that has what it needs",
        )
    if "/" not in name and ":" not in name:
        raise UsageError(f"stack {stack.name} has no run base {name!r}", f"use one of: {', '.join(stack.bases)}, or a registry reference")
    parse_reference(name)
    return RunImage(name, False, False)


def sandbox_env(buildpack: Buildpack, config: AppConfig, host_env: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Buildpack defaults < host pass-through (proxies, indexes) < the app's build env; CA always the host's."""
    env = dict(buildpack.build_env)
    env.update({key: host_env[key] for key in PASSED_THROUGH if host_env.get(key)})
    env.update(proxy_env(host_env))
    env.update(dict(config.build_env))
    env.update({key: SANDBOX_CA for key in CA_VARIABLES})
    env.update(HOME="/tmp", LANG="C.UTF-8", SOURCE_DATE_EPOCH=host_env.get("SOURCE_DATE_EPOCH", "0"))
    return tuple(sorted((k, v) for k, v in env.items() if v != ""))


def _app_owner(uid: str, gid: str) -> tuple[int, int] | None:
    """A numeric non-root run user owns the app layer's files, so the app may write beside its code."""
    return (int(uid), int(gid or uid)) if uid.isdigit() and uid != "0" and (not gid or gid.isdigit()) else None


def make_plan(
    buildpack: Buildpack,
    reasons: tuple[str, ...],
    config: AppConfig,
    stack: Stack,
    host_env: dict[str, str],
    created: int,
    git: dict[str, str],
    decision: dict,
) -> BuildPlan:
    run_image = choose_run_image(buildpack, stack, config.run_image)
    entry_error = decision.get("entry_error")
    if entry_error and not config.entrypoint and not config.cmd:  # before any build: the user can fix it now
        raise UsageError(entry_error["message"], entry_error["hint"])
    user = config.user if config.user is not None else (NONROOT if run_image.has_nonroot else None)
    uid, _, gid = (user or "").partition(":")
    # a commit alone must change no layer: keyed layers (dependencies) stay reusable across commits
    epoch = host_env.get("SOURCE_DATE_EPOCH", "").strip()
    layer_mtime = int(epoch) if epoch.isdigit() else 0
    annotations = tuple(sorted(
        [("org.opencontainers.image.created", iso_time(created))]
        + [(f"org.opencontainers.image.{key}", value) for key, value in git.items() if value]
    ))
    return BuildPlan(
        buildpack=buildpack,
        reasons=reasons,
        stack=stack.name,
        run_image=run_image,
        step_input={**decision, "launcher": LAUNCHER, **_commands(config), **_app_env(config)},
        build_env=sandbox_env(buildpack, config, {**host_env, "SOURCE_DATE_EPOCH": str(layer_mtime)}),
        layers=(LAUNCHER_LAYER, *buildpack.layers),
        entrypoint=config.entrypoint,
        cmd=config.cmd,
        env=config.env,
        ports=config.ports,
        user=user,
        app_owner=_app_owner(uid, gid) if not config.read_only_app else None,
        created=created,
        layer_mtime=layer_mtime,
        annotations=annotations,
    )




def _app_env(config: AppConfig) -> dict:
    """The build env names the app set itself, so a step can tell the app's choice from the buildpack's default."""
    return {"app_env": sorted(key for key, _ in config.build_env)} if config.build_env else {}


def _commands(config: AppConfig) -> dict:
    """`[build] commands` for the step, as data: it runs each itself, nothing is pasted into a script."""
    return {"commands": [c if isinstance(c, str) else list(c) for c in config.build_commands]} if config.build_commands else {}


def image_changes(plan: BuildPlan, launch: dict) -> ConfigChanges:
    """The image config: the plan's settings win over what the build's step chose."""
    chosen = tuple(launch.get("entrypoint") or ())
    entrypoint = plan.entrypoint or ((LAUNCHER, *chosen) if chosen else None)
    if not entrypoint and not plan.cmd:
        raise UsageError(
            f"the {plan.buildpack.name} build found no entry point",
            "name one: entrypoint = [...] in s2i.toml or --entrypoint (python: a Procfile web: line, [project.scripts], app.py or main.py)",
        )
    # the run-time contract every platform keeps: the app listens on $PORT; 8080 unless the app's
    # env or its first declared port says otherwise
    env = {**launch.get("env", {}), **dict(plan.env)}
    port = env.get("PORT") or (plan.ports[0].split("/")[0] if plan.ports else DEFAULT_PORT)
    port_env = () if "PORT" in env else (("PORT", port),)
    return ConfigChanges(
        entrypoint=entrypoint,
        cmd=plan.cmd if plan.cmd is not None else (tuple(launch["cmd"]) if launch.get("cmd") else None),
        env=tuple(sorted(launch.get("env", {}).items())) + port_env + plan.env,
        workdir=launch.get("workdir"),
        user=plan.user,
        ports=plan.ports or (port,),
        labels=(("io.s2i.buildpack", f"{plan.buildpack.name}@{plan.buildpack.version}"), ("io.s2i.stack", plan.stack),
                *sorted(launch.get("labels", {}).items())),
        created_by=f"s2i build ({plan.buildpack.name})",
        annotations=dict(plan.annotations),
    )
