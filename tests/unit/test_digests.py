"""Digests from images go through one parser before any path or URL is built; bad documents are one line."""

import json
import os

import pytest

from s2i.errors import S2IError
from s2i.oci.image import BytesBlob, Image, Layer, empty_image, parse_platform
from s2i.oci.mutate import append_layers
from s2i.oci.reference import parse_reference
from s2i.oci.types import OCI_LAYER_GZIP, Descriptor, parse_digest, sha256_digest
from s2i.store import Store
from s2i.transports import layout
from s2i.transports.registry.client import Registry, RegistryOptions
from s2i.transports.registry.pull import read_image
from tests.unit.crafted import documents
from tests.unit.fake_registry import FakeRegistry

HOST = "registry.test"
CLIMB = "sha256:../../../outside"


@pytest.mark.parametrize("good", ["sha256:" + "0" * 64, "sha512:" + "ab" * 64])
def test_the_parser_takes_registered_digests(good):
    assert parse_digest(good, "test") == good


@pytest.mark.parametrize("bad", [CLIMB, "sha256:" + "A" * 64, "sha256:" + "0" * 63, "sha256:" + "0" * 64 + "\n",
                                 "md5:" + "0" * 32, "sha512:" + "0" * 64, "", None, 12, ["sha256:" + "0" * 64]])
def test_the_parser_refuses_everything_else_in_one_line_naming_the_source(bad):
    with pytest.raises(S2IError) as caught:
        parse_digest(bad, "layout index.json")
    assert caught.value.message.startswith("layout index.json: invalid digest")
    assert "\n" not in caught.value.one_line()


def test_store_paths_are_never_built_from_a_bad_digest(tmp_path):
    with pytest.raises(S2IError):
        Store(tmp_path / "store").blob_path(CLIMB)


def test_a_descriptor_from_json_is_checked_field_by_field():
    assert Descriptor.from_json({"digest": "sha256:" + "1" * 64, "size": 3}, "x").size == 3
    for bad in ({"digest": CLIMB, "size": 3}, {"digest": "sha256:" + "1" * 64, "size": "3"},
                {"digest": "sha256:" + "1" * 64, "size": True}, {"digest": "sha256:" + "1" * 64, "size": -1}, ["x"]):
        with pytest.raises(S2IError) as caught:
            Descriptor.from_json(bad, "store ref builds/app")
        assert caught.value.message.startswith("store ref builds/app: ")


def serve(fake: FakeRegistry, manifest: bytes, config: bytes | None = None) -> Registry:
    fake.manifests[("t/evil", "1")] = (manifest, "application/vnd.oci.image.manifest.v1+json")
    if config is not None:
        fake.blobs[sha256_digest(config)] = config
        fake.repo_blobs["t/evil"].add(sha256_digest(config))
    return Registry(HOST, RegistryOptions(transport=fake.transport(), backoff=0.0, retries=1))


def pull(registry: Registry):
    return read_image(registry, parse_reference(f"{HOST}/t/evil:1"), parse_platform("linux/amd64"))


def test_a_pulled_manifest_with_a_climbing_layer_digest_is_one_line():
    manifest, config = documents([b"x"], ["sha256:" + "2" * 64])
    hostile = json.loads(manifest)
    hostile["layers"][0]["digest"] = CLIMB
    with pytest.raises(S2IError) as caught:
        pull(serve(FakeRegistry(), json.dumps(hostile).encode(), config))
    assert caught.value.message == f"manifest of {HOST}/t/evil:1, layer 1: invalid digest '{CLIMB}'"


def mangled(change) -> tuple[bytes, bytes]:
    manifest, config = documents([b"x"], ["sha256:" + "2" * 64])
    manifest_json, config_json = json.loads(manifest), json.loads(config)
    change(manifest_json, config_json)
    config = json.dumps(config_json).encode()
    manifest_json["config"]["digest"], manifest_json["config"]["size"] = sha256_digest(config), len(config)
    return json.dumps(manifest_json).encode(), config


CASES = {
    "layers is not a list": (lambda m, c: m.update(layers={"a": 1}), "layers is not a list"),
    "size is a string": (lambda m, c: m["layers"][0].update(size="1"), "descriptor size '1' is not a whole number"),
    "diff_ids count": (lambda m, c: c["rootfs"].update(diff_ids=[]), "config and manifest disagree on the layer count"),
    "diff_ids not a list": (lambda m, c: c["rootfs"].update(diff_ids="sha256:x"), "rootfs.diff_ids is not a list"),
    "climbing diff_id": (lambda m, c: c["rootfs"].update(diff_ids=[CLIMB]), f"diff_id 1: invalid digest '{CLIMB}'"),
    "entrypoint a string": (lambda m, c: c["config"].update(Entrypoint="/bin/sh"), "config.Entrypoint has the wrong JSON type"),
    "config a list": (lambda m, c: c.update(config=["x"]), "rootfs or config is not an object"),
}


@pytest.mark.parametrize("case", CASES)
def test_mistyped_manifests_and_configs_are_one_line(case):
    change, expected = CASES[case]
    manifest, config = mangled(change)
    with pytest.raises(S2IError) as caught:
        pull(serve(FakeRegistry(), manifest, config))
    assert expected in caught.value.message and "\n" not in caught.value.one_line()


@pytest.mark.parametrize("body", [b"[1, 2]", b"{" * 10, b"[" * 200_000 + b"]" * 200_000, b'{"pad": "' + b"x" * (5 << 20) + b'"}'])
def test_broken_or_oversize_manifests_are_one_line(body):
    with pytest.raises(S2IError) as caught:
        pull(serve(FakeRegistry(), body))
    assert "\n" not in caught.value.one_line() and len(caught.value.one_line()) < 300


def test_an_oversize_config_from_a_registry_is_refused():
    manifest, config = mangled(lambda m, c: c.update(pad="x" * (5 << 20)))
    with pytest.raises(S2IError) as caught:
        pull(serve(FakeRegistry(), manifest, config))
    assert "over the 4 MiB limit" in caught.value.message  # refused by its descriptor, before any byte is read


def write_index(root, digest: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": 5,
         "annotations": {"org.opencontainers.image.ref.name": "t"}}]}))


def test_a_layout_index_with_a_climbing_digest_reads_nothing_outside(tmp_path):
    (tmp_path / "outside").write_text("hello")
    write_index(tmp_path / "a" / "b" / "layout", "sha256:../../../../../outside")
    with pytest.raises(S2IError) as caught:
        layout.read_image(tmp_path / "a" / "b" / "layout", "t", parse_platform("linux/amd64"))
    assert caught.value.message.startswith(f"{tmp_path}/a/b/layout/index.json, tag t: invalid digest")


def test_an_oversize_layout_index_is_refused(tmp_path):
    (tmp_path / "index.json").write_bytes(b'{"manifests": [], "pad": "' + b"x" * (5 << 20) + b'"}')
    with pytest.raises(S2IError) as caught:
        layout.read_image(tmp_path, "t", parse_platform("linux/amd64"))
    assert "over the 4 MiB limit" in caught.value.message


def test_writing_a_layout_never_follows_a_climbing_descriptor(tmp_path):
    data = b"written outside"
    hostile = Layer(Descriptor(OCI_LAYER_GZIP, "sha256:../../../escaped", len(data)), "sha256:" + "3" * 64, BytesBlob(data))
    image = append_layers(empty_image(), [Layer(Descriptor(OCI_LAYER_GZIP, sha256_digest(b"ok"), 2), "sha256:" + "4" * 64, BytesBlob(b"ok"))])
    image = Image(image.manifest_bytes, image.config_bytes, (hostile,))
    with pytest.raises(S2IError):
        layout.write_image(tmp_path / "out" / "layout", "t", image)
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "out" / "escaped").exists()
    assert not os.path.exists(tmp_path / "out" / "layout" / "index.json")
