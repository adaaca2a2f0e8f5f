"""In the sandbox: `go build` the decided package into the app layer."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from . import c_program, common

SEED = "/s2i/seed/go-build"  # the standard library, compiled once per builder and Go (see Buildpack.cache_seed)
# how go reports a module it could not fetch: `main.go:8:2: MOD@VER: Get "https://HOST/...": dial tcp: ...: no such host`
FETCH_FAILED = re.compile(r'(?P<module>[^\s:]+@v[^\s:]+): (?:[^"]*: )?Get "https?://(?P<host>[^/"]+)[^"]*": (?P<why>.+)')
NOT_REQUIRED = re.compile(r"^(?P<where>\S+): no required module provides package (?P<package>[^\s;]+)")
LOOKUP_OFF = re.compile(r"(?P<module>[^\s:]+@v[^\s:]+): module lookup disabled by GOPROXY=(?P<why>off)")
# static against glibc: netgo and osusergo keep the resolver and user lookups in Go, so no NSS module is needed at run time
CGO_TAGS = ("netgo", "osusergo")
CGO_LDFLAGS = "-linkmode=external -extldflags=-static"


def seed_cache() -> None:
    """A cold app cache starts as a copy of the seed: Go then compiles only the app and its modules."""
    cache = os.environ.get("GOCACHE", "")
    if os.path.isdir(SEED) and cache and not os.path.isdir(cache):
        shutil.copytree(SEED, cache, symlinks=True)
        for directory, _, files in os.walk(cache):  # atime before mtime: a read shows, so --cache can leave out the unused
            for name in files:
                path = os.path.join(directory, name)
                os.utime(path, ns=(0, os.lstat(path).st_mtime_ns), follow_symlinks=False)
        print("go build cache seeded with the precompiled standard library", flush=True)


def unfetched_module(line: str) -> str | None:
    """The one-line failure for go's output line saying it could not download a module, else None."""
    found = FETCH_FAILED.search(line) or LOOKUP_OFF.search(line)
    if not found:
        return None
    where = f"from {found['host']} " if "host" in found.groupdict() else ""
    why = found["why"].rsplit(": ", 1)[-1].strip()
    return (f"error: go could not download {found['module']} {where}({'GOPROXY=off' if why == 'off' else why}): "
            "vendor the dependencies (go mod vendor, commit vendor/) or set GOPROXY to a proxy the build can reach")


def failure(lines: list[str]) -> str | None:
    """What a failed go build's output says the user can fix, in one line: a module go could not download, an import
    no required module provides, or a vendor/ that no longer matches go.mod (go's own advice is a command on a line of
    its own: `go mod vendor`, `go get X`)."""
    for number, line in enumerate(lines):
        if "inconsistent vendoring" in line:
            detail = next((later.strip() for later in lines[number + 1:] if later.strip()), "")
            return (f"error: go: vendor/modules.txt does not match go.mod ({detail}): run go mod vendor and commit vendor/, "
                    "or delete vendor/ so the build downloads the modules")
        if unfetched_module(line):
            return unfetched_module(line)
        if NOT_REQUIRED.search(line):
            found = NOT_REQUIRED.search(line)
            return (f"error: go: no module in go.mod provides {found['package']} ({found['where']}): add it with "
                    "go get (or go mod tidy) and commit go.mod and go.sum (without a go.mod: go mod init NAME first)")
    return None


def cgo_packages(flags: list[str], package: str, cwd: str) -> list[str]:
    """The app's packages and modules that use cgo (`import "C"`): built without it they get a stub or fail at run time."""
    tags = [flag for flag in flags if flag.startswith("-tags=")]
    argv = ["go", "list", "-deps", *tags, "-f", "{{if and (not .Standard) .CgoFiles}}{{.ImportPath}}{{end}}", package]
    listed = subprocess.run(argv, cwd=cwd, env=dict(os.environ, CGO_ENABLED="1"), capture_output=True, text=True)
    return listed.stdout.split() if listed.returncode == 0 else []  # go build reports what stopped go list


def with_cgo(flags: list[str]) -> list[str]:
    """The build's flags for a static cgo program: netgo and osusergo added to the tags, glibc linked in."""
    tags = [tag for flag in flags if flag.startswith("-tags=") for tag in flag[len("-tags="):].split(",") if tag]
    rest = [flag for flag in flags if not flag.startswith("-tags=")]
    linked = [f"{flag} {CGO_LDFLAGS}" if flag.startswith("-ldflags=") else flag for flag in rest]
    return [f"-tags={','.join(dict.fromkeys([*tags, *CGO_TAGS]))}", *linked]


def use_cgo(step: dict, flags: list[str], cwd: str) -> tuple[list[str], str]:
    """The flags with cgo turned on when a package needs it and the app did not set CGO_ENABLED, and the note on a failure."""
    if "CGO_ENABLED" in step.get("app_env", ()) or os.environ.get("CGO_ENABLED") != "0":
        return flags, ""
    packages = cgo_packages(flags, step["package"], cwd)
    if not packages:
        return flags, ""
    os.environ["CGO_ENABLED"] = "1"
    print(f"cgo: {', '.join(packages[:3])} use{'s' if len(packages) == 1 else ''} cgo: CGO_ENABLED=1, linked statically against "
          f"glibc (tags {', '.join(CGO_TAGS)})", flush=True)
    return with_cgo(flags), f"cgo is on for {packages[0]}; [build] env = {{ CGO_ENABLED = \"0\" }} builds without it"


def go_build(argv: list[str], cwd: str, cgo_note: str = "") -> None:
    """Echo and run `go build`, streaming its output; a failure the user can fix ends the step with one line."""
    lines: list[str] = []
    code = common.watched(argv, cwd, None, lambda line: lines.append(line) if len(lines) < 2000 else None)
    if code != 0 and failure(lines):
        raise common.StepError(failure(lines))
    if code != 0 and cgo_note and c_program.first_error(lines):  # the C compiler's or linker's first error says more
        raise common.StepError(f"error: {c_program.first_error(lines)} ({cgo_note})")
    if code != 0:
        sys.exit(code)


def gopath_tree(import_path: str) -> str:
    """A repo from before modules, copied to where GOPATH mode looks for it; go build then reads its vendor/."""
    source = f"/tmp/gopath/src/{import_path}"
    shutil.copytree("/workspace", source, symlinks=True)
    os.environ.update(GOPATH="/tmp/gopath", GO111MODULE="off", PWD=source)
    print(f"no go.mod: GOPATH mode at $GOPATH/src/{import_path}, as Go built it before modules", flush=True)
    return source


def is_program(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def build(step: dict) -> None:
    output = common.layer_path("app", step["binary"])
    if step.get("runtime", {}).get("bin"):  # the chosen Go first on PATH; the stack may hold several
        os.environ["PATH"] = f"{step['runtime']['bin']}:{os.environ['PATH']}"
    common.run(["go", "version"], cwd="/workspace")
    seed_cache()
    if step["init_module"]:  # a main package without go.mod, as Go before modules built it
        common.run(["go", "mod", "init", step["init_module"]], cwd="/workspace")
    common.run_commands(step, "/workspace")
    cwd = gopath_tree(step["gopath"]) if step.get("gopath") else "/workspace"
    flags, cgo_note = use_cgo(step, step["flags"], cwd)
    print(f"go {step['explain']}", flush=True)
    go_build(["go", "build", *flags, "-o", output, step["package"]], cwd, cgo_note)
    if not is_program(output):  # go build -o of a library package succeeds and writes the package's archive
        raise common.StepError(f"error: go build {step['package']} made no program: it is not a main package; "
                               'name the one to build in s2i.toml: [build] main = "./cmd/NAME"')
    common.keep_files(step["assets"], step["launch"]["workdir"])
    common.write_json(f"{common.OUT}/launch.json", step["launch"])


if __name__ == "__main__":
    common.main(build)
