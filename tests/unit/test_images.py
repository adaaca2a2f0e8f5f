import json

import pytest

from s2i.transports import layout
from s2i.errors import S2IError
from s2i.oci.image import BytesBlob, Layer, assemble, empty_image, parse_platform, select_platform
from s2i.oci.mutate import ConfigChanges, append_layers, merge_env
from s2i.oci.types import (
    ANNOTATION_BASE_DIGEST,
    ANNOTATION_BASE_LAYERS,
    ANNOTATION_BASE_NAME,
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Descriptor,
    canonical_json,
    sha256_digest,
)


def blob_layer(data: bytes, media_type=OCI_LAYER_GZIP) -> Layer:
    return Layer(Descriptor(media_type, sha256_digest(data), len(data)), sha256_digest(b"tar" + data), BytesBlob(data))


def docker_base() -> tuple:
    layer = blob_layer(b"base-layer", DOCKER_LAYER_GZIP)
    config = {"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/bin", "A=1"], "Cmd": ["/bin/sh"]},
              "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]}, "history": [{"created_by": "base"}]}
    config_bytes = canonical_json(config)
    manifest = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
                "config": {"mediaType": DOCKER_CONFIG, "digest": sha256_digest(config_bytes), "size": len(config_bytes)},
                "layers": [layer.descriptor.to_json()]}
    return assemble(canonical_json(manifest), config_bytes, [layer.source]), layer


def test_append_on_scratch_writes_oci_config_and_manifest():
    layer = blob_layer(b"app")
    changes = ConfigChanges(entrypoint=("/hello",), env=(("A", "1"),), workdir="/", user="65532",
                            labels=(("k", "v"),), ports=("8080",))
    image = append_layers(empty_image(), [layer], changes, created=86400, base_name="ignored-for-scratch")
    assert image.media_type == OCI_MANIFEST
    assert image.config["created"] == "1970-01-02T00:00:00Z"
    assert image.config["rootfs"]["diff_ids"] == [layer.diff_id]
    assert image.config["config"] == {"Entrypoint": ["/hello"], "Env": ["A=1"], "WorkingDir": "/", "User": "65532",
                                      "Labels": {"k": "v"}, "ExposedPorts": {"8080/tcp": {}}}
    assert image.manifest["layers"] == [layer.descriptor.to_json()]
    assert image.manifest["config"]["digest"] == sha256_digest(image.config_bytes)
    assert "annotations" not in image.manifest  # scratch is no base to rebase onto


def test_append_keeps_docker_family_and_records_the_base():
    base, base_layer = docker_base()
    new = blob_layer(b"app", DOCKER_LAYER_GZIP)
    image = append_layers(base, [new], ConfigChanges(entrypoint=("/app",), env=(("A", "2"), ("B", "3"))), base_name="reg/base:1")
    assert image.media_type == DOCKER_MANIFEST and image.manifest["config"]["mediaType"] == DOCKER_CONFIG
    assert image.manifest["annotations"] == {ANNOTATION_BASE_NAME: "reg/base:1", ANNOTATION_BASE_DIGEST: base.digest, ANNOTATION_BASE_LAYERS: "1"}
    assert image.config["config"]["Env"] == ["PATH=/bin", "A=2", "B=3"]
    assert "Cmd" not in image.config["config"]  # a new entrypoint drops the base's arguments
    assert image.layers == (base_layer, new) and len(image.config["history"]) == 2
    assert base.config["config"]["Env"] == ["PATH=/bin", "A=1"]  # base untouched


def test_append_is_deterministic():
    layer = blob_layer(b"app")
    first = append_layers(empty_image(), [layer], ConfigChanges(cmd=("a", "b")))
    second = append_layers(empty_image(), [layer], ConfigChanges(cmd=("a", "b")))
    assert first.manifest_bytes == second.manifest_bytes and first.digest == second.digest


def test_merge_env_replaces_in_place():
    assert merge_env(["A=1", "B=2"], (("B", "3"), ("C", "4"))) == ["A=1", "B=3", "C=4"]


def test_assemble_rejects_a_config_that_does_not_match():
    base, _ = docker_base()
    with pytest.raises(S2IError):
        assemble(base.manifest_bytes, base.config_bytes + b" ", [])


def test_platform_selection():
    index = {"manifests": [
        {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "1" * 64, "size": 1, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "2" * 64, "size": 1, "platform": {"os": "linux", "architecture": "amd64"}},
    ]}
    assert select_platform(index, parse_platform("linux/amd64")).digest.endswith("2" * 64)
    assert select_platform(index, parse_platform("linux/arm64/v8")).digest.endswith("1" * 64)
    with pytest.raises(S2IError) as caught:
        select_platform(index, parse_platform("linux/s390x"))
    assert "linux/arm64/v8" in caught.value.hint


def test_layout_round_trip_and_retag(tmp_path):
    base, _ = docker_base()
    image = append_layers(base, [blob_layer(b"app", DOCKER_LAYER_GZIP)], ConfigChanges(cmd=("x",)))
    layout.write_image(tmp_path, "v1", image)
    layout.write_image(tmp_path, "v1", base)
    layout.write_image(tmp_path, "v2", image)
    index = json.loads((tmp_path / "index.json").read_text())
    assert [m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]] == ["v1", "v2"]
    read = layout.read_image(tmp_path, "v2", parse_platform("linux/amd64"))
    assert read.manifest_bytes == image.manifest_bytes and read.config_bytes == image.config_bytes
    assert [layer.source.open().read() for layer in read.layers] == [b"base-layer", b"app"]
    with pytest.raises(S2IError) as caught:
        layout.read_image(tmp_path, "v3", parse_platform("linux/amd64"))
    assert "v1, v2" in caught.value.hint
    assert not [p for p in tmp_path.rglob(".tmp-*")]
