"""In the sandbox, after a C/C++ build: which file is the program, its shared libraries, the install's data."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess

from . import c_program, common

PREFIX = "/usr/local"
SKIPPED_DIRS = {".git", "CMakeFiles", "meson-private"}  # CMake's and meson's own probes are not programs
SYSTEM_LIB_DIRS = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/")
UNSHIPPED_SHARE = {"man", "doc", "info", "aclocal", "pkgconfig", "bash-completion", "zsh"}


def scan(root: str) -> list[c_program.Candidate]:
    """ELF programs under root (not shared libraries), relative, with their inode and digest."""
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in files:
            path = os.path.join(directory, name)
            if os.path.islink(path) or not os.path.isfile(path) or not os.access(path, os.X_OK):
                continue
            with open(path, "rb") as handle:
                if not c_program.elf_program(handle.read(4096)):
                    continue
                handle.seek(0)
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
            stat = os.stat(path)
            found.append(c_program.Candidate(os.path.relpath(path, root), (stat.st_dev, stat.st_ino), digest))
    return found


def in_bin(path: str) -> bool:
    return any(part in ("bin", "sbin") for part in path.split("/")[:-1])


def find_program(step: dict, tree: str, before: set[tuple[str, str]], dest: str | None) -> str:
    """The one new program: from the install tree's bin/ and sbin/ when there is one, else the build tree's new files."""
    if dest:
        candidates = [c for c in scan(dest) if in_bin(c.path)]
        root = dest
    else:
        candidates = [c for c in scan(tree) if (c.path, c.digest) not in before]
        root = tree
    found = c_program.programs(candidates)
    if len(found) > 1 or step["program"]:
        print(f"programs the build made: {' '.join(found)}", flush=True)
    try:
        chosen = c_program.choose(found, step["program"], step.get("project", ""))
        if len(found) > 1 and not step["program"]:
            print(f"taking {os.path.basename(chosen)}, named like the project ([build] program = \"NAME\" picks another)", flush=True)
        return os.path.join(root, chosen)
    except ValueError as exc:
        raise common.StepError(str(exc)) from None


def library_dirs(*roots: str) -> list[str]:
    """Directories holding the shared libraries the build made, so ldd finds them wherever the program's RUNPATH points."""
    dirs = set()
    for root in roots:
        for directory, subdirs, files in os.walk(root):
            subdirs[:] = [d for d in subdirs if d not in SKIPPED_DIRS]
            if any(c_program.is_library_name(name) and ".so" in name for name in files):
                dirs.add(directory)
    return sorted(dirs)


def dynamic(program: str) -> bool:
    """Whether the program has an ELF interpreter (so shared libraries to bring along)."""
    return "program interpreter" in subprocess.run(["readelf", "-l", program], capture_output=True, text=True, timeout=60).stdout


def bundle_libraries(program: str, search: list[str]) -> None:
    """The shared-library closure (ldd follows DT_NEEDED) and the ELF interpreter: Debian's at their own paths,
    the project's own under /usr/lib, a directory the run base's ld.so searches with no RUNPATH or variable."""
    if not dynamic(program):
        return
    env = dict(os.environ, LD_LIBRARY_PATH=":".join(search))
    ldd = subprocess.run(["ldd", program], capture_output=True, text=True, check=True, env=env, timeout=60).stdout
    missing = [line.split()[0] for line in ldd.splitlines() if "not found" in line]
    if missing:
        raise common.StepError(f"{os.path.basename(program)} needs {', '.join(missing)}, which neither the build nor the builder has")
    for library in c_program.parse_ldd(ldd):
        own = library.startswith(tuple(search)) or not library.startswith(SYSTEM_LIB_DIRS)
        image_path = f"/usr/lib/{os.path.basename(library)}" if own else library
        target = common.layer_path("libs", image_path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(library, target)  # follows the soname link: the file itself
        print(f"bundled {library}" + (f" as {image_path}" if own else ""), flush=True)


def keep_install_data(dest: str) -> None:
    """What the install put in PREFIX/etc and PREFIX/share (config, data the program finds by its prefix), at the same
    paths; manuals and build metadata left out. Regular files only: a link in the install tree is not followed."""
    kept = 0
    for part in ("etc", "share"):
        root = os.path.join(dest, PREFIX.lstrip("/"), part)
        for directory, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if directory != root or d not in UNSHIPPED_SHARE)
            for name in files:
                path = os.path.join(directory, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                target = common.layer_path("libs", "/" + os.path.relpath(path, dest))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(path, target)
                kept += 1
    if kept:
        print(f"kept {kept} files the install put in {PREFIX}/etc and {PREFIX}/share", flush=True)
