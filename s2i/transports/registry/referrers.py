"""OCI referrers: artifacts (an SBOM) pushed with a `subject`, found by the referrers API or its fallback tag."""

from __future__ import annotations

from dataclasses import replace

from s2i.errors import S2IError
from s2i.oci.image import BytesBlob, Image, Layer
from s2i.oci.reference import Reference
from s2i.oci.types import (
    MALFORMED,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    canonical_json,
    digest_matches,
    load_document,
    sha256_digest,
)
from s2i.transports.registry import api
from s2i.transports.registry.client import Registry
from s2i.transports.registry.push import push_image

EMPTY_CONFIG = b"{}"
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
MAX_ARTIFACT = 64 << 20


def artifact(subject: Image, artifact_type: str, data: bytes, annotations: dict[str, str]) -> Image:
    """An OCI image manifest carrying `data` as its one layer, pointing at `subject`."""
    blob = Descriptor(artifact_type, sha256_digest(data), len(data))
    manifest = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact_type,
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": sha256_digest(EMPTY_CONFIG), "size": len(EMPTY_CONFIG), "data": "e30="},
        "layers": [blob.to_json()],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": len(subject.manifest_bytes)},
        "annotations": annotations,
    }
    return Image(canonical_json(manifest), EMPTY_CONFIG, (Layer(blob, blob.digest, BytesBlob(data)),))


def fallback_tag(digest: str) -> str:
    return digest.replace(":", "-")


def referrers(registry: Registry, repository: str, digest: str) -> tuple[list[dict], bool]:
    """(descriptors of the artifacts that refer to `digest`, whether the registry has the referrers API)."""
    response = registry.request("GET", f"/v2/{repository}/referrers/{digest}", scope=api.pull_scope(repository),
                                action=f"listing referrers of {digest}", ok=(200, 404), headers={"Accept": OCI_INDEX})
    if response.status_code == 200 and response.headers.get("content-type", "").startswith(OCI_INDEX):
        return _manifests(response.content, "referrers answer"), True
    tagged = registry.request("GET", f"/v2/{repository}/manifests/{fallback_tag(digest)}", scope=api.pull_scope(repository),
                              action="reading the referrers tag", ok=(200, 404), headers={"Accept": OCI_INDEX})
    return (_manifests(tagged.content, "referrers tag") if tagged.status_code == 200 else []), False


def _manifests(data: bytes, where: str) -> list[dict]:
    index = load_document(data, where)
    found = index.get("manifests")
    if not isinstance(found, list) or not all(isinstance(entry, dict) for entry in found):
        raise S2IError(f"{where}: manifests is not a list of descriptors", MALFORMED)
    return found


def push_referrer(registry: Registry, reference: Reference, artifact_image: Image, artifact_type: str) -> str:
    """Push the artifact by digest; where the registry lacks the referrers API, add it to the fallback tag's index."""
    digest, _ = push_image(registry, replace(reference, tag="", digest=""), artifact_image, jobs=2)  # by digest: no tag moves
    subject = artifact_image.manifest["subject"]["digest"]
    listed, has_api = referrers(registry, reference.repository, subject)
    if has_api:
        return digest
    entry = {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(artifact_image.manifest_bytes), "artifactType": artifact_type,
             "annotations": artifact_image.manifest.get("annotations") or {}}
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [m for m in listed if m.get("digest") != digest] + [entry]}
    api.put_manifest(registry, reference.repository, fallback_tag(subject), canonical_json(index), OCI_INDEX)
    return digest


def fetch_artifact(registry: Registry, repository: str, descriptor: dict) -> bytes:
    """The one layer of a referrer manifest, every digest checked by s2i."""
    digest = descriptor.get("digest")
    if not isinstance(digest, str):
        raise S2IError("a referrer without a digest", MALFORMED)
    data, _ = api.get_manifest(registry, repository, digest)
    layers = load_document(data, f"referrer {digest}").get("layers")
    if not isinstance(layers, list) or len(layers) != 1 or not isinstance(layers[0], dict):
        raise S2IError(f"referrer {digest} does not hold one document", MALFORMED)
    layer = layers[0]
    if not isinstance(layer.get("size"), int) or layer["size"] > MAX_ARTIFACT:
        raise S2IError(f"referrer {digest}: its document is over {MAX_ARTIFACT >> 20} MiB", MALFORMED)
    content = api.get_blob(registry, repository, layer.get("digest", ""))
    if not digest_matches(content, layer.get("digest", "")):
        raise S2IError(f"referrer {digest}: the document does not match its digest", "the registry is serving corrupt data")
    return content

