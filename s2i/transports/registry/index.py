"""Image indexes in a registry: read one whole (every child checked), push one children first and its tags last."""

from __future__ import annotations

from s2i.oci.image import Image
from s2i.oci.index import ImageIndex, check_child, parse_index
from s2i.oci.reference import Reference
from s2i.oci.types import INDEX_TYPES
from s2i.transports import BlobResult, Progress
from s2i.transports.registry.client import Registry
from s2i.transports.registry.pull import image_from, read_manifest
from s2i.transports.registry.push import push_image, put_tags


def read_all(registry: Registry, reference: Reference) -> Image | ImageIndex:
    """The index the reference names with every child (fetched by digest, so checked), or its one image."""
    data, media_type = read_manifest(registry, reference)
    if media_type not in INDEX_TYPES:
        return image_from(registry, reference, data, media_type)
    where = f"index of {reference}"
    children = []
    for n, entry in enumerate(parse_index(data, where), 1):
        child_data, child_type = read_manifest(registry, reference.with_digest(entry.digest))
        child = image_from(registry, reference, child_data, child_type, f"{where}, entry {n}")
        check_child(entry, child, f"{where}, entry {n}")
        children.append(child)
    return ImageIndex(data, tuple(children))


def push_index(registry: Registry, reference: Reference, index: ImageIndex, jobs: int = 4, progress: Progress | None = None,
               more_tags: tuple[str, ...] = ()) -> tuple[str, list[BlobResult]]:
    """Each child's blobs and manifest by digest, then the index: no tag ever names an index with a child missing."""
    results: list[BlobResult] = []
    for child in index.children:
        results += push_image(registry, reference.with_digest(child.digest), child, jobs, progress)[1]
    put_tags(registry, reference.repository, index, tuple(filter(None, (reference.tag, *more_tags))))
    return index.digest, results
