"""Pushes an image: each blob by HEAD, else mount, else upload, in parallel; the manifest last."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from s2i.errors import RegistryError
from s2i.oci.image import BlobSource, BytesBlob, Image
from s2i.oci.index import ImageIndex
from s2i.oci.reference import Reference
from s2i.oci.types import Descriptor
from s2i.transports import BlobResult, Progress
from s2i.transports.registry import api
from s2i.transports.registry.client import Registry
from s2i.transports.registry.retry import with_retries

MONOLITHIC_LIMIT = 32 << 20  # one PUT below this; PATCH chunks above, so a retry resends less
CHUNK_SIZE = 32 << 20


def ensure_blob(registry: Registry, repository: str, descriptor: Descriptor, source: BlobSource, progress: Progress | None = None) -> BlobResult:
    """HEAD, else mount, else upload; requests retry themselves, a broken upload restarts whole."""
    digest, size = descriptor.digest, descriptor.size
    if api.blob_exists(registry, repository, digest):
        return BlobResult(digest, size, "exists")
    location = None
    origin = source.origin
    if origin and origin[0] == registry.host and origin[1] != repository:
        location = api.mount_blob(registry, repository, digest, origin[1])
        if location is None:
            return BlobResult(digest, size, "mounted")
    locations = [location] if location else []

    def upload() -> BlobResult:
        # a broken upload session cannot be resumed: each retry starts a new one; its requests do not
        # retry themselves, or a hanging registry would cost retries squared
        upload_location = locations.pop() if locations else api.start_upload(registry, repository, retry=False)
        _upload(registry, repository, upload_location, descriptor, source, progress)
        return BlobResult(digest, size, "uploaded")

    return with_retries(registry.options.retries, registry.options.backoff, upload, f"blob {digest[:19]}")


def _upload(registry: Registry, repository: str, location: str, descriptor: Descriptor, source: BlobSource, progress: Progress | None) -> None:
    digest, size = descriptor.digest, descriptor.size
    handle = source.open()
    try:
        if size <= MONOLITHIC_LIMIT:
            api.upload_monolithic(registry, repository, location, digest, size, handle)
        else:
            done = [0]

            def advance(length: int) -> None:
                done[0] += length
                if progress:
                    progress(digest, done[0], size)

            api.upload_chunked(registry, repository, location, digest, size, handle, CHUNK_SIZE, advance)
    finally:
        handle.close()
    if progress:
        progress(digest, size, size)


def push_image(registry: Registry, reference: Reference, image: Image, jobs: int = 4, progress: Progress | None = None,
               more_tags: tuple[str, ...] = ()) -> tuple[str, list[BlobResult]]:
    """All blobs first (bounded threads), then the manifest, so no tag ever names a partial image."""
    repository = reference.repository
    blobs: list[tuple[Descriptor, BlobSource]] = [(layer.descriptor, layer.source) for layer in image.layers]
    blobs.append((image.config_descriptor, BytesBlob(image.config_bytes, image.origin)))
    unique = list({descriptor.digest: (descriptor, source) for descriptor, source in blobs}.values())
    failed = threading.Event()

    def push_blob(descriptor: Descriptor, source: BlobSource) -> BlobResult | None:
        if failed.is_set():
            return None  # another blob failed, so the push fails: send no more
        try:
            return ensure_blob(registry, repository, descriptor, source, progress)
        except BaseException:
            failed.set()
            raise

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(push_blob, d, s) for d, s in unique]
        results = [future.result() for future in futures]
    put_tags(registry, repository, image, tuple(filter(None, (reference.tag, *more_tags))))
    return image.digest, results


def put_tags(registry: Registry, repository: str, image: Image | ImageIndex, tags: tuple[str, ...]) -> None:
    """Several tags: the manifest by digest first, so the registry has checked the whole image before any tag moves."""
    if len(tags) > 1:
        api.put_manifest(registry, repository, image.digest, image.manifest_bytes, image.media_type)
    for done, tag in enumerate(tags or (image.digest,)):
        try:
            api.put_manifest(registry, repository, tag, image.manifest_bytes, image.media_type)
        except RegistryError as exc:
            if done:  # a tag cannot be taken back: say which ones already moved
                exc.hint = f"tags {', '.join(tags[:done])} already name {image.digest[:19]}; push again to set the rest"
            raise
