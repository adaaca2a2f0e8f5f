"""C: make, CMake or every *.c; static against musl when that links, else glibc with its libraries."""

from __future__ import annotations

from pathlib import Path

from s2i.buildpacks.base import Buildpack, LayerSpec, Setting, SourceRule, procfile_command, program_files
from s2i.errors import UsageError

# what C servers read at run time by relative path; kept beside the program, /app the working dir
ASSET_DIRS = ("htdocs", "www", "public", "static", "templates")
MAKEFILES = ("GNUmakefile", "Makefile", "makefile")


def build_system(tree: Path) -> str:
    if any((tree / name).is_file() for name in MAKEFILES):
        return "make"
    if (tree / "CMakeLists.txt").is_file():
        return "cmake"
    return "cc"


def c_sources(tree: Path) -> list[str]:
    """Every *.c at the root, else under src/ (the other common layout)."""
    for pattern in ("*.c", "src/*.c"):
        found = sorted(p.relative_to(tree).as_posix() for p in tree.glob(pattern) if p.is_file() and not p.is_symlink())
        if found:
            return found
    return []


def check_program(name: str) -> str:
    if "/" in name or name.startswith("-") or name in (".", ".."):
        raise UsageError(f"s2i.toml: build.program {name!r} is not a file name", 'write it as program = "NAME" (the executable the build makes)')
    return name


def decide(tree: Path, settings: dict) -> dict:
    system = build_system(tree)
    program = check_program(settings["program"]) if "program" in settings else ""
    return {
        "system": system,
        "program": program,
        "sources": c_sources(tree) if system == "cc" else [],
        "workdir": "/app",
        "procfile": procfile_command(tree, settings.get("process")),
        "assets": program_files(tree, settings.get("assets"), ASSET_DIRS, ()),
    }


BUILDPACK = Buildpack(
    name="c",
    description="C programs: make, CMake or every *.c; static against musl when that links, else glibc with its libraries",
    files=("Makefile", "makefile", "GNUmakefile", "CMakeLists.txt"),
    # a glibc program's shared-library closure, root-owned under its own paths; the app layer is /app only
    layers=(LayerSpec("libs"), LayerSpec("app")),
    sources=(SourceRule("*.c", r"\bmain\s*\(", "defines main()"), SourceRule("src/*.c", r"\bmain\s*\(", "defines main()")),
    decide=decide,
    settings=(Setting("program", str, 'program = "NAME"'), Setting("assets", list, 'assets = ["htdocs/**/*"]')),
)
