"""In the sandbox: a Python venv for another architecture, from the target's wheels, with nothing of the builder's in it.

uv resolves for the target (`--python-platform`): it takes the target's manylinux wheels and builds an sdist only
when the wheel that comes out fits the target, which a pure-Python one (py3-none-any) does and a native one does not.
Nothing installed is run: the venv's console scripts are text, its .pyc files are the same on every architecture.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

from . import c_cross, common

NEWEST_MANYLINUX = 40  # the newest glibc whose manylinux tag the stack's pinned uv (0.13) knows for aarch64 and x86_64
UV_TIMEOUT = 3600


def manylinux(libc: str) -> int:
    """The glibc minor version that `os.confstr("CS_GNU_LIBC_VERSION")` names ("glibc 2.41" -> 41), capped at uv's newest."""
    found = re.fullmatch(r"glibc 2\.(\d+)", libc.strip())
    return min(int(found.group(1)), NEWEST_MANYLINUX) if found else 17


def target_flags(cross: dict, libc: str, version: tuple[int, int]) -> list[str]:
    """uv's flags for the target's wheels: the run base is the builder's Debian release, so it has the builder's glibc."""
    return ["--python-platform", f"{cross['processor']}-manylinux_2_{manylinux(libc)}", "--python-version", f"{version[0]}.{version[1]}"]


def failure(output: str, code: int, cross: dict) -> str:
    """uv's failure as one line: a package with no wheel for the target that builds only from source, named with the fix."""
    target = f"linux/{cross['architecture']}"
    built = re.search(r"Failed to build `([A-Za-z0-9._-]+)", output)
    if built and "is not compatible with the target" in output:
        name = built.group(1)
    else:
        missing = re.search(r"Because ([A-Za-z0-9._-]+)\S* has no (?:usable )?wheels", output)
        name = missing.group(1) if missing else None
    if name:
        return (f"error: {name} has no wheel for {target} and its source builds native code, which s2i does not cross-compile: "
                f"require a version that publishes a manylinux {cross['processor']} wheel, or build for the host's platform only")
    causes = [line.strip() for line in output.splitlines() if line.strip().startswith(("error:", "cause:"))]
    detail = causes[-1] if causes else f"exit {code}"
    return f"error: installing the Python dependencies for {target} failed (uv exit {code}): {detail}"


def install(uv: str, venv: str, wanted: list[str], cross: dict, env: dict) -> None:
    """`uv pip install` of the target's distributions into the venv; a failure is one line (uv's own output above it)."""
    flags = target_flags(cross, os.confstr("CS_GNU_LIBC_VERSION") or "", sys.version_info[:2])
    argv = [uv, "pip", "install", "--python", f"{venv}/bin/python", *flags, *wanted]
    print(f"installing the wheels for linux/{cross['architecture']}\n$ {shlex.join(argv)}", flush=True)
    try:
        result = subprocess.run(argv, cwd="/workspace", env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace", timeout=UV_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise common.StepError(f"error: uv took over {UV_TIMEOUT}s installing for linux/{cross['architecture']}") from None
    print(result.stdout, end="", flush=True)
    if result.returncode != 0:
        raise common.StepError(failure(result.stdout, result.returncode, cross))


def foreign_elf(root: str, wanted: int) -> tuple[str, int] | None:
    """The first ELF file under root (links never followed) built for another machine than `wanted`, with its machine."""
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(directory, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as handle:
                if handle.read(4) != b"\x7fELF":
                    continue
            found = c_cross.machine(path)
            if found != wanted:
                return os.path.relpath(path, root), found
    return None


def check_tree(root: str, shown: str, cross: dict) -> None:
    """Native code of the builder's architecture (a project built as a wheel here) is said, not shipped."""
    found = foreign_elf(root, c_cross.EXPECTED[cross["architecture"]]) if os.path.isdir(root) else None
    if found:
        path, machine = found
        raise common.StepError(
            f"error: {shown}/{path} was built for {c_cross.MACHINES.get(machine, f'machine {machine}')}, not linux/{cross['architecture']}: "
            "s2i does not cross-compile Python's native code; use a wheel for the target, or build for the host's platform only")
