"""`s2i sbom`: the SBOM pushed beside an image, found through the referrers API or its fallback tag."""

from __future__ import annotations

from s2i.errors import UsageError
from s2i.oci.reference import RegistryLocation, parse_location
from s2i.sbom.documents import FORMATS
from s2i.transports import Context, read_image
from s2i.transports.registry.referrers import fetch_artifact, referrers


def fetch_sbom(reference: str, fmt: str, context: Context) -> bytes:
    location = parse_location(reference)
    if not isinstance(location, RegistryLocation):
        raise UsageError(f"{reference} is not in a registry", "SBOMs are kept in registries beside their image; for a local build use s2i build --sbom FILE")
    image = read_image(location, context)
    registry = context.registries.get(location.reference.registry)
    found, _ = referrers(registry, location.reference.repository, image.digest)
    wanted = [d for d in found if d.get("artifactType") == FORMATS[fmt]]
    if not wanted:
        raise UsageError(f"{reference} has no {fmt} SBOM beside it", "build it with s2i build (it pushes one), or ask for the other --format")
    return fetch_artifact(registry, location.reference.repository, wanted[-1])
