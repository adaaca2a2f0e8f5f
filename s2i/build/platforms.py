"""`s2i build --platform`: which platforms a build may target and what building for one changes; pure, no IO.

The builder always runs on the stack's first architecture; another of its architectures is cross-compiled: Go by
GOARCH, C with Debian's cross toolchain added to the builder, Python by installing the target's wheels. A platform s2i cannot build for is refused
here, in one line, before anything is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from s2i.errors import UsageError
from s2i.oci.image import parse_platform

if TYPE_CHECKING:  # the CLI reads --platform through this module: it loads no build stage
    from s2i.build.plan import BuildPlan
    from s2i.stack.files import Stack

DEFAULT_PLATFORM = "linux/amd64"


@dataclass(frozen=True)
class Target:
    """A platform s2i builds for, with the names each toolchain gives its architecture."""

    architecture: str  # OCI's (and Go's and Debian's) name
    triplet: str  # GNU's, the cross compilers' prefix
    processor: str  # CMake's CMAKE_SYSTEM_PROCESSOR, uname -m
    debian_cross: str  # the suffix of Debian's cross packages (libc6-dev-arm64-cross)

    @property
    def name(self) -> str:
        return f"linux/{self.architecture}"

    @property
    def platform(self) -> dict:
        return {"os": "linux", "architecture": self.architecture}


TARGETS = {
    "amd64": Target("amd64", "x86_64-linux-gnu", "x86_64", "amd64"),
    "arm64": Target("arm64", "aarch64-linux-gnu", "aarch64", "arm64"),
}
CROSS_BUILDPACKS = ("go", "c", "python")  # python: uv installs the target's wheels, the launcher is cross-compiled


def parse_platforms(values: tuple[str, ...] | list[str]) -> tuple[dict, ...]:
    """--platform values, each a comma list: the platforms in the order given, each once; the host's when none."""
    texts = [part.strip() for value in values for part in value.split(",") if part.strip()] or [DEFAULT_PLATFORM]
    platforms = []
    for text in texts:
        platform = parse_platform(text)
        if platform not in platforms:
            platforms.append(platform)
    return tuple(platforms)


def check_targets(platforms: tuple[dict, ...], stack: Stack, buildpack: str) -> tuple[Target, ...]:
    """The targets, or a one-line refusal naming what s2i builds for."""
    offered = [arch for arch in stack.architectures if arch in TARGETS]
    targets = []
    for platform in platforms:
        name = "/".join(v for v in (platform["os"], platform["architecture"], platform.get("variant", "")) if v)
        if platform["os"] != "linux" or platform["architecture"] not in offered or platform.get("variant"):
            raise UsageError(f"cannot build for {name}: stack {stack.name} has {', '.join(f'linux/{a}' for a in offered)}",
                             f"use --platform {','.join(f'linux/{a}' for a in offered)} (or a subset)")
        target = TARGETS[platform["architecture"]]
        if target.architecture != stack.architecture and buildpack not in CROSS_BUILDPACKS:
            raise UsageError(f"the {buildpack} buildpack cannot build for {name} yet (only go, c and python cross-build)",
                             f"build for linux/{stack.architecture} only, or on a {name} machine with a {name} stack")
        targets.append(target)
    return tuple(targets)


def is_cross(target: Target, stack: Stack) -> bool:
    return target.architecture != stack.architecture


def arch_suffix(target: Target, stack: Stack) -> str:
    """Added to a cross build's cache names and layer keys: its caches and layers never serve the host's, nor the reverse."""
    return f"-{target.architecture}" if is_cross(target, stack) else ""


def check_cross(target: Target, stack: Stack, buildpack: str, decision: dict, build_packages: tuple[str, ...],
                run_packages: tuple[str, ...]) -> None:
    """What s2i cannot cross-compile, refused before building: packages from the builder's own architecture, musl for C."""
    if not is_cross(target, stack):
        return
    if build_packages and buildpack == "c":
        raise UsageError(f"cannot cross-compile for {target.name} with build.packages ({' '.join(build_packages)}): "
                         f"they are {stack.architecture} libraries",
                         f"build for linux/{stack.architecture} only, or drop build.packages")
    if run_packages:
        raise UsageError(f"[run] packages for {target.name} are not supported: s2i extracts them from the {stack.architecture} archive",
                         f"build for linux/{stack.architecture} only, or drop run.packages")
    if decision.get("libc") == "musl":
        raise UsageError(f"cannot build against musl for {target.name}: Debian has no musl cross toolchain "
                         "(s2i links arm64 programs static against glibc)",
                         f'drop [build] libc = "musl", or build for linux/{stack.architecture} only')


def cross_packages(target: Target, stack: Stack, decision: dict) -> tuple[str, ...]:
    """Debian's cross compiler for the target, for the launcher (every buildpack) and a C program's C++."""
    if not is_cross(target, stack):
        return ()
    cxx = (f"g++-{target.triplet}",) if decision.get("cxx") else ()
    return (f"gcc-{target.triplet}", f"libc6-dev-{target.debian_cross}-cross", *cxx)


def target_plan(plan: BuildPlan, target: Target, stack: Stack) -> BuildPlan:
    """The plan for one target: a host build unchanged; a cross build tells the step (and Go) the target."""
    if not is_cross(target, stack):
        return plan
    env = dict(plan.build_env)
    if plan.buildpack.name == "go":
        env["GOARCH"] = target.architecture  # with CGO_ENABLED=0, Go needs nothing else to cross-compile
    cross = {"architecture": target.architecture, "triplet": target.triplet, "processor": target.processor}
    return replace(plan, build_env=tuple(sorted(env.items())), step_input={**plan.step_input, "cross": cross})
