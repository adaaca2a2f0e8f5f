"""One function per distribution-API endpoint; each takes the Registry it talks to."""

from __future__ import annotations

from typing import BinaryIO, Iterator
from urllib.parse import urlencode

import httpx

from s2i.errors import RegistryError
from s2i.oci.types import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, digest_matches, is_digest
from s2i.transports.registry.client import Registry

MANIFEST_ACCEPT = ", ".join([OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_LIST])
READ_SIZE = 1 << 20


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"


def push_scope(repository: str, mount_from: str | None = None) -> str:
    scope = f"repository:{repository}:pull,push"
    return f"{scope} repository:{mount_from}:pull" if mount_from else scope


def ping(registry: Registry) -> None:
    registry.request("GET", "/v2/", scope="", action=f"contacting {registry.host}", ok=(200, 401))


def get_document(registry: Registry, path: str, scope: str, action: str, headers: dict | None = None) -> tuple[bytes, str]:
    """A manifest or config body and its content type; the client refuses it past limits.DOCUMENT_CAP as it reads."""
    response = registry.request("GET", path, scope=scope, action=action, headers=headers or {})
    return response.content, response.headers.get("content-type", "").split(";")[0].strip()


def get_manifest(registry: Registry, repository: str, identifier: str) -> tuple[bytes, str]:
    """The manifest's exact bytes (bounded) and media type, checked against the digest when pinned."""
    path, action = f"/v2/{repository}/manifests/{identifier}", f"reading {registry.host}/{repository}:{identifier}"
    data, media_type = get_document(registry, path, pull_scope(repository), action, {"Accept": MANIFEST_ACCEPT})
    if is_digest(identifier) and not digest_matches(data, identifier):
        raise RegistryError(f"manifest {identifier} from {registry.host} does not match its digest", "the registry is serving corrupt data")
    return data, media_type


def put_manifest(registry: Registry, repository: str, identifier: str, data: bytes, media_type: str) -> None:
    registry.request(
        "PUT",
        f"/v2/{repository}/manifests/{identifier}",
        scope=push_scope(repository),
        action=f"pushing manifest to {registry.host}/{repository}:{identifier}",
        ok=(200, 201),
        headers={"Content-Type": media_type},
        content=data,
    )


def blob_exists(registry: Registry, repository: str, digest: str) -> bool:
    """A server error counts as missing: uploading again repairs a registry that lost track of a blob."""
    response = registry.request(
        "HEAD",
        f"/v2/{repository}/blobs/{digest}",
        scope=push_scope(repository),
        action=f"checking blob {digest}",
        ok=(200, 404, 500, 502, 503, 504),
    )
    return response.status_code == 200


def get_blob(registry: Registry, repository: str, digest: str) -> bytes:
    """A small blob (a config) read whole: bounded, then checked against its digest."""
    data, _ = get_document(registry, f"/v2/{repository}/blobs/{digest}", pull_scope(repository), f"reading blob {digest}")
    if not digest_matches(data, digest):
        raise RegistryError(f"blob {digest} from {registry.host} does not match its digest", "the registry is serving corrupt data")
    return data


class BlobReader:
    """A file-like view of a streamed blob download, so uploads can read it in chunks."""

    def __init__(self, registry: Registry, repository: str, digest: str):
        self._registry, self._action = registry, f"reading blob {digest} from {registry.host}/{repository}"
        self._response = registry.request(
            "GET", f"/v2/{repository}/blobs/{digest}", scope=pull_scope(repository), action=self._action, stream=True
        )
        self._chunks: Iterator[bytes] = self._response.iter_bytes(READ_SIZE)
        self._pending = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._pending) < size:
            chunk = self._next_chunk()
            if not chunk:
                break
            self._pending += chunk
        if size < 0:
            size = len(self._pending)
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def _next_chunk(self) -> bytes:
        """The next piece, a broken or stalled download named as this registry's temporary error.

        Read inside an upload to another registry, an httpx error would otherwise be blamed on that one.
        """
        try:
            return next(self._chunks, b"")
        except httpx.TransportError as exc:
            raise self._registry.transport_error(exc, self._action) from None

    def close(self) -> None:
        self._response.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def mount_blob(registry: Registry, repository: str, digest: str, from_repository: str) -> str | None:
    """Ask the registry to link a blob from another repository; None when mounted, else an upload URL."""
    query = urlencode({"mount": digest, "from": from_repository})
    response = registry.request(
        "POST",
        f"/v2/{repository}/blobs/uploads/?{query}",
        scope=push_scope(repository, from_repository),
        action=f"mounting blob {digest} from {from_repository}",
        ok=(201, 202),
    )
    return None if response.status_code == 201 else response.headers["location"]


def start_upload(registry: Registry, repository: str, retry: bool = True) -> str:
    response = registry.request(
        "POST",
        f"/v2/{repository}/blobs/uploads/",
        scope=push_scope(repository),
        action=f"starting an upload to {registry.host}/{repository}",
        ok=(202,),
        retry=retry,
    )
    return response.headers["location"]


def _with_query(location: str, **params: str) -> str:
    return location + ("&" if "?" in location else "?") + urlencode(params)


def _read_chunks(handle: BinaryIO, remaining: int) -> Iterator[bytes]:
    while remaining > 0:
        data = handle.read(min(READ_SIZE, remaining))
        if not data:
            raise RegistryError("blob source ended early", "the local copy is truncated; rebuild it")
        remaining -= len(data)
        yield data


def _absolute(registry: Registry, location: str) -> str:
    return location if location.startswith(("http://", "https://")) else registry.base_url + location


def upload_monolithic(registry: Registry, repository: str, location: str, digest: str, size: int, handle: BinaryIO) -> None:
    registry.request(
        "PUT",
        _with_query(_absolute(registry, location), digest=digest),
        scope=push_scope(repository),
        action=f"uploading blob {digest}",
        ok=(201,),
        retry=False,
        headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        content=_read_chunks(handle, size),
    )


def upload_chunked(
    registry: Registry, repository: str, location: str, digest: str, size: int, handle: BinaryIO, chunk_size: int, on_progress=None
) -> None:
    """PATCH one chunk at a time (each names its byte range), then PUT with the digest to close."""
    offset = 0
    location = _absolute(registry, location)
    while offset < size:
        length = min(chunk_size, size - offset)
        response = registry.request(
            "PATCH",
            location,
            scope=push_scope(repository),
            action=f"uploading blob {digest}",
            ok=(202,),
            retry=False,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Length": str(length),
                "Content-Range": f"{offset}-{offset + length - 1}",
            },
            content=_read_chunks(handle, length),
        )
        location = _absolute(registry, response.headers["location"])
        offset += length
        if on_progress:
            on_progress(length)
    registry.request(
        "PUT",
        _with_query(location, digest=digest),
        scope=push_scope(repository),
        action=f"finishing blob {digest}",
        ok=(201,),
        retry=False,
        headers={"Content-Length": "0"},
    )
