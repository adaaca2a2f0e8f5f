"""In the sandbox: cross-compiling C/C++ for another architecture with Debian's cross toolchain, static against glibc.

Static, as the host's musl build is: the program runs on the `static` and `scratch` bases like the amd64 one,
and no library of the builder's own architecture (the native closure's) can end up beside it.
"""

from __future__ import annotations

import os

from . import common

CROSS_BIN = "/tmp/cross/bin"
MESON_CROSS = "/tmp/cross/meson-cross.ini"
COMPILERS = {"gcc": "gcc", "cc": "gcc", "g++": "g++", "c++": "g++"}
TOOLS = ("ar", "ranlib", "strip", "ld", "nm", "objcopy", "objdump", "as", "readelf")
MACHINES = {62: "x86-64", 183: "aarch64"}  # ELF e_machine
EXPECTED = {"amd64": 62, "arm64": 183}


def wrappers(triplet: str) -> None:
    """gcc, cc, g++, ar, strip... first on PATH, so a Makefile that names gcc (or strip) gets the target's."""
    os.makedirs(CROSS_BIN, exist_ok=True)
    scripts = {name: f'exec {triplet}-{real} -static "$@"' for name, real in COMPILERS.items()}
    scripts.update({tool: f'exec {triplet}-{tool} "$@"' for tool in TOOLS})
    for name, line in scripts.items():
        path = os.path.join(CROSS_BIN, name)
        with open(path, "w") as handle:
            handle.write(f"#!/bin/sh\n{line}\n")
        os.chmod(path, 0o755)


def setup(cross: dict) -> dict:
    """The build env for the target; this process's PATH too, so `strip` of the program is the target's."""
    triplet = cross["triplet"]
    wrappers(triplet)
    with open(MESON_CROSS, "w") as handle:
        handle.write(meson_cross_file(cross))
    os.environ["PATH"] = f"{CROSS_BIN}:{os.environ['PATH']}"
    print(f"cross-compiling for linux/{cross['architecture']} with {triplet}-gcc, static against glibc", flush=True)
    return dict(os.environ, CC=f"{CROSS_BIN}/gcc", CXX=f"{CROSS_BIN}/g++", AR=f"{CROSS_BIN}/ar", RANLIB=f"{CROSS_BIN}/ranlib",
                STRIP=f"{CROSS_BIN}/strip", PKG_CONFIG_LIBDIR=f"/usr/lib/{triplet}/pkgconfig", PKG_CONFIG_PATH="")


def meson_cross_file(cross: dict) -> str:
    """Meson's cross file: the wrappers as compilers and tools, the target's pkg-config directory, the machine."""
    tools = {"c": "gcc", "cpp": "g++", "ar": "ar", "strip": "strip"}
    binaries = "".join(f"{key} = '{CROSS_BIN}/{name}'\n" for key, name in tools.items())
    return (f"[binaries]\n{binaries}pkg-config = 'pkg-config'\n\n"
            f"[properties]\npkg_config_libdir = ['/usr/lib/{cross['triplet']}/pkgconfig']\n\n"
            f"[host_machine]\nsystem = 'linux'\ncpu_family = '{cross['processor']}'\ncpu = '{cross['processor']}'\nendian = 'little'\n")


def configure_flags(step: dict) -> list[str]:
    """What tells autotools, CMake and Meson they build for another machine."""
    cross = step.get("cross")
    if not cross:
        return []
    if step["system"] == "autotools":
        return [f"--host={cross['triplet']}"]
    if step["system"] == "cmake":
        return ["-DCMAKE_SYSTEM_NAME=Linux", f"-DCMAKE_SYSTEM_PROCESSOR={cross['processor']}",
                f"-DCMAKE_FIND_ROOT_PATH=/usr/{cross['triplet']}", "-DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER",
                "-DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY", "-DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY"]
    if step["system"] == "meson":
        return ["--cross-file", MESON_CROSS]
    return []


def machine(path: str) -> int:
    with open(path, "rb") as handle:
        header = handle.read(20)
    return int.from_bytes(header[18:20], "little") if len(header) == 20 else 0


def check_machine(program: str, cross: dict) -> None:
    """A build that called the host's compiler by its path made a program the target cannot run: said, not shipped."""
    found, wanted = machine(program), EXPECTED[cross["architecture"]]
    if found != wanted:
        raise common.StepError(
            f"error: {os.path.basename(program)} was built for {MACHINES.get(found, f'machine {found}')}, not linux/{cross['architecture']}: "
            f"the build ran a compiler other than $CC ({cross['triplet']}-gcc); build for the host's platform only, "
            "or make the build use $CC")
