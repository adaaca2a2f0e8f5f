"""C and C++: make, autotools, CMake or every source file; static against musl when that keeps every feature, else glibc with its libraries."""

from __future__ import annotations

import os
import re
from pathlib import Path

from s2i.buildpacks.base import Buildpack, LayerSpec, Setting, SourceRule, procfile_command, program_files, read_text
from s2i.errors import UsageError

# what C servers read at run time by relative path; kept beside the program, /app the working dir
ASSET_DIRS = ("htdocs", "www", "public", "static", "templates")
MAKEFILES = ("Makefile", "makefile", "GNUmakefile")
AUTOCONF = ("configure.ac", "configure.in")
# root files that build a program: they win over another language's bindings beside them (see detect.py)
PROGRAM_BUILDS = ("CMakeLists.txt", "configure", "meson.build", *AUTOCONF, "autogen.sh")
# Debian packages a build system needs that the builder lacks: added as build packages, cached, on first use
TOOL_PACKAGES = {"meson": ("meson", "ninja-build")}
CXX_SUFFIXES = (".cpp", ".cc", ".cxx")
MAX_WALK = 20_000  # files looked at to tell a C++ project from a C one
NOT_SOURCES = {".git", "test", "tests", "examples", "example", "bindings", "python", "java", "docs", "fuzz", "contrib"}
CMAKE_KEYWORDS = {"VERSION", "DESCRIPTION", "HOMEPAGE_URL", "LANGUAGES"}


def build_system(tree: Path) -> str:
    """A Makefile the author wrote, else a shipped configure, else CMake, else Meson, else configure.ac/autogen.sh,
    else the compiler."""
    if any((tree / name).is_file() for name in MAKEFILES):
        return "make"
    if (tree / "configure").is_file():
        return "autotools"
    if (tree / "CMakeLists.txt").is_file():
        return "cmake"
    if (tree / "meson.build").is_file():
        return "meson"
    if any((tree / name).is_file() for name in (*AUTOCONF, "autogen.sh")):
        return "autotools"
    return "cc"


def regenerate(tree: Path, system: str) -> list[list[str]]:
    """The project's autogen.sh (else autoreconf -fi) when configure must be made first: autogen.sh may write
    what configure.ac includes (memcached's version.m4), so it is the author's way in."""
    if system != "autotools" or (tree / "configure").is_file():
        return []
    if (tree / "autogen.sh").is_file():
        return [["sh", "./autogen.sh"]]
    return [["autoreconf", "-fi"]]


def sources(tree: Path, suffixes: tuple[str, ...]) -> list[str]:
    """Every source with one of `suffixes` at the root, else under src/ (the other common layout)."""
    for directory in (tree, tree / "src"):
        found = sorted(p.relative_to(tree).as_posix() for p in directory.glob("*")
                       if p.suffix in suffixes and p.is_file() and not p.is_symlink())
        if found:
            return found
    return []


def declared_cxx(tree: Path, system: str) -> bool | None:
    """What the build file says: CMake's project() languages or enable_language(CXX), Meson's project() languages or
    add_languages('cpp'), configure.ac's AC_PROG_CXX."""
    if system == "meson":
        return meson_cxx(read_text(tree, "meson.build") or "")
    if system == "cmake":
        text = read_text(tree, "CMakeLists.txt") or ""
        if re.search(r"enable_language\s*\([^)]*\bCXX\b", text, re.IGNORECASE):
            return True
        match = re.search(r"^\s*project\s*\(\s*[\w.-]+([^)]*)\)", text, re.IGNORECASE | re.MULTILINE)
        words = match.group(1).split() if match else []
        if "LANGUAGES" in words:
            words = words[words.index("LANGUAGES") + 1:]
        elif any(word in CMAKE_KEYWORDS for word in words) or not words:
            return None  # CMake's default: C and C++
        languages = [word for word in words if word not in CMAKE_KEYWORDS]
        return "CXX" in languages
    text = next((read_text(tree, name) for name in AUTOCONF if (tree / name).is_file()), None)
    return None if text is None else "AC_PROG_CXX" in text


def meson_cxx(text: str) -> bool | None:
    """project('name', 'c', 'cpp') or project('name', ['cpp']) or add_languages('cpp'); None when it names none."""
    if re.search(r"add_languages\s*\([^)]*'cpp'", text):
        return True
    match = re.search(r"\bproject\s*\((.*?)(?:\b\w+\s*:|\))", text, re.DOTALL)
    languages = re.findall(r"'([^']*)'", match.group(1))[1:] if match else []
    return "cpp" in languages if languages else None


def uses_cxx(tree: Path, system: str) -> bool:
    """Declared by the build file, else more C++ sources than C ones where the program's own code lives (not tests,
    examples, bindings): a stray fuzzer in C++ leaves a C program to musl; a C++ program mistaken for C falls back to glibc."""
    declared = declared_cxx(tree, system)
    if declared is not None:
        return declared
    seen, c_files, cxx_files = 0, 0, 0
    for directory, dirs, files in os.walk(tree):
        dirs[:] = [d for d in dirs if d.lower() not in NOT_SOURCES]
        seen += len(files)
        c_files += sum(name.endswith(".c") for name in files)
        cxx_files += sum(name.endswith(CXX_SUFFIXES) for name in files)
        if seen > MAX_WALK:
            break
    return cxx_files > c_files


def empty_submodules(tree: Path) -> list[str]:
    """.gitmodules paths with no files in the tree: a clone without --recursive (jq's vendor/oniguruma); at most 10."""
    text = read_text(tree, ".gitmodules") or ""
    empty = []
    for path in re.findall(r"^\s*path\s*=\s*(\S+)\s*$", text, re.MULTILINE):
        if path.startswith("/") or ".." in path.split("/"):
            continue
        where = tree / path
        if not where.is_symlink() and (not where.exists() or where.is_dir() and not any(where.iterdir())):
            empty.append(path)
    return empty[:10]


def project_name(tree: Path, system: str) -> str:
    """The name the build file gives the project: CMake's and Meson's project(), configure.ac's AC_INIT."""
    files = {"cmake": ("CMakeLists.txt", r"^\s*project\s*\(\s*\"?([\w.+-]+)"), "meson": ("meson.build", r"\bproject\s*\(\s*'([^']+)'"),
             "autotools": ("configure.ac", r"AC_INIT\s*\(\s*\[?([\w.+-]+)")}
    name, pattern = files.get(system, ("", ""))
    match = re.search(pattern, read_text(tree, name) or "", re.IGNORECASE | re.MULTILINE) if name else None
    return match.group(1) if match else ""


def check_program(name: str) -> str:
    if "/" in name or name.startswith("-") or name in (".", ".."):
        raise UsageError(f"s2i.toml: build.program {name!r} is not a file name", 'write it as program = "NAME" (the executable the build makes)')
    return name


def check_targets(targets: list[str]) -> list[str]:
    for target in targets:
        if not target or target.startswith("-"):
            raise UsageError(f"s2i.toml: build.targets {target!r} is not a target name", 'write targets = ["NAME"] (what make, cmake or meson builds)')
    return targets


def check_libc(value: str) -> str:
    if value not in ("", "musl", "glibc"):
        raise UsageError(f"s2i.toml: build.libc {value!r} is not musl or glibc", 'write libc = "glibc" (or "musl")')
    return value


def decide(tree: Path, settings: dict) -> dict:
    system = build_system(tree)
    cc = system == "cc"
    cxx_sources = sources(tree, CXX_SUFFIXES) if cc else []
    return {
        "system": system,
        "tool_packages": list(TOOL_PACKAGES.get(system, ())),
        "regenerate": regenerate(tree, system),
        "program": check_program(settings["program"]) if "program" in settings else "",
        "libc": check_libc(settings.get("libc", "")),
        "targets": check_targets(settings.get("targets", [])),
        "project": project_name(tree, system),
        "cxx": bool(cxx_sources) if cc else uses_cxx(tree, system),
        "sources": sources(tree, (".c",)) if cc else [],
        "cxx_sources": cxx_sources,
        "workdir": "/app",
        "procfile": procfile_command(tree, settings.get("process")),
        "assets": program_files(tree, settings.get("assets"), ASSET_DIRS, ()),
        "empty_submodules": empty_submodules(tree),
    }


def main_rules() -> tuple[SourceRule, ...]:
    globs = [f"{d}*{suffix}" for d in ("", "src/") for suffix in (".c", *CXX_SUFFIXES)]
    return tuple(SourceRule(glob, r"\bmain\s*\(", "defines main()") for glob in globs)


BUILDPACK = Buildpack(
    name="c",
    description="C and C++ programs: make, autotools, CMake or every source file; static against musl when that keeps "
                "every feature, else glibc with its libraries",
    files=(*MAKEFILES, *PROGRAM_BUILDS),
    # a glibc program's shared-library closure, root-owned under its own paths; the app layer is /app only
    layers=(LayerSpec("libs", debian_files=True), LayerSpec("app")),
    sources=main_rules(),
    program_builds=PROGRAM_BUILDS,
    decide=decide,
    settings=(Setting("program", str, 'program = "NAME"'), Setting("assets", list, 'assets = ["htdocs/**/*"]'),
              Setting("libc", str, 'libc = "glibc"'), Setting("targets", list, 'targets = ["server"]')),
)
