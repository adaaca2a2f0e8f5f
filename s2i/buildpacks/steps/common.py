"""What every step shares: reading its input, running commands, writing layers and launch settings."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

from . import STEP_FILE

OUT = "/s2i/out"


class StepError(Exception):
    """A failure the user can act on: printed as one `s2i:` line, exit 1."""


def layer_path(layer: str, image_path: str) -> str:
    """Where a file that lands at `image_path` in the image is written during the build."""
    return os.path.join(OUT, "layers", layer, image_path.lstrip("/"))


def run(argv: list[str], cwd: str | None = None, env: dict | None = None) -> None:
    """Echo and run; a failure ends the step with the command's own exit status, its output already shown."""
    print("$ " + shlex.join(argv), flush=True)
    code = subprocess.run(argv, cwd=cwd, env=env).returncode
    if code != 0:
        sys.exit(code)


def write_json(path: str, value: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(value, handle, sort_keys=True)


def main(build) -> None:
    """Run `build(step_input)`; a StepError becomes one line and exit 1, never a traceback."""
    with open(STEP_FILE) as handle:
        step_input = json.load(handle)
    try:
        build(step_input)
    except StepError as exc:
        print(f"s2i: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
