"""Acceptance for stacks: reproducible builder and run bases from Debian packages, run with runc."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from s2i.oci.image import parse_platform
from s2i.transports import Context
from s2i.transports.registry.client import Registries
from s2i.stack.files import DEFAULT_STACK
from s2i.stack.rootfs import unpack_image
from s2i.build.sandbox import Bind, Sandbox, run_logged
from s2i.stack.images import stack_image
from s2i.store import Store
from tests.e2e.conftest import S2I
from tests.e2e.helpers import Registry, compile_static, run_image

pytestmark = pytest.mark.e2e
STACK = DEFAULT_STACK  # the session's stack (tests/e2e/conftest.py builds it)
MB = 1_000_000
SIZE_LIMITS = {"run-static": 3 * MB, "run-base": 25 * MB, "run-python": 60 * MB}


class StackBuilds:
    """The session's stack build (fresh lock) and a second one from an empty store, pushed to a registry."""

    def __init__(self, root: Path, built_stack):
        self.stacks = built_stack.stacks
        self.env = built_stack.env
        self.first, self.first_results = built_stack.runner, built_stack.results
        self.registry = Registry(root / "registry")
        self.registry.start()
        self.second = S2I(root / "second")
        result = self.second("stack", "build", STACK, "--json", "--push", f"{self.registry.host}/stacks", env=self.env, timeout=1800)
        assert result.returncode == 0, result.stderr
        self.second_results = json.loads(result.stdout)["images"]


@pytest.fixture(scope="module")
def stacks(tmp_path_factory, built_stack):
    builds = StackBuilds(tmp_path_factory.mktemp("stacks"), built_stack)
    yield builds
    builds.registry.stop(kill=True)


def by_image(results: list[dict]) -> dict[str, dict]:
    return {entry["image"]: entry for entry in results}


def test_two_builds_with_empty_stores_have_identical_digests(stacks):
    first, second = by_image(stacks.first_results), by_image(stacks.second_results)
    assert set(first) == {"builder", "run-static", "run-base", "run-python"}
    assert {name: e["digest"] for name, e in first.items()} == {name: e["digest"] for name, e in second.items()}
    for name, entry in second.items():
        assert entry["reference"] == f"{stacks.registry.host}/stacks/{name}@{entry['digest']}"
    lock = (stacks.stacks / f"{STACK}.lock").read_text()
    assert '"libc6" = { version = "' in lock and '"golang-go" = { version = "' in lock


def test_run_base_sizes(stacks):
    sizes = {name: entry["uncompressedSize"] for name, entry in by_image(stacks.first_results).items()}
    print("\n" + "\n".join(f"{name:<11} {size / MB:6.1f} MB uncompressed" for name, size in sorted(sizes.items())))
    for name, limit in SIZE_LIMITS.items():
        assert sizes[name] <= limit, f"{name} is {sizes[name] / MB:.1f} MB"
    listed = json.loads(stacks.first("stack", "list", "--json", env=stacks.env).stdout)["stacks"]
    listed = next(entry for entry in listed if entry["stack"] == STACK)
    images = {image["name"]: image for image in listed["images"]}
    assert listed["toolchains"] == {"go": ["1.24", "1.26"], "python": ["3.13"]}  # what runtime choice picks from
    assert images["static"]["digest"] == by_image(stacks.first_results)["run-static"]["digest"]
    assert images["alpine"]["image"] == "docker.io/library/alpine:3.20"


def ref(stacks, name: str) -> str:
    return f"{stacks.registry.host}/stacks/{name}:{STACK}"


def test_static_hello_runs_on_static(stacks, tmp_path):
    compile_static('#include <stdio.h>\nint main(void){puts("static on static");return 0;}\n', tmp_path / "layer" / "hello")
    target = f"{stacks.registry.host}/t/static-hello:1"
    result = stacks.first("append", ref(stacks, "run-static"), target, "--layer", tmp_path / "layer", "--entrypoint", "/hello", "--user", "65532")
    assert result.returncode == 0, result.stderr
    assert run_image(f"docker://{target}").stdout == "static on static\n"
    passwd = run_image(f"docker://{ref(stacks, 'run-python')}", args=["/usr/bin/python3", "-c", "print(open('/etc/passwd').read())"]).stdout
    assert "nonroot:x:65532:65532:" in passwd
    assert run_image(f"docker://{ref(stacks, 'run-static')}", args=["/usr/bin/id"]).returncode != 0


def in_builder(rootfs: Path, workdir: Path, *command: str) -> None:
    """Compile inside the builder's root filesystem, read-only, through s2i's own sandbox."""
    sandbox = Sandbox(rootfs, (Bind(workdir, "/workspace", writable=True),), (("PATH", "/usr/bin:/bin"),), workdir="/workspace")
    run_logged(sandbox, list(command), "compile")


def test_dynamic_hello_built_in_builder_runs_on_base(stacks, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(stacks.first.cache))
    builder = stack_image(STACK, "builder", Context(Registries()), Store())
    rootfs = unpack_image(builder, Store())
    work = tmp_path / "work"
    (work / "layer").mkdir(parents=True)
    (work / "hello.c").write_text('#include <stdio.h>\nint main(void){puts("dynamic on base");return 0;}\n')
    in_builder(rootfs, work, "gcc", "-O2", "-o", "layer/hello", "hello.c")
    assert b"/lib64/ld-linux-x86-64.so.2" in (work / "layer" / "hello").read_bytes()  # dynamically linked
    target = f"{stacks.registry.host}/t/dynamic-hello:1"
    result = stacks.first("append", ref(stacks, "run-base"), target, "--layer", work / "layer", "--entrypoint", "/hello")
    assert result.returncode == 0, result.stderr
    assert run_image(f"docker://{target}").stdout == "dynamic on base\n"


def test_python_base_imports_the_stdlib_modules(stacks):
    code = "import ssl, json, sqlite3, zlib, ctypes; print('imports ok', ssl.OPENSSL_VERSION.split()[0])"
    result = run_image(f"docker://{ref(stacks, 'run-python')}", args=["/usr/bin/python3", "-c", code])
    assert result.stdout == "imports ok OpenSSL\n", result.stderr


def tree_fingerprint(root: Path) -> str:
    digest = hashlib.sha256()
    for directory, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(dirs + files):
            path = Path(directory) / name
            st = path.lstat()
            digest.update(f"{path.relative_to(root)} {st.st_mode:o} {st.st_uid} {st.st_gid}".encode())
            if path.is_symlink():
                digest.update(os.readlink(path).encode())
            elif path.is_file():
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def test_builder_by_reference_unpacks_like_the_local_one(stacks, tmp_path, monkeypatch):
    digest = by_image(stacks.second_results)["builder"]["digest"]
    text = (stacks.stacks / f"{STACK}.toml").read_text()
    start = text.index("[builder]")
    end = text.index("[run.scratch]")
    referenced = text[:start] + f'[builder]\nimage = "{stacks.registry.host}/stacks/builder@{digest}"\n\n' + text[end:]
    (stacks.stacks / "by-reference.toml").write_text(referenced)
    monkeypatch.setenv("S2I_STACKS_DIR", str(stacks.stacks))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "fresh-cache"))
    context = Context(Registries(), parse_platform("linux/amd64"))
    remote = stack_image("by-reference", "builder", context, Store())
    assert remote.digest == digest
    remote_root = unpack_image(remote, Store())
    monkeypatch.setenv("XDG_CACHE_HOME", str(stacks.first.cache))
    local = stack_image(STACK, "builder", context, Store())
    # a fresh unpack: the session's cached rootfs has gained sandbox mount points from earlier tests
    local_root = unpack_image(local, Store(tmp_path / "local-unpack"))
    assert remote_root != local_root and remote_root.name == local_root.name
    assert tree_fingerprint(remote_root) == tree_fingerprint(local_root)


def test_stale_lock_fails_with_a_clear_error_and_update_says_what_changed(stacks, tmp_path):
    text = (stacks.stacks / f"{STACK}.toml").read_text()
    start = text.index("[builder]")
    stale = tmp_path / "stale"
    stale.mkdir()
    # a builder by reference (never pulled by stack build) and one small run base: no mmdebstrap
    (stale / "stale.toml").write_text(text[:start] + '[builder]\nimage = "127.0.0.1:1/x/builder:1"\n\n'
                                      '[run.static]\npackages = ["base-files", "netbase", "tzdata", "ca-certificates"]\n')
    lock = (stacks.stacks / f"{STACK}.lock").read_text()
    assert '"base-files" = { version = "' in lock and ', sha256 = "' in lock  # the lock pins content too
    (stale / "stale.lock").write_text(lock.replace('"base-files" = { version = "', '"base-files" = { version = "0.0-gone+')
                                          .replace('"tzdata" = { version = "', '"tzdata" = { version = "0.0-gone+'))
    env = {"S2I_STACKS_DIR": str(stale)}
    result = stacks.first("stack", "build", "stale", env=env)
    assert result.returncode == 1
    error = result.stderr.strip().splitlines()[-1]
    assert "stale.lock is stale: the Debian archive no longer has base-files=0.0-gone+" in error
    assert "tzdata=0.0-gone+" in error and "--update" in error
    assert "0.0-gone+" in (stale / "stale.lock").read_text()  # the lock is left as it was
    result = stacks.first("stack", "build", "stale", "--update", env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "base-files 0.0-gone+" in result.stderr and " -> " in result.stderr
    fresh = (stale / "stale.lock").read_text()
    assert "0.0-gone+" not in fresh and '"tzdata" = { version = "' in fresh and "[builder]\n" in fresh
