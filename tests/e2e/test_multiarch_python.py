"""Acceptance for `s2i build --platform` with Python: the target's wheels in an arm64 venv, a source-only native package refused."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from s2i.errors import EXIT_BUILD
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import skopeo_inspect, start_image
from tests.e2e.test_build import http_get
from tests.e2e.test_multiarch import app_copy, image_files, machine

pytestmark = pytest.mark.e2e


def named_layer(reference: str, manifest: dict, created_by: str) -> str:
    """The digest of the layer whose config history entry s2i wrote as `created_by`."""
    history = [h for h in skopeo_inspect(f"docker://{reference}", config=True)["history"] if not h.get("empty_layer")]
    pairs = zip(reversed(history), reversed(manifest["layers"]))  # s2i's own layers are the last ones
    return next(layer["digest"] for h, layer in pairs if h.get("created_by", "").endswith(f": {created_by}"))


def test_flask_hello_for_amd64_and_arm64_serves_the_same_page(builder, registry, tmp_path, arm64_emulation):
    app = app_copy(tmp_path, "flask-hello")
    ref = f"{registry.host}/multi/flask:1"
    started = time.monotonic()
    result = builder("build", app, ref, "--platform", "linux/amd64,linux/arm64", "--json", timeout=1200)
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "--python-platform aarch64-manylinux_2_" in result.stderr
    children = {item["platform"]: item["digest"] for item in json.loads(result.stdout)["platforms"]}
    assert list(children) == ["linux/amd64", "linux/arm64"]
    repo = f"{registry.host}/multi/flask"
    manifests = {name: skopeo_inspect(f"docker://{repo}@{digest}", raw=True) for name, digest in children.items()}
    deps = {name: named_layer(f"{repo}@{digest}", manifests[name], "deps layer") for name, digest in children.items()}
    assert deps["linux/amd64"] != deps["linux/arm64"]  # each its own venv: no amd64 one in the arm64 image
    for name, digest in children.items():
        config, files = image_files(f"{repo}@{digest}", tmp_path)
        assert config["architecture"] == name.split("/")[1]
        native = sorted(path for path in files if path.startswith("/opt/venv/") and path.endswith(".so"))
        assert any("markupsafe/_speedups" in path for path in native), native
        wanted = {"linux/amd64": "x86-64", "linux/arm64": "aarch64"}[name]
        assert {path: machine(files[path]) for path in native} == {path: wanted for path in native}
        assert machine(files["/s2i/launch"]) == wanted
        with start_image(f"docker://{repo}@{digest}", wait_for_port=9080, timeout=120):  # arm64 through qemu-user
            assert http_get("http://127.0.0.1:9080/", timeout=60) == "Hello, World"
    print(f"\nflask-hello amd64+arm64: {took:.1f}s")


def test_a_source_only_native_package_fails_for_arm64_in_one_line(builder, registry, tmp_path):
    app = Path(shutil.copytree(REPO_ROOT / "tests" / "apps" / "py-sdist-native", tmp_path / "apps" / "py-sdist-native"))
    before = len(registry.requests())
    result = builder("build", app, f"{registry.host}/multi/native:1", "--platform", "linux/amd64,linux/arm64", timeout=900)
    assert result.returncode == EXIT_BUILD, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("s2i: error")]
    assert errors == [  # the step's line, as the sandbox quotes a step's last error line (C's refusals read the same)
        "s2i: error: build python failed (exit 1): s2i: error: nativepkg has no wheel for linux/arm64 and its source builds "
        "native code, which s2i does not cross-compile: require a version that publishes a manylinux aarch64 wheel, "
        "or build for the host's platform only (see the build output above)"], result.stderr
    assert not [r for r in registry.requests()[before:] if r.method in ("PUT", "POST")]
