"""Chooses the stack and toolchain version for an app: what it asks for against what the stacks offer; pure."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from s2i.buildpacks import Buildpack
from s2i.buildpacks.versions import Wanted, newest, version_tuple
from s2i.errors import UsageError
from s2i.stack.files import DEFAULT_STACK, Stack, find_stack, load_stack, stacks_dir

GO_BIN = "/usr/lib/go-{}/bin"  # where Debian's golang-X.Y-go puts the go command


@dataclass(frozen=True)
class RuntimeChoice:
    language: str
    version: str
    stack: str
    reason: str
    others: tuple[tuple[str, str], ...] = ()  # (version, stack): what else the app's ask allows, newest first

    def to_json(self) -> dict:
        return {"language": self.language, "version": self.version, "stack": self.stack, "reason": self.reason}

    def describe(self) -> str:
        return f"{self.language} {self.version} on stack {self.stack}: {self.reason}"

    def step_input(self) -> dict:
        """What the sandbox step gets: the version, and for Go the directory to put first on PATH."""
        extra = {"bin": GO_BIN.format(self.version)} if self.language == "go" else {}
        # the python step's hint for a dependency with no wheel for this CPython names the others
        others = {"others": [list(other) for other in self.others]} if self.others and self.language == "python" else {}
        return {"language": self.language, "version": self.version, **extra, **others}


def _offers(stacks: list[Stack], language: str) -> str:
    return ", ".join(f"{stack.name} {language} {' '.join(stack.offers(language)) or 'none'}" for stack in stacks)


def _others(choice: RuntimeChoice, wanted: Wanted | None, stacks: list[Stack]) -> RuntimeChoice:
    """The choice, with the other versions the stacks offer that the ask allows (a build failure's hint names them)."""
    found = {(v, s.name) for s in stacks for v in s.offers(choice.language)
             if v != choice.version and (wanted is None or wanted.allows(v))}
    ordered = sorted(found, key=lambda other: (version_tuple(other[0]), other[1] == choice.stack), reverse=True)
    return RuntimeChoice(choice.language, choice.version, choice.stack, choice.reason, tuple(ordered))


def choose(language: str, wanted: Wanted | None, stacks: list[Stack], pinned: str | None) -> RuntimeChoice:
    """The named (or default) stack's newest toolchain that meets `wanted`, and what else would (`others`)."""
    choice = _choose(language, wanted, stacks, pinned)
    return _others(choice, wanted, [s for s in stacks if not pinned or s.name == choice.stack])


def _choose(language: str, wanted: Wanted | None, stacks: list[Stack], pinned: str | None) -> RuntimeChoice:
    """The named (or default) stack's newest toolchain that meets `wanted`; unpinned, else the stack offering the newest that does."""
    first = next((s for s in stacks if s.name == (pinned or DEFAULT_STACK)), stacks[0])
    if wanted is None:
        return RuntimeChoice(language, newest(first.offers(language)) or "", first.name, f"no version asked; what stack {first.name} has")
    candidates = [first] if pinned else [first, *sorted((s for s in stacks if s is not first),
                                                        key=lambda s: version_tuple(newest(s.offers(language)) or "0"), reverse=True)]
    for stack in candidates:
        version = newest([v for v in stack.offers(language) if wanted.allows(v)])
        if version:
            passed = "" if stack is first else f" ({first.name} has {' '.join(first.offers(language)) or 'none'})"
            return RuntimeChoice(language, version, stack.name, f"{wanted.describe()}; the newest that meets it{passed}")
    asked_in = wanted.source.split(" (")[0]
    hint = (f"drop stack = {pinned!r} from s2i.toml (or --stack) so another stack may serve it, or change {asked_in}" if pinned
            else f"change {asked_in}, or set build.{language}-version in s2i.toml to a version a stack offers")
    raise UsageError(f"{wanted.describe()}, but no stack offers it ({_offers(candidates, language)})", hint)


def known_stacks(pinned: str | None) -> list[Stack]:
    """Every stack in the stacks directory; a stack named by path stands alone."""
    if pinned and (pinned.endswith(".toml") or "/" in pinned):
        return [load_stack(find_stack(pinned))]
    find_stack(pinned)  # a clear error for an unknown name
    return [load_stack(path) for path in sorted(stacks_dir().glob("*.toml"))]


def choose_runtime(buildpack: Buildpack, tree: Path, settings: dict, pinned: str | None) -> tuple[Stack, RuntimeChoice | None]:
    """The stack to build with and, for a buildpack with a language runtime, the toolchain and why."""
    stacks = known_stacks(pinned)
    if not buildpack.runtime or buildpack.wanted_version is None:
        name = Path(pinned).stem if pinned else DEFAULT_STACK
        return next((s for s in stacks if s.name == name), stacks[0]), None
    choice = choose(buildpack.runtime, buildpack.wanted_version(tree, settings), stacks, Path(pinned).stem if pinned else None)
    return next(s for s in stacks if s.name == choice.stack), choice
