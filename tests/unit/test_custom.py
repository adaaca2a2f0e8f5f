"""Build customisation, pure parts: buildpack/packages/commands settings, Debian resolution, the ELF closure's mapping."""

import io
import struct

import pytest

from s2i.archive.layer import write_layer
from s2i.archive.tarwriter import TarOptions
from s2i.build import layers as layers_module
from s2i.build.closure import elf_needed, layer_scan, library_owners, missing_packages, needed_in
from s2i.build.layers import closure_scans
from s2i.build.config import AppConfig, override
from s2i.build.packages import installed_packages, listed_paths, native_needs
from s2i.build.plan import make_plan
from s2i.buildpacks import get_buildpack
from s2i.errors import UsageError
from s2i.oci.image import Layer
from s2i.oci.types import OCI_LAYER_GZIP
from s2i.stack.files import find_stack, load_stack
from s2i.stack.packages import check_known, parse_index, resolve
from s2i.store import Store
from tests.unit.test_config import config_of

INDEX = """Package: libpq-dev
Version: 15.20-0+deb12u1
Depends: libpq5 (= 15.20-0+deb12u1), libssl-dev
Filename: pool/main/p/postgresql-15/libpq-dev_15.20-0+deb12u1_amd64.deb
SHA256: aa

Package: libpq5
Version: 15.20-0+deb12u1
Depends: libc6 (>= 2.33), libgssapi-krb5-2 (>= 1.17), libssl3 (>= 3.0.0)
SHA256: bb

Package: libssl-dev
Version: 3.0.22-1~deb12u2
Depends: libssl3 (= 3.0.22-1~deb12u2)
SHA256: cc

Package: libssl3
Version: 3.0.22-1~deb12u2
Depends: libc6 (>= 2.34)
SHA256: dd

Package: libgssapi-krb5-2
Version: 1.20.1-2+deb12u4
Depends: libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0
SHA256: ee

Package: debconf
Version: 1.5.82
Essential: yes
Provides: debconf-2.0
SHA256: ff

Package: libc6
Version: 2.36-9+deb12u14
SHA256: 00
"""


def test_customisation_settings_come_out_typed(tmp_path):
    config = config_of(tmp_path, 'buildpack = "python"\n[build]\npackages = ["libpq-dev", "libpq-dev", "g++"]\n'
                                 'commands = ["make assets", ["python", "-c", "print(1)"]]\n[run]\npackages = ["libpq5"]\n')
    assert config.buildpack == "python" and config.build_packages == ("libpq-dev", "g++") and config.run_packages == ("libpq5",)
    assert config.build_commands == ("make assets", ("python", "-c", "print(1)")) and config.settings == {}
    flags = AppConfig(build_packages=("libssl-dev",), run_packages=("libpq5", "zlib1g"))
    merged = override(config, flags)  # package flags add to the file's lists
    assert merged.build_packages == ("libpq-dev", "g++", "libssl-dev") and merged.run_packages == ("libpq5", "zlib1g")


@pytest.mark.parametrize("text, message", [
    ('buildpack = "pyton"', "buildpack: no buildpack named 'pyton' (did you mean 'python'?)"),
    ('buildpack = 1', "buildpack: no buildpack named 1"),
    ('[build]\npackages = "libpq-dev"', "build.packages must be a list of strings"),
    ('[build]\npackages = ["--allow-unauthenticated"]', "build.packages: '--allow-unauthenticated' is not a Debian package name"),
    ('[build]\npackages = ["LibPQ"]', "build.packages: 'LibPQ' is not a Debian package name"),
    ('[run]\npackages = ["libpq5 libssl3"]', "run.packages: 'libpq5 libssl3' is not a Debian package name"),
    ('[run]\npackage = ["libpq5"]', "unknown setting run.package (did you mean 'packages'?)"),
    ('run = ["libpq5"]', "run must be a table"),
    ('[build]\ncommands = "make"', "build.commands must be a list"),
    ('[build]\ncommands = [""]', "build.commands: '' is not a command"),
    ('[build]\ncommands = [[]]', "build.commands: [] is not a command"),
    ('[build]\ncommands = [["make", 1]]', "is not a command"),
])
def test_bad_customisation_is_one_line(tmp_path, text, message):
    with pytest.raises(UsageError) as caught:
        config_of(tmp_path, text)
    line = caught.value.one_line()
    assert message in line and "\n" not in line


def test_commands_reach_the_step_as_data(tmp_path):
    config = config_of(tmp_path, '[build]\ncommands = ["echo $(id) > x; false", ["touch", "a b; rm -rf /"]]\n')
    (tmp_path / "main.go").write_text("package main\nfunc main() {}\n")
    plan = make_plan(get_buildpack("go"), (), config, load_stack(find_stack(None)), {}, 0, {}, {})
    assert plan.step_input["commands"] == ["echo $(id) > x; false", ["touch", "a b; rm -rf /"]]
    assert "commands" not in make_plan(get_buildpack("go"), (), AppConfig(), load_stack(find_stack(None)), {}, 0, {}, {}).step_input


def test_resolution_adds_what_the_image_lacks_and_honours_exact_versions():
    index = parse_index(INDEX)
    assert index["libpq-dev"].depends[0] == (("libpq5", "15.20-0+deb12u1"),) and index["debconf"].essential
    builder = {"libc6": "2.36-9+deb12u14", "libssl3": "3.0.11-1~deb12u2", "debconf": "1.5.82"}
    names = [p.name for p in resolve(("libpq-dev",), index, builder)]
    # libssl3 is in the builder at another version than libssl-dev's `=`: the matching one is added
    assert names == ["libgssapi-krb5-2", "libpq-dev", "libpq5", "libssl-dev", "libssl3"]
    run_base = {"libc6": "2.36-9+deb12u14", "libssl3": "3.0.22-1~deb12u2"}
    # debconf is met by nothing in the run base, but it is Essential: a run image does without it
    assert [p.name for p in resolve(("libpq5",), index, run_base, skip_essential=True)] == ["libgssapi-krb5-2", "libpq5"]
    assert [p.name for p in resolve(("libpq5",), index, run_base)] == ["debconf", "libgssapi-krb5-2", "libpq5"]
    assert [p.name for p in resolve(("libgssapi-krb5-2",), index, {"libc6": "x", "debconf": "1"})] == ["libgssapi-krb5-2"]


def test_an_unknown_package_is_one_line_naming_stack_and_setting():
    index = parse_index(INDEX)
    with pytest.raises(UsageError) as caught:
        check_known(("libpq-dev", "libpq-devel"), index, "build.packages (s2i.toml, --build-package)", "stack debian-bookworm (bookworm)")
    assert caught.value.one_line() == ("build.packages (s2i.toml, --build-package): no Debian package 'libpq-devel' in stack "
                                       "debian-bookworm (bookworm) (did you mean 'libpq-dev'?)")
    with pytest.raises(UsageError, match="'debconf-2.0' is a virtual package"):
        check_known(("debconf-2.0",), index, "run.packages", "bookworm")


def elf(needed: list[str]) -> bytes:
    """A minimal 64-bit ELF file: a .dynstr and a .dynamic section naming `needed`."""
    strings = b"\0" + b"".join(name.encode() + b"\0" for name in needed)
    offsets, at = [], 1
    for name in needed:
        offsets.append(at)
        at += len(name) + 1
    dynamic = b"".join(struct.pack("<qQ", 1, offset) for offset in offsets) + struct.pack("<qQ", 0, 0)
    strings_at, dynamic_at = 64, 64 + len(strings)
    shoff = dynamic_at + len(dynamic)
    header = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 3, 0)
    sections = bytes(64) + struct.pack("<IIQQQQIIQQ", 0, 3, 0, 0, strings_at, len(strings), 0, 0, 1, 0)
    sections += struct.pack("<IIQQQQIIQQ", 0, 6, 0, 0, dynamic_at, len(dynamic), 1, 0, 8, 16)
    return header + strings + dynamic + sections


def test_elf_needed_reads_dt_needed_and_shrugs_at_garbage():
    assert elf_needed(io.BytesIO(elf(["libpq.so.5", "libc.so.6"]))) == ["libpq.so.5", "libc.so.6"]
    assert elf_needed(io.BytesIO(b"#!/bin/sh\n")) == []
    broken = bytearray(elf(["libpq.so.5"]))
    broken[0x28:0x30] = struct.pack("<Q", 1 << 60)  # section headers far past the end
    assert elf_needed(io.BytesIO(bytes(broken))) == []


def test_closure_maps_missing_libraries_to_packages(tmp_path):
    venv = tmp_path / "deps/opt/venv/lib/python3.11/site-packages"
    (venv / "psycopg2").mkdir(parents=True)
    (venv / "psycopg2/_psycopg.so").write_bytes(elf(["libpq.so.5", "libc.so.6"]))
    (venv / "wheel.libs").mkdir()
    (venv / "wheel.libs/libbundled-1a2b.so").write_bytes(elf(["libc.so.6"]))
    (venv / "other.so").write_bytes(elf(["libbundled-1a2b.so", "libnowhere.so.1"]))
    (venv / "link.so").symlink_to("/usr/lib/x86_64-linux-gnu/libz.so.1")  # never followed
    needed = needed_in(tmp_path / "deps")
    assert needed == {"libpq.so.5": "opt/venv/lib/python3.11/site-packages/psycopg2/_psycopg.so", "libc.so.6": needed["libc.so.6"],
                      "libbundled-1a2b.so": "opt/venv/lib/python3.11/site-packages/other.so",
                      "libnowhere.so.1": "opt/venv/lib/python3.11/site-packages/other.so"}
    builder = tmp_path / "builder"
    (builder / "var/lib/dpkg/info").mkdir(parents=True)
    (builder / "var/lib/dpkg/info/libpq5:amd64.list").write_text("/.\n/usr/lib/x86_64-linux-gnu/libpq.so.5\n/usr/share/doc/libpq5/x.so\n")
    (builder / "var/lib/dpkg/info/libc6.list").write_text("/lib/x86_64-linux-gnu/libc.so.6\n")
    owners = library_owners(builder)
    assert owners == {"libpq.so.5": "libpq5", "libc.so.6": "libc6"}
    packages, unknown = missing_packages(needed, {"libc.so.6", "libbundled-1a2b.so"}, owners)
    assert packages == {"libpq5": ["libpq.so.5 (needed by opt/venv/lib/python3.11/site-packages/psycopg2/_psycopg.so)"]}
    assert unknown == ["libnowhere.so.1 (needed by opt/venv/lib/python3.11/site-packages/other.so)"]


def deps_tree(root):
    site = root / "opt/venv/lib/python3.13/site-packages"
    (site / "psycopg2").mkdir(parents=True)
    (site / "psycopg2/_psycopg.so").write_bytes(elf(["libpq.so.5", "libbundled.so.1"]))
    (site / "libbundled.so.1").write_bytes(elf(["libc.so.6"]))
    (site / "README").write_text("not a library")
    return root


def test_layer_scan_keeps_what_the_layer_cannot_meet_itself_and_the_libraries_it_holds(tmp_path):
    scan = layer_scan(deps_tree(tmp_path / "deps"))
    assert scan == {"needed": {"libpq.so.5": "opt/venv/lib/python3.13/site-packages/psycopg2/_psycopg.so",
                               "libc.so.6": "opt/venv/lib/python3.13/site-packages/libbundled.so.1"},
                    "libraries": ["_psycopg.so", "libbundled.so.1"]}


def test_native_needs_meets_a_need_from_another_layer_and_reads_owners_only_when_something_is_unmet(tmp_path, monkeypatch):
    deps = {"needed": {}, "libraries": ["libshared.so.2"]}
    app = {"needed": {"libshared.so.2": "app/x.so", "libc.so.6": "app/x.so"}, "libraries": ["x.so"]}
    run_root = tmp_path / "run"
    (run_root / "usr/lib/x86_64-linux-gnu").mkdir(parents=True)
    (run_root / "usr/lib/x86_64-linux-gnu/libc.so.6").write_text("")
    monkeypatch.setattr("s2i.build.packages.library_owners", lambda builder: pytest.fail("owners read with every need met"))
    assert native_needs([deps, app], run_root, tmp_path / "builder") == []
    monkeypatch.setattr("s2i.build.packages.library_owners", lambda builder: {"libpq.so.5": "libpq5"})
    assert native_needs([deps, {"needed": {"libpq.so.5": "app/y.so"}, "libraries": []}], run_root, tmp_path / "builder") == ["libpq5"]


def test_a_reused_layers_closure_scan_is_kept_by_diff_id_and_never_unpacks_it_again(tmp_path, monkeypatch):
    store = Store(tmp_path / "store")
    tree = deps_tree(tmp_path / "out/deps")
    blob = write_layer(tree, store, OCI_LAYER_GZIP, "gzip", TarOptions())
    layer = Layer(blob.descriptor, blob.diff_id, store.blob(blob.descriptor))
    keys, reusable = {"deps": "sha256:" + "1" * 64}, {"deps": (blob.descriptor, blob.diff_id, {})}
    first = closure_scans(store, [("deps", tree)], [layer], keys, {})  # built now: its directory is read
    assert first == [layer_scan(tree)]
    skeleton = tmp_path / "skeleton"  # what a build that reused the layer leaves: no venv
    skeleton.mkdir()
    unpacked = []
    real_unpack = layers_module.unpack_layer
    monkeypatch.setattr(layers_module, "unpack_layer", lambda *args: unpacked.append(args) or real_unpack(*args))
    assert closure_scans(store, [("deps", skeleton)], [layer], keys, reusable) == first
    assert unpacked == []  # the kept scan: the layer is neither unpacked nor read
    for kept in (store.root / "closure").iterdir():
        kept.write_text('{"needed": {"libpq.so.5": 5}, "libraries": []}')  # damaged: scanned again, from the checked blob
    assert closure_scans(store, [("deps", skeleton)], [layer], keys, reusable) == first
    assert len(unpacked) == 1
    assert closure_scans(store, [("app", skeleton)], [layer], keys, {}) == [{"needed": {}, "libraries": []}]  # not keyed: read now


def test_dpkg_databases_and_listings(tmp_path):
    (tmp_path / "var/lib/dpkg/status.d").mkdir(parents=True)
    (tmp_path / "var/lib/dpkg/status").write_text("Package: a\nStatus: install ok installed\nVersion: 1\n\n"
                                                  "Package: gone\nStatus: deinstall ok config-files\nVersion: 2\n")
    (tmp_path / "var/lib/dpkg/status.d/libc6").write_text("Package: libc6\nVersion: 2.36\nDescription: x\n more: y\n")
    assert installed_packages(tmp_path) == {"a": "1", "libc6": "2.36"}
    listing = ("drwxr-xr-x root/root 0 2026-10-21 09:54 ./\n-rw-r--r-- root/root 5 2026-10-21 09:54 ./usr/lib/a b.so\n"
               "lrwxrwxrwx root/root 0 2026-10-21 09:54 ./usr/lib/libx.so.1 -> libx.so.1.2\n")
    assert listed_paths(listing) == ["/.", "/usr/lib/a b.so", "/usr/lib/libx.so.1"]


def test_extended_builder_never_writes_through_to_the_stacks_rootfs(tmp_path):
    import subprocess

    from s2i.build.packages import extend_builder
    from s2i.stack.packages import Package

    base = tmp_path / "rootfs" / "sha256-base"
    (base / "etc").mkdir(parents=True)
    (base / "var/lib/dpkg/info").mkdir(parents=True)
    (base / "usr/lib").mkdir(parents=True)
    (base / "lib").symlink_to("usr/lib")  # merged /usr: a .deb's /lib/... lands in usr/lib
    (base / "etc/shared.conf").write_text("stack\n")
    (base / "var/lib/dpkg/status").write_text("Package: libc6\nStatus: install ok installed\nVersion: 2.36\n")
    tree = tmp_path / "deb"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN/control").write_text("Package: libdemo1\nVersion: 1.0\nArchitecture: all\nMaintainer: x <x@example.com>\nDescription: d\n")
    (tree / "etc").mkdir()
    (tree / "etc/shared.conf").write_text("package\n")
    (tree / "lib").mkdir()
    (tree / "lib/libdemo.so.1").write_text("elf\n")
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(tmp_path / "demo.deb")], check=True, capture_output=True)

    class Index:
        def download(self, packages):
            return [tmp_path / "demo.deb"]

    package = Package("libdemo1", "1.0", "x", "pool/libdemo1.deb")
    extended = extend_builder(base, [package], Index())
    assert extended.parent == base.parent and extended.name.startswith("ext-")
    assert (extended / "etc/shared.conf").read_text() == "package\n" and (base / "etc/shared.conf").read_text() == "stack\n"
    assert (extended / "usr/lib/libdemo.so.1").is_file() and not (base / "usr/lib/libdemo.so.1").exists()
    assert "Package: libdemo1\nStatus: install ok installed\nVersion: 1.0" in (extended / "var/lib/dpkg/status").read_text()
    assert (base / "var/lib/dpkg/status").read_text().count("Package:") == 1
    assert "/lib/libdemo.so.1" in (extended / "var/lib/dpkg/info/libdemo1.list").read_text().splitlines()
    assert extend_builder(base, [package], None) == extended  # cached by content: no download the second time
    assert sorted(p.name for p in base.parent.iterdir()) == sorted(["sha256-base", extended.name])
