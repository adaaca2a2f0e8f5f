"""arm64 run bases: extracted from Debian's arm64 packages on this amd64 host, run under qemu-user through runc."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from s2i.stack.files import DEFAULT_STACK, load_stack
from s2i.stack.handout import format_stack
from s2i.stack.images import ensure_stack_image
from s2i.store import Store
from s2i.transports import Context
from s2i.transports.registry.client import Registries
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

    def with_lock(self, tmp_path: Path, runner_name: str, edit) -> tuple[S2I, dict, Path]:
        """A runner with the .debs, and a copy of the stacks whose lock `edit` (text -> text) rewrote."""
        stacks = tmp_path / "stacks"
        shutil.copytree(self.stacks, stacks)
        lock = stacks / f"{STACK}.lock"
        lock.write_text(edit(lock.read_text()))
        return self.runner_with_debs(runner_name), {"S2I_STACKS_DIR": str(stacks)}, lock


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
    # the C extensions load their arm64 libraries from the base (a missing one would fail the import)
    code = "import json, sqlite3, zlib, ctypes, lzma, bz2, uuid; print('imports ok', sqlite3.sqlite_version)"
    result = run_image(image, args=["/usr/bin/python3", "-c", code], timeout=120)
    assert result.stdout.startswith("imports ok 3."), result.stderr


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


def other_libc_content(text: str) -> str:
    start = text.index('"libc6" = { version', text.index("[run-arm64]"))
    sha = text.index('sha256 = "', start) + len('sha256 = "')
    return text[:sha] + "0" * 64 + text[sha + 64:]


def test_a_lock_pinning_other_content_is_refused_and_nothing_is_stored(arm64_stack, tmp_path):
    runner, env, lock = arm64_stack.with_lock(tmp_path, "relocked", other_libc_content)
    edited = lock.read_text()
    result = runner("stack", "build", STACK, *ARM64, env=env, timeout=600)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"s2i: error: {STACK}.lock: the archive serves different content for libc6 than the lock records (check the host's "
        "apt sources (a mirror serving altered packages?), or re-resolve: s2i stack build --update)")
    store = runner.cache / "s2i"
    stored = [p.relative_to(store) for p in store.rglob("*") if p.is_file() and p.relative_to(store).parts[0] not in ("debian", ".lock")]
    assert stored == []  # no ref, no blob: only the apt indexes and .debs copied in (and the store's lock file)
    assert lock.read_text() == edited  # the lock is left as it was


def test_a_pushed_stack_file_hands_out_the_arm64_bases_by_digest(arm64_stack, tmp_path):
    stack = load_stack(arm64_stack.stacks / f"{STACK}.toml")
    pushed = {name: entry["reference"] for name, entry in arm64_stack.results.items()}
    amd64 = {name: f"{arm64_stack.registry.host}/stacks/{name}@sha256:{'0' * 64}" for name in ("builder", *pushed)}  # never read here
    handout = tmp_path / "golden.toml"
    handout.write_text(format_stack(stack, amd64, {"arm64": pushed}))
    golden = load_stack(handout)
    context = Context(Registries())
    store = Store(tmp_path / "fresh-store")  # nothing built: every arm64 base comes from the registry
    python = ensure_stack_image(golden, "python", context, store, architecture="arm64")
    assert python.digest == arm64_stack.results["run-python"]["digest"] and python.config["architecture"] == "arm64"
    assert not (tmp_path / "fresh-store" / "debian").exists()


def test_stack_list_shows_the_arm64_bases_beside_amd64s(arm64_stack):
    result = arm64_stack.runner("stack", "list", "--json", env=arm64_stack.env, timeout=60)
    listed = next(entry for entry in json.loads(result.stdout)["stacks"] if entry["stack"] == STACK)
    assert listed["architectures"] == ["amd64", "arm64"]
    arm64 = {image["name"]: image.get("digest") for image in listed["otherArchitectures"]["arm64"]}
    assert arm64 == {name.removeprefix("run-"): entry["digest"] for name, entry in arm64_stack.results.items()}
    assert "digest" not in {image["name"]: image for image in listed["images"]}["base"]  # amd64's: not built in this store
    text = arm64_stack.runner("stack", "list", env=arm64_stack.env, timeout=60).stdout
    assert f"  python/arm64 packages  {arm64['python'][:19]}" in text
    assert "  python       packages  not built (s2i stack build)" in text


def test_a_lock_without_arm64_pins_gains_them_at_the_amd64_versions(arm64_stack, tmp_path):
    committed = (arm64_stack.stacks / f"{STACK}.lock").read_text()
    # the lock as it was before arm64
    runner, env, lock = arm64_stack.with_lock(tmp_path, "relock", lambda text: text[:text.index("\n[run-arm64]")])
    result = runner("stack", "build", STACK, *ARM64, "--json", env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    assert f"{STACK}.lock: arm64 pins written" in result.stderr
    assert lock.read_text() == committed  # the same pins, the same bytes; [run] and [builder] untouched
    assert {e["image"]: e["digest"] for e in json.loads(result.stdout)["images"]} == {
        name: entry["digest"] for name, entry in arm64_stack.results.items()}


def test_both_architectures_pushed_at_once_get_an_index_and_a_stack_file_naming_both(built_stack, arm64_stack, monkeypatch, tmp_path):
    from s2i.commands.stack import build

    monkeypatch.setenv("XDG_CACHE_HOME", str(built_stack.cache))  # the session's amd64 stack, as built
    monkeypatch.setenv("S2I_STACKS_DIR", str(built_stack.stacks))
    host = arm64_stack.registry.host
    golden = tmp_path / "golden.toml"
    results = build(STACK, f"{host}/both", False, Context(Registries()), golden, "linux/amd64,linux/arm64")
    digests = {(entry["platform"], entry["image"]): entry["digest"] for entry in results}
    assert digests[("linux/arm64", "run-python")] == arm64_stack.results["run-python"]["digest"]
    assert ("linux/arm64", "builder") not in digests
    index = skopeo_inspect(f"docker://{host}/both/run-python:{STACK}", raw=True)
    assert [(m["platform"]["architecture"], m["digest"]) for m in index["manifests"]] == [
        ("amd64", digests[("linux/amd64", "run-python")]), ("arm64", digests[("linux/arm64", "run-python")])]
    assert skopeo_inspect(f"docker://{host}/both/builder:{STACK}", raw=True)["mediaType"].endswith("manifest.v1+json")
    stack = load_stack(golden)
    assert stack.architectures == ("amd64", "arm64")
    assert stack.bases["python"].images == (("arm64", f"{host}/both/run-python@{digests[('linux/arm64', 'run-python')]}"),)
    assert stack.bases["python"].image == f"{host}/both/run-python@{digests[('linux/amd64', 'run-python')]}"
