"""Where images come from and go to; each place is one transport module with the same verbs.

A transport module offers `read(location, context) -> Image`, `write(location, image, context) ->
Published` and `prepare(location, context)`, called before any work to fail early on a destination
nothing can be written to; where it holds image indexes, also `read_all` (the whole index, every child
checked) and `write_index(location, index, context)`. Callers pick nothing themselves: `parse_location` names the place and
`transport_for` the module, imported only when used (the registry one pulls in httpx).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from s2i.errors import UsageError
from s2i.oci.image import Image
from s2i.oci.index import ImageIndex, make_index
from s2i.oci.reference import Location, RegistryLocation, check_tag

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


def read_all(location: Location, context: Context) -> Image | ImageIndex:
    """Every platform the location names: its whole index (each child checked), or its one image."""
    module = transport_for(location)
    reader = getattr(module, "read_all", module.read)
    return reader(location, context)


def write_index(location: Location, images: list[Image], context: Context, tags: tuple[str, ...] = (),
                annotations: dict | None = None) -> Published:
    """An index of `images` (one per platform, in the order given): every child first, the index's tags last."""
    if tags:
        if not isinstance(location, RegistryLocation):
            raise UsageError(f"--tag needs a registry destination host/repo[:tag], not {location}", "push to a registry, or leave --tag out")
        wanted = tuple(dict.fromkeys((*location.tags, *(check_tag(tag) for tag in tags))))
        location = RegistryLocation(location.reference, wanted)
    return publish_index(location, make_index(images, annotations), context)


def publish_index(location: Location, index: ImageIndex, context: Context) -> Published:
    """Write an index byte for byte (a copied one keeps its digest); a place that holds single images only says so."""
    module = transport_for(location)
    if not hasattr(module, "write_index"):
        raise UsageError(f"{location} holds one image, not an index of {len(index.children)} platforms",
                         "pick one with --platform os/arch, or write to a registry or oci:DIR[:TAG]")
    return module.write_index(location, index, context)
