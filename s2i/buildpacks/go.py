"""Go: one static, trimmed, stripped binary at /app/NAME; which package and which name is decided here."""

from __future__ import annotations

import re
from pathlib import Path

from s2i.buildpacks.base import Buildpack, Setting, SourceRule, procfile_command, program_files, read_text
from s2i.buildpacks.go_embed import embedded_files
from s2i.buildpacks.go_main import find_main, gopath_import_path
from s2i.buildpacks.steps.common import program_command
from s2i.buildpacks.versions import Wanted, version_tuple
from s2i.errors import UsageError

LDFLAGS = "-s -w -buildid="
# what Go web apps read at run time by relative path; kept beside the binary, with /app the working dir
ASSET_DIRS = ("templates", "static", "public", "views")
ASSET_FILES = ("*.html", "*.tmpl", "*.gohtml")


def module_path(tree: Path) -> str:
    for line in (read_text(tree, "go.mod") or "").splitlines():
        words = line.split("//")[0].split()
        if len(words) == 2 and words[0] == "module":
            return words[1].strip('"`')
    return ""


def module_name(tree: Path) -> str:
    """The module path's last element, as `go build` names a binary: a major-version suffix (`/v2`) is not the name."""
    parts = module_path(tree).rstrip("/").split("/")
    return parts[-2] if len(parts) > 1 and re.fullmatch(r"v[2-9]\d*", parts[-1]) else parts[-1]


def binary_name(tree: Path, main: str, gopath: str = "") -> str:
    """The module's (or GOPATH import path's) name for a root main package, else the package's directory."""
    if main.rstrip("/") in (".", "./"):
        return module_name(tree) or gopath.rsplit("/", 1)[-1] or "app"
    return Path(main.rstrip("/")).name


def check_main(main: str) -> str:
    if main.startswith("-") or main.startswith("/") or ".." in Path(main).parts:
        raise UsageError(f"s2i.toml: build.main {main!r} is not a package path inside the app", 'write it as main = "./cmd/NAME"')
    return main if main.startswith(".") else f"./{main}"


def wanted_go(tree: Path, settings: dict) -> Wanted | None:
    """`[build] go-version` wins; else go.mod's (or go.work's) `go` line, the minimum. Its `toolchain` line only suggests
    a Go for GOTOOLCHAIN=auto to fetch: s2i runs the stack's newest (GOTOOLCHAIN=local), so a newer one refuses nothing."""
    if "go-version" in settings:
        return Wanted("go", settings["go-version"], "s2i.toml build.go-version")
    lines, said = {}, []
    manifest = "go.mod" if (tree / "go.mod").is_file() or not (tree / "go.work").is_file() else "go.work"
    for line in (read_text(tree, manifest) or "").splitlines():
        words = line.split("//")[0].split()
        if len(words) == 2 and words[0] in ("go", "toolchain") and re.fullmatch(r"(go)?\d+(\.\d+)*\w*", words[1]):
            lines[words[0]] = ".".join(str(n) for n in version_tuple(words[1].removeprefix("go"))[:2])
            said.append(f"{words[0]} {words[1]}")
    floor = lines.get("go") or lines.get("toolchain")
    return Wanted("go", f">={floor}", f"{manifest} ({', '.join(said)})") if floor else None


def run_time_files(tree: Path, assets: list[str] | None) -> list[str]:
    """The files kept beside the program: `[build] assets` as given, else the usual web-app files it does not embed."""
    kept = program_files(tree, assets, ASSET_DIRS, ASSET_FILES)
    return kept if assets is not None else sorted(set(kept) - embedded_files(tree))


def decide(tree: Path, settings: dict) -> dict:
    main, why = (check_main(settings["main"]), "s2i.toml build.main") if "main" in settings else find_main(tree, module_name(tree))
    gopath = "" if (tree / "go.mod").is_file() or (tree / "go.work").is_file() else gopath_import_path(tree)
    name = binary_name(tree, main, gopath)
    tags = [f"-tags={','.join(settings['tags'])}"] if settings.get("tags") else []
    procfile = procfile_command(tree, settings.get("process"))
    return {
        "package": main,
        "explain": f"builds {main} -> /app/{name} ({why})",
        # no -mod=vendor: Go itself uses vendor/ when go.mod says go >= 1.14 and vendor/modules.txt agrees
        "flags": [*tags, "-trimpath", "-buildvcs=false", f"-ldflags={LDFLAGS}"],
        "init_module": "" if (tree / "go.mod").is_file() or (tree / "go.work").is_file() or gopath else name,
        "gopath": gopath,  # a repo from before modules: built in GOPATH mode at this import path, with its vendor/
        "assets": run_time_files(tree, settings.get("assets")),
        "binary": f"/app/{name}",
        "launch": {"entrypoint": program_command(procfile, name, "/app") if procfile else [f"/app/{name}"], "workdir": "/app"},
    }


BUILDPACK = Buildpack(
    name="go",
    description="Go programs, built static (CGO_ENABLED=0), trimmed and stripped",
    files=("go.mod", "go.work"),
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
