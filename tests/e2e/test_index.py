"""Image indexes against a real registry: write_index, `s2i copy` of a whole index (or one platform), `s2i inspect`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s2i.oci.image import parse_platform
from s2i.oci.reference import parse_destination, parse_location
from s2i.oci.types import OCI_INDEX, OCI_MANIFEST
from s2i.transports import Context, read_image, write_index
from s2i.transports.registry.client import Registries
from tests.e2e.helpers import registry_uploads, run_cmd, skopeo_copy, skopeo_inspect

pytestmark = pytest.mark.e2e


def digest_of(stdout: str) -> str:
    return stdout.strip().rsplit("@", 1)[1]


def tag_puts_before_children(requests, repository: str, children: list[str]) -> list[str]:
    """Manifest PUTs under a tag that came before some child manifest's PUT by digest (none is the rule)."""
    puts = [r.path.split("/manifests/")[1] for r in requests
            if r.method == "PUT" and r.path.startswith(f"/v2/{repository}/manifests/") and r.status == 201]
    assert set(children) <= set(puts), f"children never pushed to {repository}: {puts}"
    last_child = max(puts.index(child) for child in children)
    return [ref for ref in puts[:last_child] if not ref.startswith("sha256:")]


@pytest.fixture
def source_index(tmp_path, s2i, registry):
    """Two small images that differ (a file each; the second's config says arm64) under one index, pushed by write_index."""
    digests = {}
    for arch in ("amd64", "arm64"):
        layer = tmp_path / f"layer-{arch}"
        layer.mkdir()
        (layer / f"{arch}.txt").write_text(f"the {arch} file\n")
        target = f"{registry.host}/t/parts:{arch}"
        result = s2i("append", "scratch", target, "--layer", layer, "--platform", f"linux/{arch}", "--cmd", "/x")
        assert result.returncode == 0, result.stderr
        digests[arch] = digest_of(result.stdout)
    registries = Registries()
    try:
        images = [read_image(parse_location(f"{registry.host}/t/parts:{arch}"), Context(registries, parse_platform(f"linux/{arch}")))
                  for arch in ("amd64", "arm64")]
        published = write_index(parse_destination(f"{registry.host}/t/src:multi"), images, Context(registries), tags=("v1",))
    finally:
        registries.close()
    assert [image.digest for image in images] == [digests["amd64"], digests["arm64"]]
    return published, digests


def platforms_of(index: dict) -> list[tuple[str, str]]:
    return [(m["platform"]["architecture"], m["digest"]) for m in index["manifests"]]


def test_write_index_is_what_skopeo_reads_and_tags_come_last(tmp_path, registry, source_index):
    published, digests = source_index
    assert published.reference == f"{registry.host}/t/src@{published.digest}"
    assert published.tags == (f"{registry.host}/t/src:multi", f"{registry.host}/t/src:v1")
    raw = skopeo_inspect(f"docker://{registry.host}/t/src:multi", raw=True)
    assert raw["mediaType"] == OCI_INDEX
    assert platforms_of(raw) == [("amd64", digests["amd64"]), ("arm64", digests["arm64"])]
    assert tag_puts_before_children(registry.requests(), "t/src", list(digests.values())) == []
    skopeo_copy(f"docker://{registry.host}/t/src:v1", f"dir:{tmp_path}/all", "--all")
    children = sorted(p.name for p in (tmp_path / "all").glob("*.manifest.json"))
    assert children == sorted(f"{d.split(':')[1]}.manifest.json" for d in digests.values())
    arm = run_cmd(["skopeo", "inspect", "--tls-verify=false", "--override-arch", "arm64", f"docker://{registry.host}/t/src:multi"])
    assert json.loads(arm.stdout)["Architecture"] == "arm64"


def test_copy_keeps_every_platform_mounting_blobs(s2i, registry, source_index):
    published, digests = source_index
    before = len(registry.requests())
    result = s2i("copy", f"{registry.host}/t/src:multi", f"{registry.host}/t/dst:multi", "--tag", "2", "--json")
    assert result.returncode == 0, result.stderr
    copied = json.loads(result.stdout)
    assert copied["digest"] == published.digest and copied["reference"] == f"{registry.host}/t/dst@{published.digest}"
    raw = skopeo_inspect(f"docker://{registry.host}/t/dst:2", raw=True)
    assert platforms_of(raw) == [("amd64", digests["amd64"]), ("arm64", digests["arm64"])]
    requests = registry.requests()[before:]
    uploads, mounts = registry_uploads(requests)
    manifests = [skopeo_inspect(f"docker://{registry.host}/t/src@{d}", raw=True) for d in digests.values()]
    blobs = {blob["digest"] for m in manifests for blob in [m["config"], *m["layers"]]}
    assert len(blobs) == 4 and uploads == []  # two layers, two configs: all mounted, no byte sent
    assert {m.digest for m in mounts if m.mounted_from == "t/src"} == blobs
    assert tag_puts_before_children(requests, "t/dst", list(digests.values())) == []
    assert registry.manifest_tags("t/dst") == {"multi", "2"}


def test_copy_to_an_oci_layout_keeps_the_index(tmp_path, s2i, registry, source_index):
    published, digests = source_index
    result = s2i("copy", f"{registry.host}/t/src:multi", f"oci:{tmp_path}/layout:multi")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"oci:{tmp_path}/layout:multi"
    raw = skopeo_inspect(f"oci:{tmp_path}/layout:multi", raw=True)
    assert platforms_of(raw) == [("amd64", digests["amd64"]), ("arm64", digests["arm64"])]
    top = json.loads((tmp_path / "layout/index.json").read_text())["manifests"]
    assert [(e["mediaType"], e["digest"]) for e in top] == [(OCI_INDEX, published.digest)]
    back = s2i("copy", f"oci:{tmp_path}/layout:multi", f"{registry.host}/t/back:1")  # and from the layout, whole
    assert back.returncode == 0, back.stderr
    assert digest_of(back.stdout) == published.digest


def unpacked_file(layout: Path, tag: str, name: str, work: Path) -> str:
    bundle = work / "bundle"
    run_cmd(["umoci", "unpack", "--rootless", "--image", f"{layout}:{tag}", bundle])
    return (bundle / "rootfs" / name).read_text()


def test_copy_with_platform_gives_that_one_image(tmp_path, s2i, registry, source_index):
    _, digests = source_index
    result = s2i("copy", "--platform", "linux/arm64", f"{registry.host}/t/src:multi", f"{registry.host}/t/one:arm")
    assert result.returncode == 0, result.stderr
    assert digest_of(result.stdout) == digests["arm64"]
    raw = skopeo_inspect(f"docker://{registry.host}/t/one:arm", raw=True)
    assert raw["mediaType"] == OCI_MANIFEST
    layout = tmp_path / "arm-layout"
    assert s2i("copy", "--platform", "linux/arm64", f"{registry.host}/t/src:multi", f"oci:{layout}:arm").returncode == 0
    assert unpacked_file(layout, "arm", "arm64.txt", tmp_path) == "the arm64 file\n"
    assert not (tmp_path / "bundle/rootfs/amd64.txt").exists()


def test_inspect_lists_the_platforms_or_shows_one(s2i, registry, source_index):
    published, digests = source_index
    result = s2i("inspect", f"{registry.host}/t/src:multi", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["digest"] == published.digest and summary["mediaType"] == OCI_INDEX
    assert [(m["platform"], m["digest"]) for m in summary["manifests"]] == [
        ("linux/amd64", digests["amd64"]), ("linux/arm64", digests["arm64"])]
    text = s2i("inspect", f"{registry.host}/t/src:multi").stdout
    assert f"linux/arm64  {digests['arm64']}" in text and "platforms   2" in text
    one = json.loads(s2i("inspect", "--platform", "linux/arm64", f"{registry.host}/t/src:multi", "--json").stdout)
    assert one["digest"] == digests["arm64"] and one["platform"] == "linux/arm64"


def test_copy_of_an_index_to_a_docker_archive_asks_for_a_platform(tmp_path, s2i, registry, source_index):
    result = s2i("copy", f"{registry.host}/t/src:multi", f"docker-archive:{tmp_path}/a.tar")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("s2i: error: docker-archive:")
    assert "pick one with --platform" in result.stderr and not (tmp_path / "a.tar").exists()
