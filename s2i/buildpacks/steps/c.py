"""In the sandbox: compile against musl statically, else glibc; take the one new program (and its libraries)."""

from __future__ import annotations

import os
import shutil
import subprocess

from . import common

MUSL_BIN = "/tmp/musl/bin"
MUSL_TREE = "/tmp/musl-tree"
CMAKE_DIR = ".s2i-cmake"
ELF_MAGIC = b"\x7fELF"


def is_elf_executable(path: str) -> bool:
    if os.path.islink(path) or not os.path.isfile(path) or not os.access(path, os.X_OK):
        return False
    with open(path, "rb") as handle:
        return handle.read(4) == ELF_MAGIC


def elf_executables(root: str) -> list[str]:
    """Executables under root, relative; CMake's own probes under CMakeFiles/ are not programs."""
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "CMakeFiles")
        for name in files:
            path = os.path.join(directory, name)
            if is_elf_executable(path):
                found.append(os.path.relpath(path, root))
    return sorted(found)


def choose_program(new: list[str], wanted: str) -> str:
    """The one executable the build made, or the one named `wanted`."""
    if wanted:
        for path in new:
            if os.path.basename(path) == wanted:
                return path
        raise common.StepError(f"the build made no executable named {wanted} (made: {' '.join(new) or 'none'})")
    if len(new) != 1:
        raise common.StepError(
            f"expected one new executable, found {len(new)}: {' '.join(new)}; "
            'name it in s2i.toml ([build] program = "NAME")'
        )
    return new[0]


def parse_ldd(text: str) -> list[str]:
    """Library paths from ldd's output: `name => /path (addr)` lines and the interpreter's `/path (addr)`."""
    libraries = set()
    for line in text.splitlines():
        words = line.split()
        if "=>" in words and len(words) > words.index("=>") + 1 and words[words.index("=>") + 1].startswith("/"):
            libraries.add(words[words.index("=>") + 1])
        elif words and words[0].startswith("/"):
            libraries.add(words[0])
    return sorted(libraries)


def compile_commands(step: dict, cc: str) -> list[list[str]]:
    if step["system"] == "make":
        return [["make"]]
    if step["system"] == "cmake":
        return [["cmake", "-S", ".", "-B", CMAKE_DIR, "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_C_COMPILER={cc}"],
                ["cmake", "--build", CMAKE_DIR]]
    return [[cc, "-O2", "-o", step["program"] or "app", *step["sources"]]]


def compile_in(tree: str, step: dict, cc: str, env: dict) -> bool:
    return all(common.attempt(argv, tree, env) == 0 for argv in compile_commands(step, cc))


def musl_wrappers() -> None:
    """A musl gcc/cc first on PATH, so a Makefile that names gcc gets it too."""
    os.makedirs(MUSL_BIN, exist_ok=True)
    for tool in ("gcc", "cc", "musl-gcc-static"):
        path = os.path.join(MUSL_BIN, tool)
        with open(path, "w") as handle:
            handle.write('#!/bin/sh\nexec musl-gcc -static "$@"\n')
        os.chmod(path, 0o755)


def build_program(step: dict) -> tuple[str, str]:
    """(path of the new program, libc it was linked against)."""
    musl_wrappers()
    shutil.copytree("/workspace", MUSL_TREE, symlinks=True)
    before = elf_executables(MUSL_TREE)
    musl_env = dict(os.environ, PATH=f"{MUSL_BIN}:{os.environ['PATH']}", CC=f"{MUSL_BIN}/gcc")
    if compile_in(MUSL_TREE, step, f"{MUSL_BIN}/gcc", musl_env):
        print("built static against musl", flush=True)
        tree, libc = MUSL_TREE, "musl"
    else:
        print("musl did not build it; building against glibc", flush=True)
        tree, libc = "/workspace", "glibc"
        before = elf_executables(tree)
        if not compile_in(tree, step, "gcc", dict(os.environ, CC="gcc")):
            raise SystemExit(2)
    new = [path for path in elf_executables(tree) if path not in before]
    return os.path.join(tree, choose_program(new, step["program"])), libc


def bundle_libraries(program: str) -> None:
    """The shared-library closure (ldd follows DT_NEEDED recursively) and the ELF interpreter."""
    headers = subprocess.run(["readelf", "-l", program], capture_output=True, text=True).stdout
    if "program interpreter" not in headers:
        return
    ldd = subprocess.run(["ldd", program], capture_output=True, text=True, check=True).stdout
    for library in parse_ldd(ldd):
        target = common.layer_path("libs", library)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(library, target)  # follows the soname link: the file itself
        print(f"bundled {library}", flush=True)


def build(step: dict) -> None:
    common.run_commands(step, "/workspace")
    program, libc = build_program(step)
    name = os.path.basename(program)
    target = common.layer_path("app", f"{step['workdir']}/{name}")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(program, target)
    common.run(["strip", "--strip-all", target])
    if libc == "glibc":
        bundle_libraries(target)
    common.keep_files(step["assets"], step["workdir"])
    words = step.get("procfile") or [name]
    entrypoint = common.program_command(words, name, step["workdir"])
    common.write_json(f"{common.OUT}/launch.json", {"entrypoint": entrypoint, "workdir": step["workdir"]})


if __name__ == "__main__":
    common.main(build)
