"""Loads buildpacks (`buildpacks/<lang>/buildpack.toml` + `build.sh.j2`) and renders their scripts."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import jinja2

from s2i.errors import UsageError

BUILDPACKS_DIR = Path(__file__).resolve().parent.parent / "buildpacks"


@dataclass(frozen=True)
class SourceRule:
    glob: str
    contains: str
    reason: str


@dataclass(frozen=True)
class LayerSpec:
    """A layer the build writes; `mount` binds it at its final path, `key_files` make it reusable."""

    name: str
    mount: str | None = None
    key_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Buildpack:
    name: str
    version: str
    path: Path
    default_run_image: str
    run_images: tuple[str, ...]
    layers: tuple[LayerSpec, ...]
    files: tuple[str, ...]
    sources: tuple[SourceRule, ...]
    build_env: tuple[tuple[str, str], ...]
    refused_run_images: tuple[tuple[str, str], ...] = ()  # (base, why it cannot work)

    def render(self, settings: dict) -> str:
        environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        template = environment.from_string((self.path / "build.sh.j2").read_text())
        return "set -eu\n" + template.render(settings=settings)


def buildpacks_dir() -> Path:
    return Path(os.environ.get("S2I_BUILDPACKS_DIR") or BUILDPACKS_DIR)


def load_buildpack(path: Path) -> Buildpack:
    data = tomllib.loads((path / "buildpack.toml").read_text())
    detect = data.get("detect", {})
    return Buildpack(
        name=data["name"],
        version=str(data.get("version", "1")),
        path=path,
        default_run_image=data["default-run-image"],
        run_images=tuple(data.get("run-images", [data["default-run-image"]])),
        layers=tuple(_layer_spec(name, data.get("layer", {}).get(name, {})) for name in data.get("layers", ["app"])),
        files=tuple(detect.get("files", [])),
        sources=tuple(SourceRule(s["glob"], s["contains"], s.get("reason", "")) for s in detect.get("sources", [])),
        build_env=tuple(sorted(data.get("build", {}).get("env", {}).items())),
        refused_run_images=tuple(sorted(data.get("refused-run-images", {}).items())),
    )


def _layer_spec(name: str, table: dict) -> LayerSpec:
    return LayerSpec(name, table.get("mount"), tuple(table.get("key-files", [])))


# Detection order and tie-breaks: the first buildpack that matches wins. Language-specific markers
# (go.mod, requirements.txt) beat build files any language may carry (a Makefile wrapping `go build`).
ORDER = ("go", "python", "c")


def all_buildpacks() -> list[Buildpack]:
    found = {p.name: load_buildpack(p) for p in sorted(buildpacks_dir().iterdir()) if (p / "buildpack.toml").is_file()}
    ordered = [found[name] for name in ORDER if name in found]
    return ordered + [bp for name, bp in sorted(found.items()) if name not in ORDER]


def get_buildpack(name: str) -> Buildpack:
    for buildpack in all_buildpacks():
        if buildpack.name == name:
            return buildpack
    known = ", ".join(bp.name for bp in all_buildpacks())
    raise UsageError(f"no buildpack named {name!r}", f"use one of: {known}")
