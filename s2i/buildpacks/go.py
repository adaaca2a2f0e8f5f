"""Go: one static, trimmed, stripped binary at /app/NAME; which package and which name is decided here."""

from __future__ import annotations

import re
from pathlib import Path

from s2i.buildpacks.base import Buildpack, Setting, SourceRule, procfile_command, program_files, read_text
from s2i.buildpacks.steps.common import program_command
from s2i.buildpacks.versions import Wanted, version_tuple
from s2i.errors import UsageError

MAIN_PACKAGE = re.compile(r"^package main\b", re.MULTILINE)
LDFLAGS = "-s -w -buildid="
# what Go web apps read at run time by relative path; kept beside the binary, with /app the working dir
ASSET_DIRS = ("templates", "static", "public", "views")
ASSET_FILES = ("*.html", "*.tmpl", "*.gohtml")


def find_main(tree: Path) -> str:
    """The main package: at the root, else the only one under cmd/."""
    if any(MAIN_PACKAGE.search(read_text(tree, path.name) or "") for path in sorted(tree.glob("*.go"))):
        return "."
    commands = sorted(path.name for path in (tree / "cmd").glob("*/") if path.is_dir()) if (tree / "cmd").is_dir() else []
    if len(commands) != 1:
        found = f"{len(commands)} under cmd/ ({', '.join(commands)})" if commands else "none under cmd/"
        raise UsageError(f"go: no main package at the root and {found}", 'name one in s2i.toml: [build] main = "./cmd/NAME"')
    return f"./cmd/{commands[0]}"


def module_path(tree: Path) -> str:
    for line in (read_text(tree, "go.mod") or "").splitlines():
        words = line.split("//")[0].split()
        if len(words) == 2 and words[0] == "module":
            return words[1].strip('"`')
    return ""


def binary_name(tree: Path, main: str) -> str:
    """The last element of the module path for a root main package, else the package's directory."""
    if main.rstrip("/") in (".", "./"):
        return module_path(tree).rstrip("/").rsplit("/", 1)[-1] or "app"
    return Path(main.rstrip("/")).name


def check_main(main: str) -> str:
    if main.startswith("-") or main.startswith("/") or ".." in Path(main).parts:
        raise UsageError(f"s2i.toml: build.main {main!r} is not a package path inside the app", 'write it as main = "./cmd/NAME"')
    return main if main.startswith(".") else f"./{main}"


def wanted_go(tree: Path, settings: dict) -> Wanted | None:
    """`[build] go-version` wins; else go.mod's `go` line (a minimum), raised by its `toolchain` line (the preferred Go)."""
    if "go-version" in settings:
        return Wanted("go", settings["go-version"], "s2i.toml build.go-version")
    floor, said = None, []
    for line in (read_text(tree, "go.mod") or "").splitlines():
        words = line.split("//")[0].split()
        if len(words) == 2 and words[0] in ("go", "toolchain") and re.fullmatch(r"(go)?\d+(\.\d+)*\w*", words[1]):
            version = ".".join(str(n) for n in version_tuple(words[1].removeprefix("go"))[:2])
            said.append(f"{words[0]} {words[1]}")
            floor = max(floor or version, version, key=version_tuple)
    return Wanted("go", f">={floor}", f"go.mod ({', '.join(said)})") if floor else None


def decide(tree: Path, settings: dict) -> dict:
    main = check_main(settings["main"]) if "main" in settings else find_main(tree)
    name = binary_name(tree, main)
    tags = [f"-tags={','.join(settings['tags'])}"] if settings.get("tags") else []
    procfile = procfile_command(tree, settings.get("process"))
    return {
        "package": main,
        # no -mod=vendor: Go itself uses vendor/ when go.mod says go >= 1.14 and vendor/modules.txt agrees
        "flags": [*tags, "-trimpath", "-buildvcs=false", f"-ldflags={LDFLAGS}"],
        "init_module": "" if (tree / "go.mod").is_file() else name,
        "assets": program_files(tree, settings.get("assets"), ASSET_DIRS, ASSET_FILES),
        "binary": f"/app/{name}",
        "launch": {"entrypoint": program_command(procfile, name, "/app") if procfile else [f"/app/{name}"], "workdir": "/app"},
    }


BUILDPACK = Buildpack(
    name="go",
    description="Go programs, built static (CGO_ENABLED=0), trimmed and stripped",
    files=("go.mod",),
    sources=(SourceRule("*.go", r"^package main\b", "declares package main"),),
    build_env=(("CGO_ENABLED", "0"), ("GOCACHE", "/s2i/cache/go-build"), ("GOFLAGS", ""), ("GOMODCACHE", "/s2i/cache/go-mod"),
               ("GOPRIVATE", ""), ("GOPROXY", ""),
               ("GOTOOLCHAIN", "local")),  # the stack's Go, never one downloaded behind the build's back
    decide=decide,
    settings=(Setting("main", str, 'main = "./cmd/NAME"'), Setting("tags", list, 'tags = ["netgo", "osusergo"]'),
              Setting("assets", list, 'assets = ["templates/**/*", "config.yaml"]'),
              Setting("go-version", str, 'go-version = "1.24" (or ">=1.22")')),
    runtime="go",
    wanted_version=wanted_go,
    # the standard library compiled as every build compiles it (-trimpath; -ldflags only link), so a cold build does not
    cache_seed=("go", "build", "-trimpath", "std"),
)
