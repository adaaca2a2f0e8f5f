"""In the sandbox: `go build` the decided package into the app layer."""

from __future__ import annotations

import os
import shutil

from . import common

SEED = "/s2i/seed/go-build"  # the standard library, compiled once per builder and Go (see Buildpack.cache_seed)


def seed_cache() -> None:
    """A cold app cache starts as a copy of the seed: Go then compiles only the app and its modules."""
    cache = os.environ.get("GOCACHE", "")
    if os.path.isdir(SEED) and cache and not os.path.isdir(cache):
        shutil.copytree(SEED, cache, symlinks=True)
        print("go build cache seeded with the precompiled standard library", flush=True)


def build(step: dict) -> None:
    output = common.layer_path("app", step["binary"])
    if step.get("runtime", {}).get("bin"):  # the chosen Go first on PATH; the stack may hold several
        os.environ["PATH"] = f"{step['runtime']['bin']}:{os.environ['PATH']}"
    common.run(["go", "version"], cwd="/workspace")
    seed_cache()
    if step["init_module"]:  # a main package without go.mod, as Go before modules built it
        common.run(["go", "mod", "init", step["init_module"]], cwd="/workspace")
    common.run_commands(step, "/workspace")
    print(f"go build {step['package']} -> {step['binary']}", flush=True)
    common.run(["go", "build", *step["flags"], "-o", output, step["package"]], cwd="/workspace")
    common.keep_files(step["assets"], step["launch"]["workdir"])
    common.write_json(f"{common.OUT}/launch.json", step["launch"])


if __name__ == "__main__":
    common.main(build)
