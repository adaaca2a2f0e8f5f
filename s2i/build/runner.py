"""Runs a buildpack's step in the sandbox and collects what it made: layer dirs and launch settings."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from s2i.buildpacks import steps
from s2i.errors import BuildError, S2IError
from s2i.build.output import LAUNCH_KEYS, check_keys, read_json, real_dir
from s2i.build.plan import SANDBOX_CA, BuildPlan
from s2i.build.limits import Limits
from s2i.build.sandbox import Bind, Sandbox, host_ca_bundle, run_logged
from s2i import progress


STEPS_DIR = Path(steps.__file__).resolve().parent
SECRETS_DIR = "/run/secrets"
SEED_DIR = "/s2i/seed"  # a buildpack's cache seed, read-only
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class BuildOutput:
    layers: tuple[tuple[str, Path], ...]  # (name, directory), bottom first
    launch: dict


def app_cache_dir(cache_root: Path, app: Path, buildpack: str) -> Path:
    """Per app and buildpack, so the Go build cache of one app never serves another by accident."""
    key = hashlib.sha256(str(app.resolve()).encode()).hexdigest()[:16]
    path = cache_root / key / buildpack
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_seed(plan: BuildPlan, rootfs: Path, store_root: Path, builder_digest: str, log: TextIO | None,
               limits: Limits | None = None, isolation: str = "auto") -> Path | None:
    """The buildpack's cache seed for this builder, toolchain and build env: made once (no app code runs in it),
    mounted read-only into builds; None when the buildpack has none or it cannot be made (a seed only saves time)."""
    command = plan.buildpack.cache_seed
    if not command:
        return None
    runtime = plan.step_input.get("runtime") or {}
    env = tuple(item for item in plan.build_env if item[0] != "SOURCE_DATE_EPOCH")  # a CI's per-commit date compiles nothing else
    key = hashlib.sha256(repr((builder_digest, runtime, env, command)).encode()).hexdigest()[:24]
    seed = store_root / "seeds" / f"{plan.buildpack.name}-{key}"
    if seed.is_dir():
        return seed
    seed.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=store_root, prefix=".build-seed-") as temp:  # a killed run's is swept like a build's
        (Path(temp) / "workspace").mkdir()
        (Path(temp) / "cache").mkdir()
        path = ":".join(filter(None, (runtime.get("bin"), SANDBOX_PATH)))
        sandbox = Sandbox(rootfs, (Bind(Path(temp) / "workspace", "/workspace", writable=True),
                                   Bind(Path(temp) / "cache", "/s2i/cache", writable=True)),
                          (("PATH", path), *plan.build_env), workdir="/workspace", network="none")
        try:
            run_logged(sandbox, list(command), f"seed {plan.buildpack.name}", log, limits, requested=isolation)
            os.rename(Path(temp) / "cache", seed)
        except S2IError as exc:
            progress.log(f"no cache seed ({exc.one_line()}); building without it")
            return None
        except OSError:  # another build made it first
            pass
    return seed if seed.is_dir() else None


def run_build(plan: BuildPlan, rootfs: Path, workspace: Path, output: Path, cache: Path, log: TextIO | None,
              reused: frozenset[str] = frozenset(), secrets: tuple[tuple[str, Path], ...] = (),
              network: str = "default", limits: Limits | None = None, seed: Path | None = None, isolation: str = "auto",
              tools: tuple[Bind, ...] = ()) -> BuildOutput:
    """Layers named in `reused` come from the store: the step is told to skip them; secrets and tools are mounted read-only."""
    (output / "layers").mkdir(parents=True, exist_ok=True)
    step_file = output.parent / "step.json"
    step_file.write_text(json.dumps({**plan.step_input, "reuse": sorted(reused)}))
    layer_binds = []
    for spec in plan.layers:
        if spec.mount:  # built in place at its final path, so what it records (venv paths, shebangs) holds at run time
            directory = output / "layers" / spec.name / spec.mount.lstrip("/")
            directory.mkdir(parents=True, exist_ok=True)
            layer_binds.append(Bind(directory, spec.mount, writable=True))
    sandbox = Sandbox(
        rootfs=rootfs,
        binds=(
            Bind(workspace, "/workspace", writable=True),
            Bind(output, "/s2i/out", writable=True),
            Bind(cache, "/s2i/cache", writable=True),
            Bind(host_ca_bundle(), SANDBOX_CA),
            Bind(STEPS_DIR, f"{steps.LIB_DIR}/s2i_steps"),
            Bind(step_file, steps.STEP_FILE),
            *layer_binds,
            *(Bind(path, f"{SECRETS_DIR}/{name}") for name, path in secrets),
            *((Bind(seed, SEED_DIR),) if seed else ()),
            *tools,
        ),
        env=(("PATH", SANDBOX_PATH), *plan.build_env),
        workdir="/workspace",
        network=network,
    )
    run_logged(sandbox, steps.sandbox_command(plan.buildpack.name), f"build {plan.buildpack.name}", log, limits, requested=isolation)
    launch = read_json(output, "launch.json")
    if launch is None:
        raise BuildError(f"the {plan.buildpack.name} buildpack wrote no launch.json", "this is a buildpack bug; report it")
    layers = []
    for spec in plan.layers:
        if spec.name in reused or real_dir(output, f"layers/{spec.name}"):
            layers.append((spec.name, output / "layers" / spec.name))
    if not layers:
        raise BuildError("the build produced nothing to put in the image", "check the build output above")
    return BuildOutput(tuple(layers), check_keys(launch, "launch.json", LAUNCH_KEYS))
