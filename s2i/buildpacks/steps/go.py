"""In the sandbox: `go build` the decided package into the app layer."""

from __future__ import annotations

from . import common


def build(step: dict) -> None:
    output = common.layer_path("app", step["binary"])
    print(f"go build {step['package']} -> {step['binary']}", flush=True)
    common.run(["go", "build", *step["flags"], "-o", output, step["package"]], cwd="/workspace")
    common.write_json(f"{common.OUT}/launch.json", step["launch"])


if __name__ == "__main__":
    common.main(build)
