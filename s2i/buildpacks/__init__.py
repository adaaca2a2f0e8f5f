"""The buildpacks, in detection order; each is one module here plus its in-sandbox step under steps/."""

from __future__ import annotations

from s2i.buildpacks.base import Buildpack, LayerSpec, Setting, SourceRule, check_settings
from s2i.errors import UsageError

# Detection order and tie-breaks: the first buildpack that matches wins. Language-specific markers
# (go.mod, requirements.txt) beat build files any language may carry (a Makefile wrapping `go build`).
ORDER = ("go", "python", "c")

__all__ = ["Buildpack", "LayerSpec", "Setting", "SourceRule", "all_buildpacks", "check_settings", "get_buildpack"]


def all_buildpacks() -> list[Buildpack]:
    import importlib

    return [importlib.import_module(f"s2i.buildpacks.{name}").BUILDPACK for name in ORDER]


def get_buildpack(name: str) -> Buildpack:
    for buildpack in all_buildpacks():
        if buildpack.name == name:
            return buildpack
    known = ", ".join(bp.name for bp in all_buildpacks())
    raise UsageError(f"no buildpack named {name!r}", f"use one of: {known}")
