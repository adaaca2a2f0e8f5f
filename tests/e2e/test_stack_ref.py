"""Stacks by reference: a stack file naming pushed images by digest builds on a fresh runner that has no mmdebstrap."""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from pathlib import Path

import pytest

from tests.e2e.conftest import S2I
from tests.e2e.helpers import registry_uploads, skopeo_inspect, start_image
from tests.e2e.test_build import EXAMPLES, app_copy, built, http_get

pytestmark = pytest.mark.e2e


def path_without(tmp_path: Path, *hidden: str) -> str:
    """A PATH holding every command this machine has, except `hidden`: a runner where they were never installed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            if name not in hidden and not (bin_dir / name).exists():
                os.symlink(os.path.join(directory, name), bin_dir / name)
    return str(bin_dir)


@pytest.fixture
def handed_out(built_stack, registry, tmp_path):
    """The session's stack pushed to the registry, and the stack file `--write-stack` wrote for it."""
    stack_file = tmp_path / "golden.toml"
    result = built_stack.runner("stack", "build", "debian-trixie", "--push", f"{registry.host}/stacks", "--write-stack", stack_file,
                                "--json", env=built_stack.env, timeout=900)
    assert result.returncode == 0, result.stderr
    assert "mmdebstrap" not in result.stderr  # the store held the stack built from its lock: pushed as it is
    return stack_file, {entry["image"]: entry["reference"] for entry in json.loads(result.stdout)["images"]}


def test_the_written_stack_file_names_every_image_by_digest(handed_out, registry):
    stack_file, references = handed_out
    stack = tomllib.loads(stack_file.read_text())
    assert stack["builder"] == {"image": references["builder"]}
    assert references["builder"].startswith(f"{registry.host}/stacks/builder@sha256:")
    assert stack["run"]["python"] == {"image": references["run-python"], "nonroot": True}
    assert stack["run"]["scratch"] == {"scratch": True}
    assert stack["run"]["alpine"] == {"image": "docker.io/library/alpine:3.20"}
    assert stack["toolchains"] == {"go": ["1.24", "1.26"], "python": ["3.13"]} and stack["suite"] == "trixie"


def test_a_fresh_runner_builds_from_the_stack_file_without_mmdebstrap(handed_out, registry, tmp_path):
    stack_file, references = handed_out
    app = app_copy(tmp_path, EXAMPLES / "flask-hello")
    shutil.copy(stack_file, app / "golden.toml")
    (app / "s2i.toml").write_text((app / "s2i.toml").read_text() + 'stack = "./golden.toml"\n')
    fresh = S2I(tmp_path / "fresh")
    (tmp_path / "no-stacks").mkdir()
    env = {"PATH": path_without(tmp_path, "mmdebstrap"), "S2I_STACKS_DIR": str(tmp_path / "no-stacks")}
    before = len(registry.requests())
    target = f"{registry.host}/apps/flask:1"
    result = fresh("build", app, target, "--json", env=env, timeout=600)
    built(result)
    assert "on stack golden" in result.stderr and "mmdebstrap" not in result.stderr and "is not built yet" not in result.stderr
    assert not (fresh.cache / "s2i" / "debian").exists()  # no Debian archive was read
    base = skopeo_inspect(f"docker://{references['run-python']}", raw=True)["layers"]
    requests = registry.requests()[before:]
    data, mounts = registry_uploads(requests)
    assert {layer["digest"] for layer in base} <= {m.digest for m in mounts if m.mounted_from == "stacks/run-python"}
    assert not {u.digest for u in data} & {layer["digest"] for layer in base}  # mounted, never uploaded
    fetched = {r.path.rsplit("/", 1)[1] for r in requests if r.method == "GET" and "/blobs/" in r.path}
    # the SBOM reads a stack base's package list from its label; Python's native-library check still reads the run
    # base's files (its dpkg database), so for a Python app the base's layers are downloaded once, never uploaded
    builder_layers = {layer["digest"] for layer in skopeo_inspect(f"docker://{references['builder']}", raw=True)["layers"]}
    assert builder_layers <= fetched  # the builder was pulled, and unpacked into the fresh store
    manifest = skopeo_inspect(f"docker://{target}", raw=True)
    assert manifest["annotations"]["org.opencontainers.image.base.name"] == references["run-python"]
    assert skopeo_inspect(f"docker://{target}", config=True)["config"]["User"] == "65532"  # nonroot, as on the built base
    with start_image(f"docker://{target}", wait_for_port=9080):
        assert "Hello" in http_get("http://127.0.0.1:9080/")
    again = fresh("build", app, f"{registry.host}/apps/flask:2", env=env, timeout=600)
    built(again)
    fetched_again = [r for r in registry.requests()[before + len(requests):] if r.method == "GET" and "/blobs/" in r.path]
    assert not {r.path.rsplit("/", 1)[1] for r in fetched_again} & builder_layers  # the builder is pulled once


def test_a_stack_path_in_s2i_toml_stays_inside_the_app(built_stack, tmp_path):
    app = app_copy(tmp_path, EXAMPLES / "c-hello")
    (app / "s2i.toml").write_text('stack = "../golden.toml"\n')
    result = S2I(tmp_path / "fresh")("build", app, env=built_stack.env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (f"s2i: error: {app / 's2i.toml'}: stack '../golden.toml' is outside the app "
                                                      "(keep the stack file in the app (a relative path), or pass --stack FILE)")


def test_write_stack_needs_push(built_stack, tmp_path):
    result = built_stack.runner("stack", "build", "debian-bookworm", "--write-stack", tmp_path / "x.toml", env=built_stack.env)
    assert result.returncode == 2 and "--write-stack names the pushed images, so it needs --push" in result.stderr
    assert not (tmp_path / "x.toml").exists()
