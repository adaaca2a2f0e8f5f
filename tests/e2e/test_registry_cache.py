"""`--cache REPO`: a fresh runner (an empty store but the stack) reuses what an earlier runner wrote to the registry."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import S2I
from tests.e2e.helpers import free_port, registry_uploads, skopeo_inspect
from tests.e2e.test_build import EXAMPLES, app_copy, built

pytestmark = pytest.mark.e2e


def stack_only_store(session_cache: Path, cache: Path) -> None:
    """A fresh CI runner's store: the session stack's refs, blobs and unpacked rootfs (hardlinked), nothing a build left."""
    source, target = session_cache / "s2i", cache / "s2i"
    for ref in (source / "refs" / "stacks").rglob("*"):
        if not ref.is_file():
            continue
        (target / ref.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ref, target / ref.relative_to(source))
        manifest_digest = json.loads(ref.read_text())["digest"]
        manifest = json.loads(_blob(source, manifest_digest).read_text())
        for digest in [manifest_digest, manifest["config"]["digest"], *(layer["digest"] for layer in manifest["layers"])]:
            _blob(target, digest).parent.mkdir(parents=True, exist_ok=True)
            if not _blob(target, digest).exists():
                os.link(_blob(source, digest), _blob(target, digest))
    if (source / "rootfs").is_dir():  # the builder as the session's first build unpacked it
        shutil.copytree(source / "rootfs", target / "rootfs", copy_function=os.link, symlinks=True,
                        ignore=shutil.ignore_patterns(".tmp-*"))


def _blob(root: Path, digest: str) -> Path:
    algorithm, hexdigest = digest.split(":")
    return root / "blobs" / algorithm / hexdigest


class Runner(S2I):
    """A CI runner: its own store holding only the session's stack, the stacks dir the session uses."""

    def __init__(self, root: Path, built_stack):
        super().__init__(root)
        stack_only_store(built_stack.cache, self.cache)
        self.env = built_stack.env

    def __call__(self, *args, env=None, **kwargs):
        return super().__call__(*args, env={**self.env, **(env or {})}, **kwargs)


def outcomes(result) -> dict[str, str]:
    return {blob["digest"]: blob["outcome"] for blob in json.loads(result.stdout)["blobs"]}


def warnings(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("s2i: warning:")]


def test_a_fresh_runner_takes_the_deps_layer_from_the_cache(built_stack, registry, tmp_path):
    app = app_copy(tmp_path, EXAMPLES / "flask-hello")
    cache = f"{registry.host}/cache/flask"
    first = Runner(tmp_path / "runner-a", built_stack)("build", app, f"{registry.host}/flask:a", "--cache", cache, "--json")
    assert first.returncode == 0, first.stderr
    assert "installing dependencies from requirements.txt" in first.stderr and "cache: no deps layer" in first.stderr
    assert {tag.split("-")[0] for tag in registry.manifest_tags("cache/flask")} == {"layer", "cache"}
    (app / "app.py").write_text((app / "app.py").read_text().replace("Hello, World", "Hello again"))
    before = len(registry.requests())
    second = Runner(tmp_path / "runner-b", built_stack)("build", app, f"{registry.host}/flask:b", "--cache", cache, "--json")
    assert second.returncode == 0, second.stderr
    assert "cache: the deps layer comes from" in second.stderr and "reusing the deps layer" in second.stderr
    assert "installing dependencies" not in second.stderr and "Collecting" not in second.stderr  # pip did not run
    assert "scanning the reused" not in second.stderr  # the native closure's scan of the deps layer came with it
    assert warnings(second) == []
    a = skopeo_inspect(f"docker://{registry.host}/flask:a", raw=True)["layers"]
    b = skopeo_inspect(f"docker://{registry.host}/flask:b", raw=True)["layers"]
    assert a[:-1] == b[:-1] and a[-1] != b[-1]  # run base, launcher and deps layers: runner A's digests
    uploaded = {digest for digest, outcome in outcomes(second).items() if outcome == "uploaded"}
    assert uploaded == {b[-1]["digest"], skopeo_inspect(f"docker://{registry.host}/flask:b", raw=True)["config"]["digest"]}
    # measured at the registry: of the image, runner B sent the app layer and the config (beside them only its SBOM);
    # no base, launcher or deps layer moved, and the cache got nothing new
    requests = registry.requests()[before:]
    sent = {upload.digest for upload in registry_uploads(requests)[0]}
    assert {b[-1]["digest"]} <= sent and not sent & {layer["digest"] for layer in b[:-1]}, sent
    assert not [r.path for r in requests if r.method in ("PUT", "PATCH", "POST") and r.path.startswith("/v2/cache/")]
    assert "cache: 0 of 2 entries written" in second.stderr


def test_a_fresh_runner_compiles_go_incrementally_from_the_cache(built_stack, registry, tmp_path):
    app = app_copy(tmp_path, EXAMPLES / "go-httpd")
    (app / "s2i.toml").write_text('ports = ["8080"]\n[build]\nenv = { GOFLAGS = "-v" }\n')  # go names each package it compiles
    cache = f"{registry.host}/cache/go"
    first = Runner(tmp_path / "runner-a", built_stack)("build", app, f"{registry.host}/go:a", "--cache", cache)
    built(first)
    assert "go] net/http\n" in first.stderr  # a cold store: the standard library is compiled (into the store's seed)
    (app / "main.go").write_text((app / "main.go").read_text().replace("hello from go-httpd", "hello again"))
    second = Runner(tmp_path / "runner-b", built_stack)("build", app, f"{registry.host}/go:b", "--cache", cache, "--json")
    assert second.returncode == 0, second.stderr
    assert "cache: the build cache comes from" in second.stderr
    b = skopeo_inspect(f"docker://{registry.host}/go:b", raw=True)
    uploaded = {digest for digest, outcome in outcomes(second).items() if outcome == "uploaded"}
    assert uploaded == {b["layers"][-1]["digest"], b["config"]["digest"]}  # the app layer and config; the launcher was there
    said = [line.removeprefix("[build go] ") for line in second.stderr.splitlines() if line.startswith("[build go] ")]
    compiled = [words for words in said if words and " " not in words]  # what go -v names: packages it compiled
    assert compiled == ["example.com/go-httpd"], said
    assert warnings(second) == []


def test_an_unreachable_cache_is_one_warning_and_a_normal_build(built_stack, registry, tmp_path):
    runner = Runner(tmp_path / "runner", built_stack)
    result = runner("build", app_copy(tmp_path, EXAMPLES / "c-hello"), f"{registry.host}/c:1", "--cache", f"127.0.0.1:{free_port()}/cache")
    built(result)
    assert len(warnings(result)) == 1 and "building without it" in warnings(result)[0], result.stderr
    assert not any(line.startswith("s2i: cache:") for line in result.stderr.splitlines())


def test_a_cache_repo_with_a_tag_is_refused_before_any_work(built_stack, registry, tmp_path):
    result = Runner(tmp_path / "runner", built_stack)("build", app_copy(tmp_path, EXAMPLES / "c-hello"), f"{registry.host}/c:1",
                                                      "--cache", f"{registry.host}/cache:v1")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"s2i: error: --cache '{registry.host}/cache:v1' names a tag or digest")
    assert registry.manifest_tags("c") == set()


def test_a_tampered_cache_entry_is_a_miss_and_a_normal_build(built_stack, registry, tmp_path):
    app, cache = app_copy(tmp_path, EXAMPLES / "c-hello"), f"{registry.host}/cache/c"
    built(Runner(tmp_path / "runner-a", built_stack)("build", app, f"{registry.host}/c:a", "--cache", cache))
    [tag] = [tag for tag in registry.manifest_tags("cache/c") if tag.startswith("cache-")]
    for layer in skopeo_inspect(f"docker://{cache}:{tag}", raw=True)["layers"]:  # the build cache's blobs: other bytes, same size
        hexdigest = layer["digest"].split(":")[1]
        data = registry.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"
        data.write_bytes(bytes(b ^ 0x55 for b in data.read_bytes()))
    second = Runner(tmp_path / "runner-b", built_stack)("build", app, f"{registry.host}/c:b", env={"S2I_CACHE": cache})  # as --cache
    built(second)
    assert len(warnings(second)) == 1 and "the build cache entry is unusable, treated as a miss" in warnings(second)[0], second.stderr
    assert "$ musl-gcc" in second.stderr  # the launcher the entry held is compiled again
