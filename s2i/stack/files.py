"""Loads stack definitions (`stacks/<name>.toml`): the builder and the run bases, checked."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from s2i.errors import UsageError
from s2i.oci.reference import parse_reference

STACKS_DIR = Path(__file__).resolve().parents[2] / "stacks"
# the Debian architectures a stack may serve, with their GNU triplet (library paths); the OCI name is the Debian one
TRIPLETS = {"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}
DEFAULT_STACK = "debian-trixie"  # the newest Debian stable; bookworm (oldstable) serves what only it has


@dataclass(frozen=True)
class RunBase:
    """One of: Debian `packages` on top of `extends`, a registry `image`, or `scratch`."""

    name: str
    packages: tuple[str, ...] = ()
    extends: str | None = None
    image: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    nonroot: bool = False  # an image base that has the nonroot user (65532), as s2i's own pushed bases do
    images: tuple[tuple[str, str], ...] = ()  # an image base's image for each other architecture (a pushed stack's)

    @property
    def kind(self) -> str:
        return "image" if self.image else "packages" if self.packages else "scratch"

    @property
    def has_nonroot(self) -> bool:
        return self.kind == "packages" or self.nonroot


@dataclass(frozen=True)
class Builder:
    packages: tuple[str, ...] = ()
    image: str | None = None
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Stack:
    name: str
    path: Path
    suite: str
    architecture: str
    builder: Builder
    bases: dict[str, RunBase]
    extra_suites: tuple[str, ...] = ()  # beside `suite`, from the same mirrors (e.g. bookworm-backports)
    toolchains: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (language, versions the builder has)
    foreign_architectures: tuple[str, ...] = ()  # run bases only, extracted from Debian's packages for them

    @property
    def architectures(self) -> tuple[str, ...]:
        """Every architecture the stack's run bases serve, the builder's first."""
        return (self.architecture, *self.foreign_architectures)

    def offers(self, language: str) -> tuple[str, ...]:
        return dict(self.toolchains).get(language, ())

    @property
    def lock_path(self) -> Path:
        return self.path.with_suffix(".lock")

    def reference_of(self, name: str) -> str | None:
        """The registry image a stack names for its builder or a run base, if it is not built here."""
        return self.builder.image if name == "builder" else self.bases[name].image

    def base_chain(self, name: str) -> list[RunBase]:
        """The base and what it extends, root first."""
        chain, seen = [], set()
        while name:
            if name in seen:
                raise UsageError(f"stack {self.name}: run base {name!r} extends itself", "break the extends cycle")
            seen.add(name)
            chain.insert(0, self.bases[name])
            name = self.bases[name].extends
        return chain


def stacks_dir() -> Path:
    return Path(os.environ.get("S2I_STACKS_DIR") or STACKS_DIR)


def known_stack(label: object) -> str | None:
    """A stack name read from an image (hostile data): only a plain name of a stack in the stacks dir, never a path."""
    if isinstance(label, str) and re.fullmatch(r"[a-z0-9][a-z0-9.-]{0,63}", label) and (stacks_dir() / f"{label}.toml").is_file():
        return label
    return None


def find_stack(name_or_path: str | None) -> Path:
    if name_or_path and (name_or_path.endswith(".toml") or os.sep in name_or_path):
        path = Path(name_or_path)
    else:
        path = stacks_dir() / f"{name_or_path or DEFAULT_STACK}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in stacks_dir().glob("*.toml"))) or "none"
        raise UsageError(f"no stack {name_or_path or DEFAULT_STACK!r} ({path} not found)", f"known stacks: {known}")
    return path


def _env(table: dict, where: str) -> tuple[tuple[str, str], ...]:
    env = table.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise UsageError(f"{where}: env must be a table of strings", 'write it as env = { KEY = "value" }')
    return tuple(sorted(env.items()))


def _strings(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise UsageError(f"{where} must be a list of names", 'write it as packages = ["libc6", ...]')
    return tuple(value)


def _run_base(name: str, table: dict, where: str) -> RunBase:
    kinds = [key for key in ("packages", "image", "scratch") if key in table]
    if len(kinds) != 1:
        raise UsageError(f"{where}: give exactly one of packages, image or scratch", "see stacks/debian-bookworm.toml")
    if "image" in table:
        parse_reference(table["image"])
        if not isinstance(table.get("nonroot", False), bool):
            raise UsageError(f"{where}: nonroot must be true or false", "write it as nonroot = true")
        images = table.get("images", {})
        if not isinstance(images, dict) or not all(isinstance(v, str) for v in images.values()):
            raise UsageError(f"{where}: images must be a table of references", 'write it as images = { arm64 = "registry/repo@sha256:..." }')
        for reference in images.values():
            parse_reference(reference)
        return RunBase(name, image=table["image"], env=_env(table, where), nonroot=table.get("nonroot", False),
                       images=tuple(sorted(images.items())))
    if "scratch" in table:
        return RunBase(name)
    return RunBase(name, _strings(table["packages"], f"{where}.packages"), table.get("extends"), env=_env(table, where))


def _architectures(data: dict, where: str) -> tuple[str, ...]:
    """`architectures = ["amd64", "arm64"]` (the builder's first), or the older `architecture = "amd64"`."""
    if "architectures" in data and "architecture" in data:
        raise UsageError(f"{where}: give architectures or architecture, not both", 'write it as architectures = ["amd64", "arm64"]')
    names = _strings(data["architectures"], f"{where}: architectures") if "architectures" in data else (data.get("architecture", "amd64"),)
    unknown = [name for name in names if not isinstance(name, str) or name not in TRIPLETS]
    if unknown or not names or len(set(names)) != len(names):
        raise UsageError(f"{where}: architectures must be distinct names out of {', '.join(TRIPLETS)}, not {', '.join(map(str, names)) or 'none'}",
                         'write it as architectures = ["amd64", "arm64"], the builder\'s first')
    return names


def load_stack(path: Path) -> Stack:
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: {exc}", "fix the TOML syntax") from None
    builder_table = data.get("builder", {})
    if builder_table.get("image"):
        parse_reference(builder_table["image"])
    builder = Builder(
        packages=_strings(builder_table.get("packages", []), f"{path}: builder.packages"),
        image=builder_table.get("image"),
        env=_env(builder_table, f"{path}: builder"),
    )
    if not builder.packages and not builder.image:
        raise UsageError(f"{path}: the builder needs packages or an image", "add [builder] packages = [...]")
    bases = {name: _run_base(name, table, f"{path}: run.{name}") for name, table in data.get("run", {}).items()}
    for base in bases.values():
        if base.extends and base.extends not in bases:
            raise UsageError(f"{path}: run.{base.name} extends unknown base {base.extends!r}", f"use one of: {', '.join(bases)}")
        if base.extends and bases[base.extends].kind != "packages":
            raise UsageError(f"{path}: run.{base.name} may only extend a packages base", "extend static, base, ...")
    toolchains = data.get("toolchains", {})
    if not isinstance(toolchains, dict):
        raise UsageError(f"{path}: toolchains must be a table", 'write it as toolchains = { go = ["1.24"], python = ["3.13"] }')
    architectures = _architectures(data, str(path))
    stack = Stack(path.stem, path, data.get("suite", "bookworm"), architectures[0], builder, bases,
                  _strings(data.get("extra-suites", []), f"{path}: extra-suites"),
                  tuple(sorted((lang, _strings(versions, f"{path}: toolchains.{lang}")) for lang, versions in toolchains.items())),
                  architectures[1:])
    for name in bases:
        stack.base_chain(name)
    return stack
