"""What every step shares: reading its input, running commands, writing layers and launch settings."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys

from . import STEP_FILE

OUT = "/s2i/out"
LAUNCHER_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "launch.c")
# small and reproducible: no build id, no unwind tables, unused sections dropped
LAUNCHER_FLAGS = ["-static", "-Os", "-s", "-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections",
                  "-fno-asynchronous-unwind-tables", "-fno-stack-protector", "-Wl,--build-id=none"]


class StepError(Exception):
    """A failure the user can act on: printed as one `s2i:` line, exit 1."""


def layer_path(layer: str, image_path: str) -> str:
    """Where a file that lands at `image_path` in the image is written during the build."""
    return os.path.join(OUT, "layers", layer, image_path.lstrip("/"))


STEP_MARKERS = ("--s2i-then=", "--s2i-and=")  # the launcher's: run the next N words first (`;`, `&&` in a Procfile)


def each_command(words: list[str], change) -> list[str]:
    """`change` applied to the first word of each command in launcher words: the steps' and the app's."""
    out, index = [], 0
    while index < len(words):
        word, count = words[index], words[index].partition("=")[2]
        if not (word.startswith(STEP_MARKERS) and count.isdigit() and index + 1 < len(words)):
            return out + [change(word), *words[index + 1:]]
        out += [word, change(words[index + 1]), *words[index + 2:index + 1 + int(count)]]
        index += 1 + int(count)
    return out


def program_command(words: list[str], program: str, workdir: str) -> list[str]:
    """A Procfile command for a built program: its name, or a relative path ending in it (Heroku's
    `bin/NAME`), is the program in workdir; another relative path is a file under workdir."""
    def where(first: str) -> str:
        if not first.startswith("/") and os.path.basename(first) == program:
            return os.path.join(workdir, program)
        if "/" in first and not first.startswith("/"):
            return os.path.normpath(os.path.join(workdir, first))
        return first
    return each_command(words, where)


def keep_files(files: list[str], workdir: str) -> None:
    """Copy the app's run-time files (templates, static, htdocs) into the app layer beside the program."""
    for rel in files:
        target = layer_path("app", f"{workdir}/{rel}")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join("/workspace", rel), target)
    if files:
        print(f"kept {len(files)} files the program may read beside it: {' '.join(files[:5])}", flush=True)


def attempt(argv: list[str], cwd: str | None = None, env: dict | None = None) -> int:
    """Echo and run; the command's exit status."""
    print("$ " + shlex.join(argv), flush=True)
    return subprocess.run(argv, cwd=cwd, env=env).returncode


def watched(argv: list[str], cwd: str | None, env: dict | None, each_line) -> int:
    """Echo and run, the output passed through and each line handed to `each_line`; the exit status."""
    print("$ " + shlex.join(argv), flush=True)
    with subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace") as process:
        for line in process.stdout:
            sys.stdout.write(line)
            each_line(line)
    sys.stdout.flush()
    return process.returncode


def run(argv: list[str], cwd: str | None = None, env: dict | None = None) -> None:
    """Like attempt; a failure ends the step with the command's own exit status, its output already shown."""
    code = attempt(argv, cwd, env)
    if code != 0:
        sys.exit(code)


def run_commands(step: dict, cwd: str, env: dict | None = None) -> None:
    """The app's `[build] commands`, as given in the step file: a string under sh -c, a list as argv."""
    for number, command in enumerate(step.get("commands", []), 1):
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        shown = command if isinstance(command, str) else shlex.join(command)
        code = attempt(argv, cwd, env)
        if code != 0:
            raise StepError(f"error: build command {number} failed (exit {code}): {shown}")


def write_json(path: str, value: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(value, handle, sort_keys=True)


def build_launcher(image_path: str, cross: dict | None = None) -> None:
    """The image's PID 1 (launch.c), compiled static once per app cache and source: against musl, or for another
    architecture with Debian's cross compiler against its static glibc (Debian has no musl cross toolchain)."""
    compiler = f"{cross['triplet']}-gcc" if cross else "musl-gcc"
    version = subprocess.run([f"{cross['triplet']}-gcc" if cross else "gcc", "-dumpfullversion"], capture_output=True, text=True).stdout
    with open(LAUNCHER_SOURCE, "rb") as handle:
        key = hashlib.sha256(handle.read() + " ".join([compiler, version, *LAUNCHER_FLAGS]).encode()).hexdigest()[:16]
    cached = f"/s2i/cache/s2i-launch-{key}"
    if not os.path.exists(cached):
        run([compiler, *LAUNCHER_FLAGS, "-o", cached + ".tmp", LAUNCHER_SOURCE])
        os.replace(cached + ".tmp", cached)
    target = layer_path("launcher", image_path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(cached, target)
    os.chmod(target, 0o755)


def main(build) -> None:
    """Run `build(step_input)` and make the launcher; a StepError becomes one line and exit 1, never a traceback."""
    with open(STEP_FILE) as handle:
        step_input = json.load(handle)
    try:
        build(step_input)
        if step_input.get("launcher"):
            build_launcher(step_input["launcher"], step_input.get("cross"))
    except StepError as exc:
        print(f"s2i: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
