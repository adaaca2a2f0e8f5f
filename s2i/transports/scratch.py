"""`scratch`: the empty image, readable as a base and never a destination."""

from __future__ import annotations

from s2i.errors import UsageError
from s2i.oci.image import Image, empty_image


def read(location, context) -> Image:
    platform = context.platform
    return empty_image(platform["os"], platform["architecture"], platform.get("variant", ""))


def prepare(location, context) -> None:
    raise UsageError("cannot write to scratch", "name a registry reference, oci:DIR[:TAG] or docker-archive:FILE")


def write(location, image, context):
    prepare(location, context)
