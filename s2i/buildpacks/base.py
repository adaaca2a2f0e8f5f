"""What a buildpack is: detection rules, run bases, layers, build env, its settings and its decisions."""

from __future__ import annotations

import difflib
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

from s2i.errors import UsageError
from s2i.files import open_regular, read_limited


class SourceRule(NamedTuple):
    """Detect on a file matching `glob` whose text matches the regex `contains`."""

    glob: str
    contains: str
    reason: str


@dataclass(frozen=True)
class LayerSpec:
    """A layer the build writes; `mount` binds it at its final path, `key_files` make it reusable."""

    name: str
    mount: str | None = None
    key_files: tuple[str, ...] = ()
    debian_files: bool = False  # copies of the builder's packaged files: their packages are recorded (s2i.sbom.bundled)


@dataclass(frozen=True)
class Setting:
    """One key of `[build]` in s2i.toml that this buildpack reads."""

    name: str
    kind: type  # str or list (of strings)
    example: str


Decide = Callable[[Path, dict], dict]
NATIVE_RUN_IMAGES = ("static", "scratch", "base", "alpine")  # a static or self-contained program runs on any


@dataclass(frozen=True)
class Buildpack:
    """`decide(tree, settings)` reads the source tree and returns what the in-sandbox step gets as JSON.

    The defaults suit a buildpack that makes one self-contained program in one app layer.
    """

    name: str
    description: str
    files: tuple[str, ...]
    sources: tuple[SourceRule, ...]
    decide: Decide = field(compare=False, repr=False)
    version: str = "1"
    default_run_image: str = "static"
    run_images: tuple[str, ...] = NATIVE_RUN_IMAGES
    layers: tuple[LayerSpec, ...] = (LayerSpec("app"),)
    build_env: tuple[tuple[str, str], ...] = ()
    settings: tuple[Setting, ...] = ()
    refused_run_images: tuple[tuple[str, str], ...] = ()  # (base, why it cannot work)
    runtime: str = ""  # the language whose toolchain version the stack must offer (see s2i/build/runtime.py)
    native_closure: bool = False  # after the build, add the Debian packages its ELF files need that the run base lacks
    tools: tuple[str, ...] = ()  # pinned tools the stack fetches (s2i.build.tools), mounted read-only at /s2i/tools/NAME
    wanted_version: Callable[[Path, dict], object] | None = field(default=None, compare=False, repr=False)  # -> versions.Wanted
    program_builds: tuple[str, ...] = ()  # root files that build a program: they beat another language's bindings
    bindings_files: tuple[str, ...] = ()  # files that, alone, may be the bindings of a program another buildpack builds
    # run once per builder, toolchain and build env in an empty tree (no app code): its /s2i/cache seeds a cold app cache
    cache_seed: tuple[str, ...] = ()


def check_settings(buildpack: Buildpack, settings: dict, where: str = "s2i.toml") -> dict:
    """The `[build]` table, checked against what the buildpack reads: known keys, right types."""
    known = {setting.name: setting for setting in buildpack.settings}
    for key, value in settings.items():
        setting = known.get(key)
        if setting is None:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the {buildpack.name} buildpack reads: {', '.join(known) or 'no settings'}"
            raise UsageError(f"{where}: unknown setting build.{key} for the {buildpack.name} buildpack", hint)
        if setting.kind is list:
            ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        else:
            ok = isinstance(value, setting.kind) and bool(value)
        if not ok:
            raise UsageError(f"{where}: build.{key} must be a {'list of strings' if setting.kind is list else 'non-empty string'}",
                             f"write it as {setting.example}")
    return settings


def read_text(tree: Path, name: str, limit: int = 1 << 20) -> str | None:
    """A small text file of the source, or None; never follows a link out of the tree."""
    if name.startswith("/") or ".." in name.split("/"):  # a name built from the app's own text
        return None
    try:
        data = read_limited(open_regular(tree / name), limit)
    except OSError:  # absent, a link, a directory, a FIFO or another special file
        return None
    if data is None:
        raise UsageError(f"{name} is larger than {limit >> 20} MiB", f"s2i reads {name} whole; shrink it or list it in .s2iignore")
    return data.decode("utf-8", "replace")


def procfile_processes(tree: Path) -> dict[str, str]:
    """A Procfile's processes in file order: name -> command text (the first line of a name counts)."""
    processes: dict[str, str] = {}
    for line in (read_text(tree, "Procfile") or "").splitlines():
        name, colon, command = line.partition(":")
        if colon and name.strip() and not name.lstrip().startswith("#"):
            processes.setdefault(name.strip(), command)
    return processes


def procfile_command(tree: Path, process: str | None = None) -> list[str] | None:
    """The words of the Procfile's `web:` line, or of the `process` asked for (which must be there); $VARs stay
    for the image's launcher to expand."""
    processes = procfile_processes(tree)
    name = process or "web"
    if name not in processes:
        if process is None:
            return None
        where = f"Procfile has no {process!r} process (it has: {', '.join(processes)})" if processes else f"there is no Procfile to take the {process!r} process from"
        hint = "pick one of those with --process or process = \"NAME\" in s2i.toml" if processes else "add a Procfile, or drop --process / process"
        raise UsageError(where, hint)
    try:
        lexer = shlex.shlex(processes[name], posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError as exc:
        raise UsageError(f"Procfile: cannot split the {name}: line: {exc}", "check its quotes") from None
    return chained(tokens, name) or None


def chained(tokens: list[str], name: str) -> list[str]:
    """A Procfile line's words; `a; b` and `a && b` become the launcher's steps (`--s2i-then=N`/`--s2i-and=N` before
    each earlier command's N words), since the image has no shell; other shell operators are refused."""
    commands: list[tuple[str, list[str]]] = [("", [])]  # (the operator after it, its words)
    for token in tokens:
        if token in (";", "&&"):
            if commands[-1][1]:
                commands[-1] = (token, commands[-1][1])
                commands.append(("", []))
        elif token and set(token) <= set("();<>|&"):
            raise UsageError(f"Procfile: the {name}: line uses the shell's {token!r}, and the image has no shell",
                             "keep to `;` and `&&` between commands, or put the commands in a script the line runs")
        else:
            commands[-1][1].append(token)
    if not commands[-1][1] and len(commands) > 1:  # `serve;`: the last command is the app
        commands.pop()
    steps = [[f"--s2i-{'then' if op == ';' else 'and'}={len(words)}", *words] for op, words in commands[:-1]]
    return [word for step in steps for word in step] + commands[-1][1]


def program_files(tree: Path, patterns: list[str] | None, dirs: tuple[str, ...], globs: tuple[str, ...]) -> list[str]:
    """Files a built program reads at run time, kept beside it: `dirs` and `globs`, or the `assets` setting's globs."""
    for pattern in patterns or ():
        if pattern.startswith("/") or ".." in pattern.split("/"):
            raise UsageError(f"s2i.toml: build.assets {pattern!r} leaves the app", 'write globs relative to the app, e.g. "templates/**/*"')
    found = set()
    for pattern in patterns if patterns is not None else [*(f"{d}/**/*" for d in dirs), *(f"**/{g}" for g in globs)]:
        matched = set()
        for path in tree.glob(pattern):
            # a directory (`htdocs`, or `htdocs/**`, which Python's glob gives as directories only) keeps what it holds
            for item in path.rglob("*") if path.is_dir() and not path.is_symlink() else (path,):
                rel = item.relative_to(tree)
                if rel.parts[0] != "vendor" and item.is_file() and not item.is_symlink():
                    matched.add(rel.as_posix())
        if patterns is not None and not matched:
            raise UsageError(f"s2i.toml: build.assets {pattern!r} matches no file", 'write files, directories or globs relative to the app, e.g. "htdocs" or "templates/**/*"')
        found |= matched
    return sorted(found)
