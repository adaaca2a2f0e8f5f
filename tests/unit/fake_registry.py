"""An in-memory distribution registry behind httpx.MockTransport, for unit tests of push and pull."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import defaultdict

import httpx


class FakeRegistry:
    """Enough of the OCI distribution API: blobs, mounts, monolithic and chunked uploads, manifests."""

    def __init__(self):
        self.blobs: dict[str, bytes] = {}
        self.repo_blobs: dict[str, set[str]] = defaultdict(set)
        self.manifests: dict[tuple[str, str], tuple[bytes, str]] = {}
        self.uploads: dict[str, bytearray] = {}
        self.log: list[tuple[str, str]] = []
        self.fail_next: list[int] = []  # statuses to answer with before serving normally

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.log.append((request.method, str(request.url.copy_with(scheme="https"))))
        if self.fail_next:
            return httpx.Response(self.fail_next.pop(0))
        path = request.url.path
        if path == "/v2/":
            return httpx.Response(200)
        for pattern, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if match:
                return handler(request, *match.groups())
        return httpx.Response(404)

    def _routes(self):
        return [
            (r"/v2/(.+)/blobs/uploads/", self._start_upload),
            (r"/v2/(.+)/blobs/uploads/([0-9a-f-]+)", self._upload),
            (r"/v2/(.+)/blobs/(sha256:[0-9a-f]+)", self._blob),
            (r"/v2/(.+)/manifests/(.+)", self._manifest),
        ]

    def _start_upload(self, request, repo):
        mount, source = request.url.params.get("mount"), request.url.params.get("from")
        if mount and source and mount in self.repo_blobs[source]:
            self.repo_blobs[repo].add(mount)
            return httpx.Response(201, headers={"Location": f"/v2/{repo}/blobs/{mount}"})
        session = str(uuid.uuid4())
        self.uploads[session] = bytearray()
        return httpx.Response(202, headers={"Location": f"/v2/{repo}/blobs/uploads/{session}"})

    def _upload(self, request, repo, session):
        self.uploads[session] += request.read()
        if request.method == "PATCH":
            return httpx.Response(202, headers={"Location": f"/v2/{repo}/blobs/uploads/{session}"})
        data = bytes(self.uploads.pop(session))
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if digest != request.url.params["digest"]:
            return httpx.Response(400, json={"errors": [{"code": "DIGEST_INVALID", "message": "digest mismatch"}]})
        self.blobs[digest] = data
        self.repo_blobs[repo].add(digest)
        return httpx.Response(201)

    def _blob(self, request, repo, digest):
        if digest not in self.repo_blobs[repo]:
            return httpx.Response(404, json={"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown"}]})
        content = b"" if request.method == "HEAD" else self.blobs[digest]
        return httpx.Response(200, content=content, headers={"Content-Length": str(len(self.blobs[digest]))})

    def _manifest(self, request, repo, identifier):
        if request.method == "PUT":
            data = request.read()
            media_type = request.headers["content-type"]
            document = json.loads(data)
            for child in document.get("manifests", []):  # an index: as distribution does, every child must be here
                if (repo, child["digest"]) not in self.manifests:
                    return httpx.Response(400, json={"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]})
            for layer in document.get("layers", []) + ([document["config"]] if "config" in document else []):
                if layer["digest"] not in self.repo_blobs[repo]:
                    return httpx.Response(400, json={"errors": [{"code": "MANIFEST_BLOB_UNKNOWN", "message": "blob unknown to registry"}]})
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            self.manifests[(repo, identifier)] = self.manifests[(repo, digest)] = (data, media_type)
            return httpx.Response(201)
        if (repo, identifier) not in self.manifests:
            return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]})
        data, media_type = self.manifests[(repo, identifier)]
        return httpx.Response(200, content=data, headers={"Content-Type": media_type})

    def requests(self, method: str, fragment: str = "") -> list[str]:
        return [url for m, url in self.log if m == method and fragment in url]
