"""Hostile image indexes in a real registry: `s2i copy` and `s2i inspect` refuse each in one line and write nothing."""

from __future__ import annotations

import pytest

from s2i.errors import EXIT_FAILED
from s2i.oci.image import BytesBlob, Layer, empty_image
from s2i.oci.index import MAX_CHILDREN, make_index
from s2i.oci.mutate import ConfigChanges, append_layers
from s2i.oci.reference import parse_reference
from s2i.oci.types import OCI_INDEX, OCI_LAYER_GZIP, Descriptor, canonical_json, sha256_digest
from s2i.transports.registry import api
from s2i.transports.registry.client import Registry, RegistryOptions
from s2i.transports.registry.push import push_image

pytestmark = pytest.mark.e2e


def small_image(arch: str):
    data = f"{arch} layer".encode()
    layer = Layer(Descriptor(OCI_LAYER_GZIP, sha256_digest(data), len(data)), sha256_digest(b"tar" + data), BytesBlob(data))
    return append_layers(empty_image("linux", arch), [layer], ConfigChanges())


def entry(image, media_type: str | None = None, **platform) -> dict:
    value = image.descriptor().to_json()
    value["mediaType"] = media_type or value["mediaType"]
    value["platform"] = {"os": "linux", "architecture": "amd64", **platform}
    return value


@pytest.fixture
def hostile(registry):
    """t/src:<case> for each hostile index, made with s2i's own push code (which trusts what it is given)."""
    client = Registry(registry.host, RegistryOptions(retries=1))
    amd, arm = small_image("amd64"), small_image("arm64")
    for image in (amd, arm):
        push_image(client, parse_reference(f"{registry.host}/t/src@{image.digest}"), image)
    good = make_index([amd, arm])
    api.put_manifest(client, "t/src", good.digest, good.manifest_bytes, OCI_INDEX)
    cases = {
        "nested": [entry(good, OCI_INDEX)],
        "duplicate": [entry(amd), entry(arm)],
        "lying": [entry(amd, architecture="arm64")],
        "unknown": [entry(amd, "application/vnd.example.thing.v1+json")],
        "huge": [entry(amd, architecture=f"a{n}") for n in range(MAX_CHILDREN + 1)],
    }
    for tag, entries in cases.items():
        document = canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
        api.put_manifest(client, "t/src", tag, document, OCI_INDEX)
    client.close()
    return registry


@pytest.mark.parametrize("case, message", [
    ("nested", "entry 1 is itself an index; s2i reads one level of index only"),
    ("duplicate", "lists platform linux/amd64 twice"),
    ("lying", "entry 1: index says linux/arm64, the image's config says 'linux/amd64'"),
    ("unknown", "entry 1 has media type 'application/vnd.example.thing.v1+json', which s2i cannot read"),
    ("huge", f"lists {MAX_CHILDREN + 1} manifests, over the limit of {MAX_CHILDREN}"),
])
def test_a_hostile_index_is_refused_in_one_line_and_nothing_is_written(tmp_path, s2i, hostile, case, message):
    source = f"{hostile.host}/t/src:{case}"
    before = len(hostile.requests())
    for destination in (f"{hostile.host}/t/dst:{case}", f"oci:{tmp_path}/layout:{case}"):
        result = s2i("copy", source, destination)
        assert result.returncode == EXIT_FAILED, result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("s2i: error:")]
        assert len(errors) == 1 and message in errors[0], result.stderr
    inspected = s2i("inspect", source)
    assert inspected.returncode == EXIT_FAILED and message in inspected.stderr
    assert not [r for r in hostile.requests()[before:] if r.path.startswith("/v2/t/dst/")]
    assert not (tmp_path / "layout").exists()
