"""The registry transport: pull by reference, push blobs then the manifest, ping before a build."""

from __future__ import annotations

from s2i.oci.image import Image
from s2i.oci.reference import RegistryLocation
from s2i.transports import Context, Published


def read(location: RegistryLocation, context: Context) -> Image:
    from s2i.transports.registry.pull import read_image

    reference = location.reference
    return read_image(context.registries.get(reference.registry), reference, context.platform)


def prepare(location: RegistryLocation, context: Context) -> None:
    """Ask for /v2/ first, so a long build never ends at a dead address."""
    from s2i.transports.registry.api import ping

    ping(context.registries.get(location.reference.registry))


def write(location: RegistryLocation, image: Image, context: Context) -> Published:
    from s2i.transports.registry.push import push_image

    reference = location.reference
    registry = context.registries.get(reference.registry)
    digest, results = push_image(registry, reference, image, context.jobs, context.progress, location.tags)
    name = f"{reference.registry}/{reference.repository}"
    tags = tuple(f"{name}:{tag}" for tag in (reference.tag, *location.tags) if tag)
    return Published(f"{name}@{digest}", digest, tuple(results), tags)
