import pytest

from s2i.errors import RegistryError
from s2i.oci.image import BytesBlob, Layer, empty_image, parse_platform
from s2i.oci.mutate import ConfigChanges, append_layers
from s2i.oci.reference import parse_reference
from s2i.oci.types import OCI_LAYER_GZIP, Descriptor, sha256_digest
from s2i.transports.registry import push as push_module
from s2i.transports.registry.client import Registry, RegistryOptions
from s2i.transports.registry.pull import read_image
from s2i.transports.registry.push import push_image
from tests.unit.fake_registry import FakeRegistry

HOST = "registry.test"


def layer(data: bytes) -> Layer:
    return Layer(Descriptor(OCI_LAYER_GZIP, sha256_digest(data), len(data)), sha256_digest(b"t" + data), BytesBlob(data))


def connect(fake: FakeRegistry) -> Registry:
    return Registry(HOST, RegistryOptions(transport=fake.transport(), backoff=0.0))


def image_with(*blobs: bytes):
    return append_layers(empty_image(), [layer(b) for b in blobs], ConfigChanges(entrypoint=("/x",)))


def test_push_uploads_blobs_then_manifest_and_pull_reads_it_back():
    fake = FakeRegistry()
    registry = connect(fake)
    image = image_with(b"one", b"two")
    digest, results = push_image(registry, parse_reference(f"{HOST}/t/app:1"), image)
    assert digest == image.digest and {r.outcome for r in results} == {"uploaded"}
    assert fake.log[-1][0] == "PUT" and "/manifests/1" in fake.log[-1][1]
    pulled = read_image(registry, parse_reference(f"{HOST}/t/app:1"), parse_platform("linux/amd64"))
    assert pulled.manifest_bytes == image.manifest_bytes
    assert [l.source.open().read() for l in pulled.layers] == [b"one", b"two"]
    assert pulled.layers[0].source.origin == (HOST, "t/app")


def test_existing_blobs_are_skipped():
    fake = FakeRegistry()
    registry = connect(fake)
    push_image(registry, parse_reference(f"{HOST}/t/app:1"), image_with(b"one"))
    fake.log.clear()
    _, results = push_image(registry, parse_reference(f"{HOST}/t/app:2"), image_with(b"one", b"new"))
    outcomes = {r.digest: r.outcome for r in results}
    assert outcomes[sha256_digest(b"one")] == "exists" and outcomes[sha256_digest(b"new")] == "uploaded"
    assert len(fake.requests("PUT", "/blobs/uploads/")) == 2  # new layer + new config


def test_blobs_from_another_repo_of_the_same_registry_are_mounted():
    fake = FakeRegistry()
    registry = connect(fake)
    push_image(registry, parse_reference(f"{HOST}/t/base:1"), image_with(b"base"))
    base = read_image(registry, parse_reference(f"{HOST}/t/base:1"), parse_platform("linux/amd64"))
    fake.log.clear()
    app = append_layers(base, [layer(b"app")], ConfigChanges())
    _, results = push_image(registry, parse_reference(f"{HOST}/t/app:1"), app)
    assert {r.digest: r.outcome for r in results}[sha256_digest(b"base")] == "mounted"
    assert fake.requests("POST", "mount=" + sha256_digest(b"base").replace(":", "%3A"))
    uploaded = [url for url in fake.requests("PUT", "/blobs/uploads/")]
    assert len(uploaded) == 2 and not any(sha256_digest(b"base").replace(":", "%3A") in u for u in uploaded)


def test_large_blobs_go_in_chunks(monkeypatch):
    monkeypatch.setattr(push_module, "MONOLITHIC_LIMIT", 10)
    monkeypatch.setattr(push_module, "CHUNK_SIZE", 4)
    fake = FakeRegistry()
    push_image(connect(fake), parse_reference(f"{HOST}/t/app:1"), image_with(b"0123456789abc"))
    assert len(fake.requests("PATCH")) >= 4  # 13 bytes of layer, config in 4-byte chunks
    assert fake.blobs[sha256_digest(b"0123456789abc")] == b"0123456789abc"


def test_temporary_errors_are_retried():
    fake = FakeRegistry()
    registry = connect(fake)
    fake.fail_next = [503, 502]
    push_image(registry, parse_reference(f"{HOST}/t/app:1"), image_with(b"one"), jobs=1)
    assert ("t/app", "1") in fake.manifests


def test_manifest_is_not_put_when_a_blob_fails():
    fake = FakeRegistry()
    registry = Registry(HOST, RegistryOptions(transport=fake.transport(), backoff=0.0, retries=2))
    fake.fail_next = [500] * 20
    with pytest.raises(RegistryError) as caught:
        push_image(registry, parse_reference(f"{HOST}/t/app:1"), image_with(b"one"), jobs=1)
    assert "HTTP 500" in caught.value.message
    assert not fake.manifests and not fake.requests("PUT", "/manifests/")


def test_registry_errors_read_the_oci_error_body():
    fake = FakeRegistry()
    with pytest.raises(RegistryError) as caught:
        read_image(connect(fake), parse_reference(f"{HOST}/t/missing:1"), parse_platform("linux/amd64"))
    line = caught.value.one_line()
    assert "MANIFEST_UNKNOWN: manifest unknown" in line and "s2i inspect" in line and "\n" not in line
