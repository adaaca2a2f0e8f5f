"""Image indexes: made deterministically, read whole with every child checked, written children first and tags last."""

import json

import pytest

from s2i.errors import S2IError, UsageError
from s2i.oci.image import BytesBlob, Layer, assemble, empty_image, parse_platform
from s2i.oci.index import MAX_CHILDREN, ImageIndex, make_index, parse_index
from s2i.oci.mutate import ConfigChanges, append_layers
from s2i.oci.reference import parse_destination, parse_location
from s2i.oci.types import (
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Descriptor,
    canonical_json,
    sha256_digest,
)
from s2i.store import Store
from s2i.transports import Context, publish_index, read_all, read_image, write_index
from s2i.transports.registry.client import Registries, RegistryOptions
from tests.unit.fake_registry import FakeRegistry

HOST = "registry.test"


def layer(data: bytes, media_type=OCI_LAYER_GZIP) -> Layer:
    return Layer(Descriptor(media_type, sha256_digest(data), len(data)), sha256_digest(b"tar" + data), BytesBlob(data))


def image_for(platform: str, data: bytes):
    os_name, arch, *variant = platform.split("/")
    return append_layers(empty_image(os_name, arch, "".join(variant)), [layer(data)], ConfigChanges(entrypoint=("/x",)))


def docker_image(arch: str):
    data = f"docker-{arch}".encode()
    blob = layer(data, DOCKER_LAYER_GZIP)
    config = canonical_json({"architecture": arch, "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": [blob.diff_id]}})
    manifest = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
                "config": {"mediaType": DOCKER_CONFIG, "digest": sha256_digest(config), "size": len(config)},
                "layers": [blob.descriptor.to_json()]}
    return assemble(canonical_json(manifest), config, [blob.source])


def two_platforms():
    return [image_for("linux/amd64", b"amd64 file"), image_for("linux/arm64/v8", b"arm64 file")]


def context_for(fake: FakeRegistry, platform="linux/amd64") -> Context:
    return Context(Registries(RegistryOptions(transport=fake.transport(), backoff=0.0)), parse_platform(platform))


def test_make_index_lists_each_image_with_its_platform_in_the_order_given():
    images = two_platforms()
    index = make_index(images)
    document = json.loads(index.manifest_bytes)
    assert document["mediaType"] == OCI_INDEX == index.media_type
    assert [entry["platform"] for entry in document["manifests"]] == [
        {"os": "linux", "architecture": "amd64"}, {"os": "linux", "architecture": "arm64", "variant": "v8"}]
    assert [entry["digest"] for entry in document["manifests"]] == [image.digest for image in images]
    assert [entry["mediaType"] for entry in document["manifests"]] == [OCI_MANIFEST, OCI_MANIFEST]
    assert make_index(two_platforms()).manifest_bytes == index.manifest_bytes  # no clock, no randomness
    assert make_index(images[::-1]).digest != index.digest


def test_docker_typed_images_make_a_docker_manifest_list_without_annotations():
    index = make_index([docker_image("amd64"), docker_image("arm64")], {"org.example": "x"})
    assert index.media_type == DOCKER_LIST and "annotations" not in index.manifest
    assert make_index(two_platforms(), {"org.example": "x"}).manifest["annotations"] == {"org.example": "x"}


def test_make_index_refuses_duplicate_platforms_and_no_images():
    with pytest.raises(S2IError, match="lists platform linux/amd64 twice"):
        make_index([image_for("linux/amd64", b"a"), image_for("linux/amd64", b"b")])
    with pytest.raises(S2IError, match="needs at least one image"):
        make_index([])


def entry(digest_of: bytes = b"x", media_type=OCI_MANIFEST, platform=None) -> dict:
    value = {"mediaType": media_type, "digest": sha256_digest(digest_of), "size": 10}
    if platform is not False:
        value["platform"] = platform or {"os": "linux", "architecture": "amd64"}
    return value


@pytest.mark.parametrize("entries, message", [
    ([entry(media_type=OCI_INDEX)], "entry 1 is itself an index; s2i reads one level of index only"),
    ([entry(media_type="application/vnd.example+json")], "entry 1 has media type 'application/vnd.example+json'"),
    ([entry(platform=False)], "entry 1 names no platform os and architecture"),
    ([entry(b"a"), entry(b"b")], "lists platform linux/amd64 twice"),
    ([entry(str(n).encode(), platform={"os": "linux", "architecture": f"a{n}"}) for n in range(MAX_CHILDREN + 1)],
     f"lists {MAX_CHILDREN + 1} manifests, over the limit of {MAX_CHILDREN}"),
    ([], "manifests is not a non-empty list"),
])
def test_parse_index_refuses_hostile_indexes_in_one_line(entries, message):
    data = canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
    with pytest.raises(S2IError) as caught:
        parse_index(data, "index of x")
    assert message in caught.value.message and "\n" not in caught.value.message


def test_attestation_entries_may_share_the_unknown_platform():
    unknown = {"os": "unknown", "architecture": "unknown"}
    data = canonical_json({"schemaVersion": 2, "manifests": [entry(b"a"), entry(b"b", platform=unknown), entry(b"c", platform=unknown)]})
    assert len(parse_index(data, "index")) == 3


def test_write_index_pushes_every_child_by_digest_before_any_tag():
    fake = FakeRegistry()
    context = context_for(fake)
    images = two_platforms()
    published = write_index(parse_destination(f"{HOST}/t/app:1"), images, context, tags=("2",))
    puts = [url for method, url in fake.log if method == "PUT" and "/manifests/" in url]
    children = [f"/manifests/{image.digest}" for image in images]
    index = make_index(images)
    assert [url.split("/t/app")[1] for url in puts] == [*children, f"/manifests/{index.digest}", "/manifests/1", "/manifests/2"]
    assert published.digest == index.digest and published.reference == f"{HOST}/t/app@{index.digest}"
    assert published.tags == (f"{HOST}/t/app:1", f"{HOST}/t/app:2")
    assert fake.manifests[("t/app", "1")] == (index.manifest_bytes, OCI_INDEX)


def test_a_failed_child_leaves_no_tag():
    fake = FakeRegistry()
    images = two_platforms()
    broken = Layer(images[1].layers[0].descriptor, images[1].layers[0].diff_id, BytesBlob(b"other bytes"))
    images[1] = append_layers(empty_image("linux", "arm64"), [broken], ConfigChanges())
    with pytest.raises(S2IError):
        write_index(parse_destination(f"{HOST}/t/app:1"), images, context_for(fake))
    assert ("t/app", "1") not in fake.manifests and ("t/app", images[0].digest) in fake.manifests


def test_read_all_gives_the_whole_index_and_a_copy_mounts_its_blobs_and_keeps_its_digest():
    fake = FakeRegistry()
    context = context_for(fake)
    images = two_platforms()
    pushed = write_index(parse_destination(f"{HOST}/t/src:1"), images, context)
    whole = read_all(parse_location(f"{HOST}/t/src:1"), context)
    assert isinstance(whole, ImageIndex) and whole.digest == pushed.digest
    assert [child.digest for child in whole.children] == [image.digest for image in images]
    copied = publish_index(parse_destination(f"{HOST}/t/dst:1"), whole, context)
    assert copied.digest == pushed.digest and {b.outcome for b in copied.blobs} == {"mounted"}
    arm = read_image(parse_location(f"{HOST}/t/dst:1"), context_for(fake, "linux/arm64"))
    assert arm.digest == images[1].digest and arm.layers[0].source.open().read() == b"arm64 file"


def test_read_all_of_a_single_image_gives_the_image():
    fake = FakeRegistry()
    context = context_for(fake)
    image = image_for("linux/amd64", b"one")
    from s2i.transports import write_image

    write_image(parse_destination(f"{HOST}/t/one:1"), image, context)
    assert read_all(parse_location(f"{HOST}/t/one:1"), context).digest == image.digest


def put_raw(fake: FakeRegistry, repo: str, tag: str, document: dict) -> None:
    data = canonical_json(document)
    fake.manifests[(repo, tag)] = fake.manifests[(repo, sha256_digest(data))] = (data, document.get("mediaType", OCI_INDEX))


def test_read_all_refuses_a_child_whose_config_is_another_platform():
    fake = FakeRegistry()
    context = context_for(fake)
    amd = image_for("linux/amd64", b"amd64 file")
    write_index(parse_destination(f"{HOST}/t/src:ok"), [amd], context)
    lying = {"mediaType": OCI_MANIFEST, "digest": amd.digest, "size": len(amd.manifest_bytes),
             "platform": {"os": "linux", "architecture": "arm64"}}
    put_raw(fake, "t/src", "lie", {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [lying]})
    with pytest.raises(S2IError, match="entry 1: index says linux/arm64, the image's config says 'linux/amd64'"):
        read_all(parse_location(f"{HOST}/t/src:lie"), context)


def test_read_all_refuses_a_child_the_registry_serves_as_other_bytes():
    fake = FakeRegistry()
    context = context_for(fake)
    amd, arm = two_platforms()
    write_index(parse_destination(f"{HOST}/t/src:1"), [amd, arm], context)
    fake.manifests[("t/src", arm.digest)] = fake.manifests[("t/src", amd.digest)]  # the registry answers arm's digest with amd's bytes
    with pytest.raises(S2IError, match="does not match its digest"):
        read_all(parse_location(f"{HOST}/t/src:1"), context)


def test_layout_holds_an_index_whole_and_by_platform(tmp_path):
    images = two_platforms()
    location = parse_destination(f"oci:{tmp_path}/layout:multi")
    published = write_index(location, images, Context(Registries()))
    assert published.digest == make_index(images).digest
    top = json.loads((tmp_path / "layout/index.json").read_text())["manifests"]
    assert [(e["mediaType"], e["digest"]) for e in top] == [(OCI_INDEX, published.digest)]
    whole = read_all(location, Context(Registries()))
    assert isinstance(whole, ImageIndex) and whole.manifest_bytes == make_index(images).manifest_bytes
    arm = read_image(location, Context(Registries(), parse_platform("linux/arm64")))
    assert arm.digest == images[1].digest


def test_layout_index_with_a_missing_child_blob_is_one_line(tmp_path):
    images = two_platforms()
    location = parse_destination(f"oci:{tmp_path}/layout:multi")
    write_index(location, images, Context(Registries()))
    (tmp_path / "layout/blobs/sha256" / images[1].digest.split(":")[1]).unlink()
    with pytest.raises(S2IError, match="entry 2: blob .* is missing from the layout"):
        read_all(location, Context(Registries()))


def test_store_holds_an_index(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    images = two_platforms()
    location = parse_location("store:builds/multi")
    write_index(location, images, Context(Registries()))
    assert read_all(location, Context(Registries())).digest == make_index(images).digest
    assert read_image(location, Context(Registries(), parse_platform("linux/arm64"))).digest == images[1].digest
    assert Store().has_blob(images[1].layers[0].descriptor.digest)


def test_docker_archive_and_tags_off_a_registry_are_refused_in_one_line(tmp_path):
    with pytest.raises(UsageError, match="holds one image, not an index of 2 platforms"):
        write_index(parse_location(f"docker-archive:{tmp_path}/a.tar"), two_platforms(), Context(Registries()))
    with pytest.raises(UsageError, match="--tag needs a registry destination"):
        write_index(parse_location(f"oci:{tmp_path}/l"), two_platforms(), Context(Registries()), tags=("x",))
    assert not (tmp_path / "a.tar").exists() and not (tmp_path / "l").exists()


def test_a_buildkit_attestation_entry_is_not_held_to_its_placeholder_config():
    fake = FakeRegistry()
    context = context_for(fake)
    amd, attestation = two_platforms()[0], image_for("linux/amd64", b"in-toto statement")
    write_index(parse_destination(f"{HOST}/t/parts:1"), [amd], context)
    write_index(parse_destination(f"{HOST}/t/parts:2"), [attestation], context)
    unknown = {"os": "unknown", "architecture": "unknown"}
    marked = {**attestation.descriptor().to_json(), "platform": unknown, "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}
    plain = {**attestation.descriptor().to_json(), "platform": unknown}
    first = {**amd.descriptor().to_json(), "platform": {"os": "linux", "architecture": "amd64"}}
    for tag, second in (("marked", marked), ("plain", plain)):
        put_raw(fake, "t/parts", tag, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [first, second]})
    assert len(read_all(parse_location(f"{HOST}/t/parts:marked"), context).children) == 2
    with pytest.raises(S2IError, match="index says unknown/unknown, the image's config says 'linux/amd64'"):
        read_all(parse_location(f"{HOST}/t/parts:plain"), context)
