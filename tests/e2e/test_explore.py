"""`s2i inspect --layers/--files` on images in a real registry, checked against skopeo and GNU tar."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import build_static, skopeo_copy, skopeo_inspect

EXAMPLES = REPO_ROOT / "examples"

pytestmark = pytest.mark.e2e


def test_layers_of_a_built_example_say_what_made_them_and_match_the_registry(builder, registry, tmp_path):
    reference = f"{registry.host}/explore/c-hello:1"
    assert builder("build", EXAMPLES / "c-hello", reference).returncode == 0
    shown = json.loads(builder("inspect", reference, "--layers", "--json").stdout)
    manifest = skopeo_inspect(f"docker://{reference}", raw=True)
    assert [(l["digest"], l["size"]) for l in shown["layers"]] == [(l["digest"], l["size"]) for l in manifest["layers"]]
    created = [l["createdBy"] for l in shown["layers"]]
    assert created[0].startswith("s2i stack build: ")
    assert created[-2:] == ["s2i build (c): launcher layer", "s2i build (c): app layer"]

    files = json.loads(builder("inspect", reference, "--files", str(len(created)), "--json").stdout)["files"]
    listed = {f["path"]: f["size"] for f in files if f["kind"] == "file"}
    skopeo_copy(f"docker://{reference}", f"oci:{tmp_path / 'layout'}:x")
    blob = tmp_path / "layout" / "blobs" / "sha256" / manifest["layers"][-1]["digest"].removeprefix("sha256:")
    by_tar = subprocess.run(["tar", "-tvzf", blob], capture_output=True, text=True, check=True, timeout=60).stdout
    sizes = {line.split()[-1].lstrip("."): int(line.split()[2]) for line in by_tar.splitlines() if line.startswith("-")}
    assert listed == {("/" + p.lstrip("/")): s for p, s in sizes.items()} and "/app/hello" in listed


def test_files_a_later_layer_overwrites_are_marked_and_counted_as_waste(s2i, registry, static_hello, tmp_path):
    base = f"{registry.host}/explore/base:1"
    assert s2i("append", "scratch", base, "--layer", static_hello, "--entrypoint", "/hello").returncode == 0
    other = tmp_path / "other"
    build_static(other, "a different hello")
    top = f"{registry.host}/explore/top:1"
    assert s2i("append", base, top, "--layer", other).returncode == 0
    first_size = (static_hello / "hello").stat().st_size

    table = s2i("inspect", top, "--layers")
    assert table.returncode == 0, table.stderr
    assert f"{first_size} bytes in files a later layer replaces or deletes" in table.stdout
    assert "s2i append" in table.stdout
    listing = s2i("inspect", top, "--files")
    assert "/hello  (overwritten by layer 2)" in listing.stdout
    unknown = s2i("inspect", top, "--files", "7")
    assert unknown.returncode == 2 and "give 1..2 or a digest prefix" in unknown.stderr
