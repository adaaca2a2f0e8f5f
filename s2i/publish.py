"""Where images come from and go to: registries, OCI layouts, docker archives, scratch."""

from __future__ import annotations

from dataclasses import dataclass, field

from s2i import layout
from s2i.archive.docker_archive import write_archive
from s2i.errors import UsageError
from s2i.oci.image import Image, empty_image
from s2i.oci.reference import (
    ArchiveLocation,
    LayoutLocation,
    Location,
    RegistryLocation,
    ScratchLocation,
    StoreLocation,
)
from s2i.registry.client import Registries
from s2i.registry.pull import read_image as read_remote_image
from s2i.registry.push import BlobResult, Progress, push_image
from s2i.store import Store


@dataclass
class Context:
    """What every source and sink needs for one command."""

    registries: Registries
    platform: dict = field(default_factory=lambda: {"os": "linux", "architecture": "amd64"})
    jobs: int = 4
    progress: Progress | None = None


@dataclass(frozen=True)
class Published:
    reference: str  # what stdout prints: repo@digest, oci:DIR:TAG, docker-archive:FILE
    digest: str
    blobs: tuple[BlobResult, ...] = ()

    def to_json(self) -> dict:
        return {
            "reference": self.reference,
            "digest": self.digest,
            "blobs": [{"digest": b.digest, "size": b.size, "outcome": b.outcome} for b in self.blobs],
        }


def read_image(location: Location, context: Context) -> Image:
    if isinstance(location, ScratchLocation):
        platform = context.platform
        return empty_image(platform["os"], platform["architecture"], platform.get("variant", ""))
    if isinstance(location, RegistryLocation):
        reference = location.reference
        return read_remote_image(context.registries.get(reference.registry), reference, context.platform)
    if isinstance(location, LayoutLocation):
        return layout.read_image(location.path, location.tag, context.platform)
    if isinstance(location, StoreLocation):
        image = Store().load_image(location.name)
        if image is None:
            raise UsageError(f"nothing in the local store under {location.name}", "list it with s2i stack list, or build it first")
        return image
    raise UsageError(f"s2i cannot read images from {location}", "use a registry reference or oci:DIR:TAG")


def base_name(location: Location) -> str | None:
    """What the base.name annotation records so the image can be rebased later."""
    if isinstance(location, RegistryLocation):
        return str(location.reference)
    return None


def check_destination(location: Location) -> None:
    """Fail before any work on a destination nothing can be written to."""
    if isinstance(location, ScratchLocation):
        raise UsageError("cannot write to scratch", "name a registry reference, oci:DIR[:TAG] or docker-archive:FILE")


def check_reachable(location: Location, context: Context) -> None:
    """Ask a registry destination for /v2/ first, so a long build never ends at a dead address."""
    if isinstance(location, RegistryLocation):
        from s2i.registry.api import ping

        ping(context.registries.get(location.reference.registry))


def write_image(location: Location, image: Image, context: Context) -> Published:
    check_destination(location)
    if isinstance(location, RegistryLocation):
        reference = location.reference
        registry = context.registries.get(reference.registry)
        digest, results = push_image(registry, reference, image, context.jobs, context.progress)
        return Published(f"{reference.registry}/{reference.repository}@{digest}", digest, tuple(results))
    if isinstance(location, LayoutLocation):
        layout.write_image(location.path, location.tag, image)
        return Published(str(location), image.digest)
    if isinstance(location, StoreLocation):
        Store().save_image(location.name, image)
        return Published(str(location), image.digest)
    write_archive(location.path, image, location.reference)
    return Published(str(location), image.digest)
