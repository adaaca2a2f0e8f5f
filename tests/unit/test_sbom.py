"""SBOM parts that need no image: Go build info from bytes, dpkg and dist-info records, deterministic documents."""

from __future__ import annotations

import json

from s2i.sbom.documents import cyclonedx, spdx
from s2i.sbom.goinfo import MAGIC, read_build_info
from s2i.sbom.scan import deb_component, go_components, pypi_component, unique

SENTINEL = b"0" * 16


def varint_string(text: bytes) -> bytes:
    out, length = b"", len(text)
    while True:
        byte = length & 0x7F
        length >>= 7
        out += bytes([byte | (0x80 if length else 0)])
        if not length:
            return out + text


def go_binary(version: bytes, modinfo: bytes, offset: int = 48) -> bytes:
    header = MAGIC + bytes([8, 2]) + b"\0" * 16
    return b"\x7fELF" + b"\0" * (offset - 4) + header + varint_string(version) + varint_string(SENTINEL + modinfo + SENTINEL)


MODINFO = b"path\texample.org/app\nmod\texample.org/app\t(devel)\t\ndep\tgolang.org/x/text\tv0.3.0\th1:x\n=>\t../text\t\t\nbuild\tGOOS=linux\n" + b"x" * 200


def test_go_build_info_is_read_from_the_bytes():
    build = read_build_info(go_binary(b"go1.22.4", MODINFO))
    assert build.go_version == "go1.22.4" and build.main == ("example.org/app", "(devel)")
    assert build.deps == (("../text", ""),)  # a replaced module is what was built
    found = go_components(go_binary(b"go1.22.4", MODINFO), "/app/app")
    assert [c.purl for c in found] == ["pkg:golang/stdlib@go1.22.4", "pkg:golang/example.org/app", "pkg:golang/../text"]


def test_misaligned_or_truncated_build_info_is_not_believed():
    assert read_build_info(go_binary(b"go1.22.4", MODINFO, offset=50)) is None
    assert read_build_info(go_binary(b"go1.22.4", MODINFO)[:70]) is None
    assert read_build_info(b"\x7fELF" + b"\0" * 100) is None


def test_dpkg_and_dist_info_records_become_components_with_purls():
    deb = deb_component("Package: libc6\nVersion: 2.36-9+deb12u14\nArchitecture: amd64\n", "/var/lib/dpkg/status.d/libc6")
    assert deb.purl == "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64"
    assert deb_component("Description: no name\n", "x") is None
    wheel = pypi_component("Metadata-Version: 2.4\nName: Markupsafe_X\nVersion: 3.0.2\nLicense-Expression: BSD-3-Clause\n", "m")
    assert wheel.purl == "pkg:pypi/markupsafe-x@3.0.2" and wheel.license == "BSD-3-Clause"
    free_text = pypi_component("Name: old\nVersion: 1\nLicense: BSD License, see LICENSE file\n", "m")
    assert free_text.license == ""  # not an SPDX expression: NOASSERTION rather than a made-up one


def test_documents_are_deterministic_and_name_each_component_once():
    parts = unique([deb_component("Package: a.b\nVersion: 1\n", "x"), deb_component("Package: a.b\nVersion: 1\n", "y"),
                    pypi_component("Name: flask\nVersion: 3.1.0\n", "z")])
    assert len(parts) == 2
    first, second = spdx(parts, "reg/app", "sha256:" + "a" * 64, "2024-01-01T00:00:00Z"), spdx(parts, "reg/app", "sha256:" + "a" * 64, "2024-01-01T00:00:00Z")
    assert first == second and first["documentNamespace"] != spdx(parts, "reg/app", "sha256:" + "b" * 64, "x")["documentNamespace"]
    ids = [p["SPDXID"] for p in first["packages"]]
    assert len(set(ids)) == len(ids) == 3
    assert {r["relationshipType"] for r in first["relationships"]} == {"DESCRIBES", "CONTAINS"}
    bom = cyclonedx(parts, "reg/app", "sha256:" + "a" * 64, "2024-01-01T00:00:00Z")
    assert [c["purl"] for c in bom["components"]] == ["pkg:deb/debian/a.b@1", "pkg:pypi/flask@3.1.0"]


def test_a_stack_base_is_known_by_its_label_so_its_layers_are_not_read(tmp_path):
    from s2i.sbom.make import image_sbom
    from s2i.store import Store
    from tests.unit.crafted import stored_image, tar_of

    store = Store(tmp_path / "store")
    labels = {"config": {"Labels": {"io.s2i.stack.packages": "libc6=2.36-9 tzdata=2026f-0"}}, "architecture": "amd64"}
    image = stored_image(store, [tar_of([("var/lib/dpkg/status.d/ignored", "file", b"Package: ignored\nVersion: 1\n")]),
                                 tar_of([("var/lib/dpkg/status.d/libpq5", "file", b"Package: libpq5\nVersion: 15\n")])], config_extra=labels)
    image.layers[0].source.path.unlink()  # a mounted base: its bytes are not here, and need not be
    _, document = image_sbom(image, 1, "spdx", "reg/app", store)
    names = {p["name"] for p in json.loads(document)["packages"]}
    assert {"libc6", "tzdata", "libpq5"} <= names and "ignored" not in names


def test_a_layer_whose_tar_is_not_its_diff_id_is_refused_and_no_scan_is_kept_for_that_diff_id(tmp_path):
    import pytest

    from s2i.oci.types import sha256_digest
    from s2i.sbom.make import layer_components
    from s2i.stack.rootfs import UnsafeLayer
    from s2i.store import Store
    from tests.unit.crafted import stored_image, tar_of

    store = Store(tmp_path / "store")
    claimed = sha256_digest(b"the tar of an honest layer")  # a hostile image pairs that diff_id with other files
    tar = tar_of([("usr/lib/python3/dist-packages/evil-1.dist-info/METADATA", "file", b"Name: evil\nVersion: 1\n")])
    image = stored_image(store, [tar], diff_ids=[claimed])
    with pytest.raises(UnsafeLayer, match="not the config's"):
        layer_components(store, image.layers[0], True)
    assert not (store.root / "sbom").exists() or list((store.root / "sbom").iterdir()) == []
    honest = stored_image(store, [tar])
    assert [c.name for c in layer_components(store, honest.layers[0], True)] == ["evil"]
