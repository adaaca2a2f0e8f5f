"""In the sandbox: `go build` the decided package into the app layer."""

from __future__ import annotations

import os

from . import common


def build(step: dict) -> None:
    output = common.layer_path("app", step["binary"])
    if step.get("runtime", {}).get("bin"):  # the chosen Go first on PATH; the stack may hold several
        os.environ["PATH"] = f"{step['runtime']['bin']}:{os.environ['PATH']}"
    common.run(["go", "version"], cwd="/workspace")
    if step["init_module"]:  # a main package without go.mod, as Go before modules built it
        common.run(["go", "mod", "init", step["init_module"]], cwd="/workspace")
    common.run_commands(step, "/workspace")
    print(f"go build {step['package']} -> {step['binary']}", flush=True)
    common.run(["go", "build", *step["flags"], "-o", output, step["package"]], cwd="/workspace")
    common.keep_files(step["assets"], step["launch"]["workdir"])
    common.write_json(f"{common.OUT}/launch.json", step["launch"])


if __name__ == "__main__":
    common.main(build)
