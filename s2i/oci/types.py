"""OCI and Docker media types and the small value types every stage passes around."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from s2i.errors import S2IError, UsageError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)

ANNOTATION_BASE_NAME = "org.opencontainers.image.base.name"
ANNOTATION_BASE_DIGEST = "org.opencontainers.image.base.digest"
ANNOTATION_BASE_LAYERS = "io.s2i.base.layers"  # how many of the bottom layers are the base: what `s2i rebase` replaces
ANNOTATION_CREATED = "org.opencontainers.image.created"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"

MAX_DOCUMENT = 4 << 20  # manifests, indexes and configs larger than this are refused unread

# The registered algorithms and their hex lengths; nothing else ever reaches a path or a URL.
ALGORITHMS = {"sha256": 64, "sha512": 128}
_DIGEST = re.compile(r"\A(?:" + "|".join(f"{name}:[0-9a-f]{{{length}}}" for name, length in ALGORITHMS.items()) + r")\Z")
DIGEST_HINT = "a digest is sha256: and 64 lowercase hex digits (or sha512: and 128)"
MALFORMED = "the source is corrupt or not an image"


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def is_digest(text) -> bool:
    return isinstance(text, str) and bool(_DIGEST.match(text))


def parse_digest(text, where: str) -> str:
    """The digest itself when it is well formed, else one line naming where it came from."""
    if not is_digest(text):
        raise S2IError(f"{where}: invalid digest {shorten(text)}", DIGEST_HINT)
    return text


def shorten(value, limit: int = 80) -> str:
    """A value for an error message: repr'd (one line) and cut, so hostile input cannot flood it."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def hasher(digest: str):
    """A fresh hash object of the digest's algorithm (the digest must be parsed already)."""
    return hashlib.new(digest.partition(":")[0])


def digest_string(sha) -> str:
    """`algorithm:hex` of a finished hashlib object."""
    return f"{sha.name}:{sha.hexdigest()}"


def digest_matches(data: bytes, digest: str) -> bool:
    sha = hasher(digest)
    sha.update(data)
    return digest_string(sha) == digest


def blob_path(root: Path, digest: str) -> Path:
    """Where a blob lives under an OCI layout or the store: the digest is checked before the path is built."""
    algorithm, _, hexdigest = parse_digest(digest, "blob path").partition(":")
    return root / "blobs" / algorithm / hexdigest


def load_document(data: bytes, where: str) -> dict:
    """A JSON object of bounded size: anything else is one line naming where it came from."""
    if len(data) > MAX_DOCUMENT:
        raise S2IError(f"{where} is {len(data)} bytes, over the {MAX_DOCUMENT >> 20} MiB limit", MALFORMED)
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise S2IError(f"{where} is not valid JSON: {shorten(str(exc))}", MALFORMED) from None
    if not isinstance(value, dict):
        raise S2IError(f"{where} is not a JSON object", MALFORMED)
    return value


def canonical_json(value: dict) -> bytes:
    """Serialise the way every run must agree on, so equal images get equal digests."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def layer_media_type(family: str, compression: str) -> str:
    """The layer type matching the manifest family; registries reject mixed manifests."""
    if family == "docker":
        if compression != "gzip":
            raise UsageError(
                f"{compression} layers cannot go on a Docker v2 base",
                "use --compression gzip, or an OCI base image",
            )
        return DOCKER_LAYER_GZIP
    return OCI_LAYER_ZSTD if compression == "zstd" else OCI_LAYER_GZIP


def compression_of(media_type: str) -> str:
    if media_type.endswith("zstd"):
        return "zstd"
    if media_type.endswith("gzip"):
        return "gzip"
    return "none"


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: dict = field(default_factory=dict, compare=False, hash=False)
    platform: dict | None = field(default=None, compare=False, hash=False)

    def to_json(self) -> dict:
        out = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.platform:
            out["platform"] = self.platform
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out

    @classmethod
    def from_json(cls, value, where: str) -> Descriptor:
        """A descriptor from untrusted JSON: every field typed, the digest parsed; `where` names the source."""
        if not isinstance(value, dict):
            raise S2IError(f"{where}: a descriptor is not a JSON object", MALFORMED)
        size = value.get("size")
        if type(size) is not int or size < 0:
            raise S2IError(f"{where}: descriptor size {shorten(size)} is not a whole number", MALFORMED)
        media_type, annotations, platform = value.get("mediaType", ""), value.get("annotations") or {}, value.get("platform")
        if not isinstance(media_type, str) or not isinstance(annotations, dict) or not isinstance(platform, (dict, type(None))):
            raise S2IError(f"{where}: a descriptor has a mediaType, annotations or platform of the wrong type", MALFORMED)
        return cls(media_type, parse_digest(value.get("digest"), where), size, dict(annotations), platform)
