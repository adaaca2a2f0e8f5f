"""A C program's bundled libraries mapped to the builder's Debian packages and recorded as status.d entries."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from s2i.sbom.bundled import list_owners, merged_path, record_bundled, status_stanzas
from s2i.sbom.scan import deb_component

LIBZ = b"\x7fELF zlib's bytes"
STATUS = """Package: zlib1g
Status: install ok installed
Architecture: amd64
Version: 1:1.3.dfsg+really1.3.1-1+b1
Description: compression library

Package: conffy
Status: install ok installed
Architecture: amd64
Version: 2
Conffiles:
 /etc/conffy.conf 0123abcd

Package: gone
Status: deinstall ok config-files
Architecture: amd64
Version: 1
"""


def builder(tmp_path: Path) -> Path:
    """A merged-/usr rootfs: /lib a link to usr/lib, the soname a link to the file, as Debian's are."""
    root = tmp_path / "builder"
    libdir = root / "usr/lib/x86_64-linux-gnu"
    libdir.mkdir(parents=True)
    (libdir / "libz.so.1.3.1").write_bytes(LIBZ)
    (libdir / "libz.so.1").symlink_to("libz.so.1.3.1")
    (root / "lib").symlink_to("usr/lib")
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    (info / "zlib1g:amd64.list").write_text("/.\n/usr\n/usr/lib/x86_64-linux-gnu/libz.so.1.3.1\n/usr/lib/x86_64-linux-gnu/libz.so.1\n")
    (info / "conffy.list").write_text("/etc/conffy.conf\n")
    (root / "var/lib/dpkg/status").write_text(STATUS)
    return root


def libs_layer(tmp_path: Path, content: bytes = LIBZ) -> Path:
    """What the C step leaves: Debian's library at ldd's (/lib) path, the project's own under /usr/lib."""
    layer = tmp_path / "libs"
    (layer / "lib/x86_64-linux-gnu").mkdir(parents=True)
    (layer / "lib/x86_64-linux-gnu/libz.so.1").write_bytes(content)
    (layer / "usr/lib").mkdir(parents=True)
    (layer / "usr/lib/libown.so.1").write_bytes(b"\x7fELF the app's own")
    return layer


def test_merged_usr_spellings_share_one_key():
    assert merged_path("/lib/x86_64-linux-gnu/libz.so.1") == merged_path("/usr/lib/x86_64-linux-gnu/libz.so.1")
    assert merged_path("/lib64/ld-linux-x86-64.so.2") == "/usr/lib64/ld-linux-x86-64.so.2"
    assert merged_path("/library/x") == "/library/x"
    owners = list_owners({"zlib1g:amd64": "/.\n/lib/x86_64-linux-gnu/libz.so.1\n"}, {"/usr/lib/x86_64-linux-gnu/libz.so.1"})
    assert owners == {"/usr/lib/x86_64-linux-gnu/libz.so.1": "zlib1g:amd64"}


def test_installed_stanzas_only_without_conffiles():
    stanzas = status_stanzas(STATUS)
    assert set(stanzas) == {"zlib1g", "zlib1g:amd64", "conffy", "conffy:amd64"}  # "gone" is not installed
    assert "Conffiles" not in stanzas["conffy"] and "/etc/conffy.conf" not in stanzas["conffy"]
    assert stanzas["conffy"].endswith("Version: 2\n")


def test_a_bundled_library_is_recorded_as_its_package_and_the_projects_own_is_not(tmp_path):
    layer = libs_layer(tmp_path)
    assert record_bundled(layer, builder(tmp_path)) == ["zlib1g"]
    status_d = layer / "var/lib/dpkg/status.d"
    assert sorted(os.listdir(status_d)) == ["zlib1g", "zlib1g.md5sums"]
    component = deb_component((status_d / "zlib1g").read_text(), "/var/lib/dpkg/status.d/zlib1g")
    assert component.purl == "pkg:deb/debian/zlib1g@1%3A1.3.dfsg%2Breally1.3.1-1%2Bb1?arch=amd64"
    assert (status_d / "zlib1g.md5sums").read_text() == f"{hashlib.md5(LIBZ).hexdigest()}  lib/x86_64-linux-gnu/libz.so.1\n"
    again = libs_layer(tmp_path / "again")
    record_bundled(again, builder(tmp_path / "again"))
    assert [(p.name, p.read_bytes()) for p in sorted((again / "var/lib/dpkg/status.d").iterdir())] == \
        [(p.name, p.read_bytes()) for p in sorted(status_d.iterdir())]  # same build, same bytes


def test_a_changed_copy_at_a_debian_path_is_not_claimed_as_the_package(tmp_path):
    layer = libs_layer(tmp_path, b"\x7fELF patched by the build")
    assert record_bundled(layer, builder(tmp_path)) == []
    assert not (layer / "var").exists()


def test_what_the_build_left_in_status_d_is_replaced_and_its_links_never_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    layer = libs_layer(tmp_path)
    (layer / "var/lib").mkdir(parents=True)
    (layer / "var/lib/dpkg").symlink_to(outside)  # a build's link out of its output
    assert record_bundled(layer, builder(tmp_path)) == ["zlib1g"]
    assert os.listdir(outside) == []
    assert not (layer / "var/lib/dpkg").is_symlink()
    forged = libs_layer(tmp_path / "forged")
    (forged / "var/lib/dpkg/status.d").mkdir(parents=True)
    (forged / "var/lib/dpkg/status.d/openssl").write_text("Package: openssl\nVersion: 9\n")
    (forged / "lib/x86_64-linux-gnu/libz.so.1").write_bytes(b"other")
    assert record_bundled(forged, builder(tmp_path / "forged")) == []
    assert os.listdir(forged / "var/lib/dpkg/status.d") == []  # only what s2i checked is listed
