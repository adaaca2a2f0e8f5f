"""The registry transport: pull by reference, push blobs then the manifest, ping before a build."""

from __future__ import annotations

from s2i.oci.image import Image
from s2i.oci.index import ImageIndex
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


def read_all(location: RegistryLocation, context: Context) -> Image | ImageIndex:
    from s2i.transports.registry.index import read_all as read_whole

    reference = location.reference
    return read_whole(context.registries.get(reference.registry), reference)


def write(location: RegistryLocation, image: Image, context: Context) -> Published:
    from s2i.transports.registry.push import push_image

    return _published(location, push_image, image, context)


def write_index(location: RegistryLocation, index: ImageIndex, context: Context) -> Published:
    from s2i.transports.registry.index import push_index

    return _published(location, push_index, index, context)


def _published(location: RegistryLocation, push, value, context: Context) -> Published:
    reference = location.reference
    registry = context.registries.get(reference.registry)
    digest, results = push(registry, reference, value, context.jobs, context.progress, location.tags)
    name = f"{reference.registry}/{reference.repository}"
    tags = tuple(f"{name}:{tag}" for tag in (reference.tag, *location.tags) if tag)
    return Published(f"{name}@{digest}", digest, tuple(results), tags)
