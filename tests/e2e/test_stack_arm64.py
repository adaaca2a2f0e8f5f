"""arm64 run bases: extracted from Debian's arm64 packages on this amd64 host, run under qemu-user through runc."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from s2i.stack.files import DEFAULT_STACK
from tests.e2e.conftest import REPO_ROOT, S2I
from tests.e2e.helpers import Registry, run_image, skopeo_inspect

pytestmark = pytest.mark.e2e
STACK = DEFAULT_STACK
ARM64 = ("--platform", "linux/arm64")


class Arm64Stack:
    """The default stack's arm64 run bases, built once into a store of their own (extraction only: no builder)."""

    def __init__(self, root: Path):
        self.root = root
        self.stacks = root / "stacks"
        shutil.copytree(REPO_ROOT / "stacks", self.stacks)
        self.env = {"S2I_STACKS_DIR": str(self.stacks)}
        self.registry = Registry(root / "registry")
        self.registry.start()
        self.runner = S2I(root / "first")
        result = self.runner("stack", "build", STACK, *ARM64, "--json", "--push", f"{self.registry.host}/stacks", env=self.env, timeout=900)
        assert result.returncode == 0, result.stderr
        self.results = {entry["image"]: entry for entry in json.loads(result.stdout)["images"]}

    def runner_with_debs(self, name: str) -> S2I:
        """A runner with an empty store but the first one's apt indexes and .debs (no second download)."""
        runner = S2I(self.root / name)
        shutil.copytree(self.runner.cache / "s2i" / "debian", runner.cache / "s2i" / "debian")
        return runner


@pytest.fixture(scope="module")
def arm64_stack(tmp_path_factory):
    stack = Arm64Stack(tmp_path_factory.mktemp("arm64-stack"))
    yield stack
    stack.registry.stop(kill=True)


def test_the_python_run_base_runs_arm64_python_with_ssl(arm64_stack, arm64_emulation):
    entry = arm64_stack.results["run-python"]
    assert entry["platform"] == "linux/arm64"
    assert entry["reference"] == f"{arm64_stack.registry.host}/stacks/run-python@{entry['digest']}"
    image = f"docker://{arm64_stack.registry.host}/stacks/run-python:{STACK}-arm64"
    config = skopeo_inspect(image, config=True)
    assert (config["architecture"], config["os"]) == ("arm64", "linux")
    labels = config["config"]["Labels"]
    assert (labels["io.s2i.stack.python"], labels["io.s2i.stack.libc"]) == ("3.13", "2.41")
    assert "python3.13-minimal=3.13." in labels["io.s2i.stack.packages"]
    result = run_image(image, args=["python3", "-c", "import platform, ssl; print(platform.machine(), ssl.OPENSSL_VERSION)"], timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("aarch64 OpenSSL 3."), result.stdout


def test_the_base_has_the_arm64_loader_and_says_arm64(arm64_stack, arm64_emulation):
    image = f"docker://{arm64_stack.registry.host}/stacks/run-base:{STACK}-arm64"
    assert skopeo_inspect(image, config=True)["architecture"] == "arm64"
    # the base has no shell: its loader, run as a program, says which glibc it is
    result = run_image(image, args=["/lib/ld-linux-aarch64.so.1", "--version"], timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ld.so (Debian GLIBC 2.41-"), result.stdout
    static = skopeo_inspect(f"docker://{arm64_stack.registry.host}/stacks/run-static:{STACK}-arm64", config=True)
    assert static["architecture"] == "arm64" and static["config"]["Labels"]["io.s2i.stack.image"] == "run-static"


def test_a_second_build_from_an_empty_store_has_the_same_digests(arm64_stack):
    runner = arm64_stack.runner_with_debs("second")
    result = runner("stack", "build", STACK, *ARM64, "--json", env=arm64_stack.env, timeout=600)
    assert result.returncode == 0, result.stderr
    second = {entry["image"]: entry["digest"] for entry in json.loads(result.stdout)["images"]}
    assert second == {name: entry["digest"] for name, entry in arm64_stack.results.items()}
    assert set(second) == {"run-static", "run-base", "run-python"}
    # and a third build finds them in the store, built from the lock
    again = runner("stack", "build", STACK, *ARM64, "--json", env=arm64_stack.env, timeout=60)
    assert again.returncode == 0 and "the store holds it built from debian-trixie.lock" in again.stderr


def test_a_tampered_deb_in_the_cache_is_never_extracted(arm64_stack):
    runner = arm64_stack.runner_with_debs("tampered")
    (libc,) = (runner.cache / "s2i" / "debian" / "debs").glob("libc6_*_arm64.deb")
    pristine = libc.read_bytes()
    libc.write_bytes(pristine[:-4096] + b"\0" * 4096)
    result = runner("stack", "build", STACK, *ARM64, "--json", env=arm64_stack.env, timeout=600)
    assert result.returncode == 0, result.stderr
    # the cached file did not match the lock's (and the archive's) SHA256: fetched again, the bases as before
    assert libc.read_bytes() == pristine
    assert {e["image"]: e["digest"] for e in json.loads(result.stdout)["images"]} == {
        name: entry["digest"] for name, entry in arm64_stack.results.items()}


def test_a_lock_pinning_other_content_is_refused_and_nothing_is_stored(arm64_stack, tmp_path):
    runner = arm64_stack.runner_with_debs("relocked")
    stacks = tmp_path / "stacks"
    shutil.copytree(arm64_stack.stacks, stacks)
    lock = stacks / f"{STACK}.lock"
    text = lock.read_text()
    arm64 = text.index("[run-arm64]")
    start = text.index('"libc6" = { version', arm64)
    sha = text.index('sha256 = "', start) + len('sha256 = "')
    lock.write_text(text[:sha] + "0" * 64 + text[sha + 64:])
    result = runner("stack", "build", STACK, *ARM64, env={"S2I_STACKS_DIR": str(stacks)}, timeout=600)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"s2i: error: {STACK}.lock: the archive serves different content for libc6 than the lock records (check the host's "
        "apt sources (a mirror serving altered packages?), or re-resolve: s2i stack build --update)")
    assert not (runner.cache / "s2i" / "refs").exists() or not any((runner.cache / "s2i" / "refs").rglob("*"))
    assert lock.read_text() == text[:sha] + "0" * 64 + text[sha + 64:]  # the lock is left as it was
