"""Which Go main package a build makes, and why: the root, cmd/*, else the only one in the module."""

from __future__ import annotations

import os
import re
from pathlib import Path

from s2i.buildpacks.base import read_text
from s2i.errors import UsageError
from s2i.files import open_regular

MAIN_PACKAGE = re.compile(r"^package main\b", re.MULTILINE)
# a generator or script kept beside the code (`go run gen.go`): never built with the package
IGNORED = re.compile(r"^//go:build ignore\b|^// \+build ignore\b", re.MULTILINE)
SKIPPED_DIRS = {"vendor", "testdata", "node_modules"}  # and .hidden / _underscored ones, as the go tool skips them
MAX_GO_FILES = 20000
HEAD_BYTES = 64 << 10  # the package clause follows the licence header and build lines


def head(path: Path) -> str:
    """The start of a source file, where its build lines and package clause are; '' for a link or special file."""
    try:
        with os.fdopen(open_regular(path), "rb") as handle:
            return handle.read(HEAD_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def declares_main(tree: Path, rel: str) -> bool:
    """The file is in package main and not excluded from every build by an `ignore` build line."""
    text = head(tree / rel)
    found = MAIN_PACKAGE.search(text)
    return bool(found) and not IGNORED.search(text[:found.start()])


def is_main_dir(tree: Path, rel: str) -> bool:
    directory = tree / rel
    return any(declares_main(tree, (Path(rel) / path.name).as_posix()) for path in sorted(directory.glob("*.go"))
               if path.is_file() and not path.is_symlink() and not path.name.endswith("_test.go"))


def main_dirs(tree: Path, roots: tuple[str, ...] = (".",)) -> list[str]:
    """Directories holding a main package under `roots` (the module, or a workspace's modules), as `./dir`;
    vendor/, testdata/, hidden and `_` directories and nested modules are not the app's."""
    found, seen = [], 0
    for root in roots:
        for top, dirs, files in os.walk(tree / root):
            rel = Path(top).relative_to(tree).as_posix()
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and d[0] not in "._"
                             and not (Path(top) / d).is_symlink() and not (Path(top) / d / "go.mod").exists())
            seen += sum(name.endswith(".go") for name in files)
            if seen > MAX_GO_FILES:
                return found
            if any(name.endswith(".go") for name in files) and is_main_dir(tree, rel):
                found.append("." if rel == "." else f"./{rel}")
    return found


def workspace_modules(tree: Path) -> tuple[str, ...]:
    """The module directories a root go.work uses (`use ./api` or a `use (...)` block), inside the tree."""
    text = re.sub(r"//.*", "", read_text(tree, "go.work") or "")
    uses = [word for block, single in re.findall(r"^use\s*(?:\(([^)]*)\)|(\S+))", text, re.MULTILINE) for word in (block or single).split()]
    return tuple(dict.fromkeys(use.strip('"`') for use in uses
                               if not use.strip('"`').startswith("/") and ".." not in use.strip('"`').split("/")))


def find_main(tree: Path, module_name: str) -> tuple[str, str]:
    """The main package and the reason it was chosen: the root; the only `cmd/*` (or the one named like the module);
    else the only main package in the module, or in a go.work's modules. Several: one line listing them and the setting."""
    if not (tree / "go.mod").is_file() and (tree / "go.work").is_file():
        return only_one(main_dirs(tree, workspace_modules(tree)), "in the go.work modules")
    if is_main_dir(tree, "."):
        return ".", "the main package at the root"
    commands = [d for d in main_dirs(tree, ("cmd",)) if d.count("/") == 2] if (tree / "cmd").is_dir() else []
    if len(commands) == 1:
        return commands[0], "the only main package under cmd/"
    if f"./cmd/{module_name}" in commands:
        return f"./cmd/{module_name}", f"named like the module, of {len(commands)} under cmd/"
    return only_one(commands or main_dirs(tree), "under cmd/" if commands else "in the module")


def only_one(candidates: list[str], where: str) -> tuple[str, str]:
    if len(candidates) == 1:
        return candidates[0], f"the only main package {where}"
    if not candidates:
        raise UsageError(f"go: no main package {where} (no .go file with `package main` outside vendor/ and testdata/)",
                         'add one, or name it in s2i.toml: [build] main = "./cmd/NAME"')
    shown = ", ".join(candidates[:8]) + (f" and {len(candidates) - 8} more" if len(candidates) > 8 else "")
    raise UsageError(f"go: no main package at the root and {len(candidates)} {where} ({shown})",
                     f'name one in s2i.toml: [build] main = "{candidates[0]}"')


IMPORT_PATH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*(/[A-Za-z0-9._~-]+)*")  # lands in a path: no `..`, no leading /
GODEPS_PATH = re.compile(r'"ImportPath"\s*:\s*"([^"]+)"')
GLIDE_PATH = re.compile(r"^package:\s*['\"]?([^\s'\"]+)", re.MULTILINE)
IMPORTS = re.compile(r'^import\s*\(([^)]*)\)|^import\s+(?:[\w.]+\s+)?("[^"]+")', re.MULTILINE)


def own_imports(tree: Path) -> list[str]:
    """Import paths of the app's own packages, as a GOPATH-era repo writes them (`github.com/team/app/server` for
    ./server): each import whose tail names a directory of the tree gives the prefix before it."""
    votes: dict[str, int] = {}
    for path in sorted(tree.glob("*.go"))[:200]:
        for block, single in IMPORTS.findall(read_text(tree, path.name) or ""):
            for imported in re.findall(r'"([^"]+)"', block or single):
                parts = imported.split("/")
                for cut in range(1, len(parts)):
                    tail = tree.joinpath(*parts[cut:])
                    if parts[cut] != "vendor" and tail.is_dir() and not tail.is_symlink():
                        votes["/".join(parts[:cut])] = votes.get("/".join(parts[:cut]), 0) + 1
                        break
    return sorted(votes, key=lambda prefix: (-votes[prefix], prefix))


def gopath_import_path(tree: Path) -> str:
    """A repo from before modules (no go.mod) that vendors its dependencies or imports its own packages by full path
    is built in GOPATH mode at this import path; '' when nothing says it is one."""
    said = GODEPS_PATH.search(read_text(tree, "Godeps/Godeps.json") or "") or GLIDE_PATH.search(read_text(tree, "glide.yaml") or "")
    candidates = [said[1]] if said else own_imports(tree)
    if not candidates and (tree / "vendor").is_dir():
        candidates = ["app"]
    return next((path for path in candidates if IMPORT_PATH.fullmatch(path) and ".." not in path.split("/")), "")
