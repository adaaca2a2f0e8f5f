"""Where images come from and go to; each place is one transport module with the same verbs.

A transport module offers `read(location, context) -> Image`, `write(location, image, context) ->
Published` and `prepare(location, context)`, called before any work to fail early on a destination
nothing can be written to. Callers pick nothing themselves: `parse_location` names the place and
`transport_for` the module, imported only when used (the registry one pulls in httpx).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from s2i.oci.image import Image
from s2i.oci.reference import Location

if TYPE_CHECKING:
    from s2i.transports.registry.client import Registries

Progress = Callable[[str, int, int], None]  # (digest, bytes done, total)

MODULES = {
    "RegistryLocation": "s2i.transports.registry",
    "LayoutLocation": "s2i.transports.layout",
    "ArchiveLocation": "s2i.transports.docker_archive",
    "StoreLocation": "s2i.transports.local",
    "ScratchLocation": "s2i.transports.scratch",
}


@dataclass
class Context:
    """What every source and sink needs for one command."""

    registries: Registries
    platform: dict = field(default_factory=lambda: {"os": "linux", "architecture": "amd64"})
    jobs: int = 4
    progress: Progress | None = None


@dataclass(frozen=True)
class BlobResult:
    digest: str
    size: int
    outcome: str  # "exists", "mounted" or "uploaded"


@dataclass(frozen=True)
class Published:
    reference: str  # what stdout prints: repo@digest, oci:DIR:TAG, docker-archive:FILE
    digest: str
    blobs: tuple[BlobResult, ...] = ()
    tags: tuple[str, ...] = ()  # host/repo:tag for each tag a registry push set

    def to_json(self) -> dict:
        return {
            "reference": self.reference,
            "digest": self.digest,
            "tags": list(self.tags),
            "blobs": [{"digest": b.digest, "size": b.size, "outcome": b.outcome} for b in self.blobs],
        }


def transport_for(location: Location):
    return importlib.import_module(MODULES[type(location).__name__])


def read_image(location: Location, context: Context) -> Image:
    return transport_for(location).read(location, context)


def prepare_destination(location: Location, context: Context) -> None:
    """Fail before any work on a destination nothing can be written to (or that does not answer)."""
    transport_for(location).prepare(location, context)


def write_image(location: Location, image: Image, context: Context) -> Published:
    return transport_for(location).write(location, image, context)
