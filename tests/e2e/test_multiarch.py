"""Acceptance for `s2i build --platform`: Go and C cross-compiled for linux/arm64, refusals before any download."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from s2i.errors import EXIT_USAGE
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import run_cmd, skopeo_inspect

pytestmark = pytest.mark.e2e
EXAMPLES = REPO_ROOT / "examples"
MACHINES = {62: "x86-64", 183: "aarch64"}


def app_copy(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(EXAMPLES / name, tmp_path / "apps" / name))


def image_files(reference: str, tmp_path: Path, digest: str | None = None) -> tuple[dict, dict[str, bytes]]:
    """(config, path -> first bytes of each regular file) of a registry image, read through skopeo's OCI layout."""
    layout = tmp_path / f"layout-{(digest or reference).rsplit(':', 1)[-1][:12]}"
    source = f"docker://{reference.split('@')[0]}@{digest}" if digest else f"docker://{reference}"
    run_cmd(["skopeo", "copy", "--src-tls-verify=false", source, f"oci:{layout}:x"], timeout=120)
    manifest = skopeo_inspect(f"oci:{layout}:x", raw=True)
    blob = lambda d: (layout / "blobs" / "sha256" / d.split(":")[1]).read_bytes()  # noqa: E731
    files = {}
    for layer in manifest["layers"]:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob(layer["digest"])))) as tar:
            for member in tar.getmembers():
                if member.isfile():
                    files["/" + member.name.lstrip("./")] = tar.extractfile(member).read(64)
    return json.loads(blob(manifest["config"]["digest"])), files


def machine(header: bytes) -> str:
    assert header[:4] == b"\x7fELF", header[:4]
    return MACHINES.get(int.from_bytes(header[18:20], "little"), "other")


def test_go_cross_compiles_for_arm64(builder, registry, tmp_path):
    app = app_copy(tmp_path, "go-httpd")
    ref = f"{registry.host}/go-arm:1"
    result = builder("build", app, ref, "--platform", "linux/arm64", "--run-image", "scratch",
                     "--json", timeout=900)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    manifest = skopeo_inspect(f"docker://{ref}", raw=True)
    assert manifest["mediaType"].endswith("manifest.v1+json")  # one platform: a plain image, not an index
    config, files = image_files(ref, tmp_path)
    assert (config["os"], config["architecture"]) == ("linux", "arm64")
    assert machine(files["/app/go-httpd"]) == "aarch64" and machine(files["/s2i/launch"]) == "aarch64"
    assert out["schema"] == 1 and out["digest"].startswith("sha256:")


def test_c_cross_compiles_for_arm64(builder, registry, tmp_path):
    app = app_copy(tmp_path, "c-hello")
    ref = f"{registry.host}/c-arm:1"
    result = builder("build", app, ref, "--platform", "linux/arm64", "--run-image", "scratch",
                     timeout=900)
    assert result.returncode == 0, result.stderr
    assert "cross-compiling for linux/arm64 with aarch64-linux-gnu-gcc, static against glibc" in result.stderr
    config, files = image_files(ref, tmp_path)
    assert config["architecture"] == "arm64"
    assert machine(files["/app/hello"]) == "aarch64"


@pytest.mark.parametrize("platform, message", [
    ("linux/s390x", "s2i: error: cannot build for linux/s390x: stack debian-trixie has linux/amd64, linux/arm64"),
    ("windows/amd64", "s2i: error: cannot build for windows/amd64: stack debian-trixie has linux/amd64, linux/arm64"),
])
def test_unsupported_platform_fails_in_one_line(s2i, registry, tmp_path, platform, message):
    """No stack is built, nothing downloaded: the refusal comes right after detection."""
    app = app_copy(tmp_path, "go-httpd")
    result = s2i("build", app, f"{registry.host}/x:1", "--platform", f"linux/amd64,{platform}")
    assert result.returncode == EXIT_USAGE
    lines = [line for line in result.stderr.splitlines() if line.startswith("s2i: error")]
    assert lines and lines[0].startswith(message), result.stderr
    assert_nothing_fetched(s2i, result)


def assert_nothing_fetched(s2i, result) -> None:
    """No stack built, no Debian index read, no package downloaded."""
    assert "building it now" not in result.stderr and "reading the Debian package index" not in result.stderr, result.stderr
    assert not (s2i.cache / "s2i" / "debian").exists()


def test_unsupported_cross_case_fails_before_building(s2i, registry, tmp_path):
    app = app_copy(tmp_path, "c-hello")
    (app / "s2i.toml").write_text('[build]\nlibc = "musl"\n')
    result = s2i("build", app, f"{registry.host}/x:1", "--platform", "linux/amd64,linux/arm64")
    assert result.returncode == EXIT_USAGE
    errors = [line for line in result.stderr.splitlines() if line.startswith("s2i: error")]
    assert errors[0].startswith("s2i: error: cannot build against musl for linux/arm64: Debian has no musl cross toolchain"), result.stderr
    assert_nothing_fetched(s2i, result)
