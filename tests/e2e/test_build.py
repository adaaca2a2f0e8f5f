"""Acceptance for `s2i build`: detection, the bwrap sandbox, the go and c buildpacks, caching, bad input."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from s2i.errors import EXIT_BUILD, EXIT_DETECTION, EXIT_REGISTRY, EXIT_USAGE
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import referrer_blobs, registry_uploads, run_image, skopeo_copy, skopeo_inspect, start_image

pytestmark = pytest.mark.e2e
EXAMPLES = REPO_ROOT / "examples"
APPS = REPO_ROOT / "tests" / "apps"


def app_copy(tmp_path: Path, source: Path) -> Path:
    return Path(shutil.copytree(source, tmp_path / "apps" / source.name))


def built(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def digest_of(reference: str) -> str:
    return reference.rsplit("@", 1)[1]


def uncompressed_size(registry, reference: str, tmp_path: Path) -> int:
    layout = Path(tempfile.mkdtemp(dir=tmp_path))
    skopeo_copy(f"docker://{reference}", f"oci:{layout}:x")
    manifest = skopeo_inspect(f"oci:{layout}:x", raw=True)
    total = 0
    for layer in manifest["layers"]:
        blob = layout / "blobs" / "sha256" / layer["digest"].split(":")[1]
        total += len(gzip.decompress(blob.read_bytes()))
    return total


def http_get(url: str, timeout: float = 10) -> str:
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode()
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def test_detect_says_why(builder, tmp_path):
    assert builder("detect", EXAMPLES / "go-httpd").stdout.strip().splitlines() == [
        "go: found go.mod; main.go declares package main; builds . -> /app/go-httpd (the main package at the root)",
        "runtime: go 1.26 on stack debian-trixie: go.mod (go 1.19) asks go >=1.19; the newest that meets it"]
    detection = json.loads(builder("detect", EXAMPLES / "c-hello", "--json").stdout)
    assert detection["buildpack"] == "c" and "found Makefile" in detection["reasons"]
    (tmp_path / "notes.txt").write_text("nothing to build\n")
    unknown = builder("detect", tmp_path)
    assert unknown.returncode == EXIT_DETECTION and "go: go.mod" in unknown.stderr and "c: Makefile" in unknown.stderr


def test_c_hello_and_go_httpd_build_push_and_run(builder, registry, tmp_path):
    log = tmp_path / "build.log"
    c_ref = built(builder("build", EXAMPLES / "c-hello", f"{registry.host}/c-hello:1", "--log", log))
    assert "gcc --static hello.c -o hello" in log.read_text()
    assert run_image(f"docker://{registry.host}/c-hello:1").stdout == "hello world\n"
    config = skopeo_inspect(f"docker://{registry.host}/c-hello:1", config=True)["config"]
    assert config["User"] == "65532" and config["Entrypoint"] == ["/s2i/launch", "/app/hello"]
    built(builder("build", EXAMPLES / "go-httpd", f"{registry.host}/go-httpd:1"))
    with start_image(f"docker://{registry.host}/go-httpd:1", wait_for_port=8080) as container:
        assert http_get("http://127.0.0.1:8080/") == "hello from go-httpd\n"
    assert "http daemon start" in container.stdout and "listen on port:8080" in container.stdout
    run = builder("run", c_ref)
    assert run.returncode == 0 and run.stdout == "hello world\n"


def test_scratch_images_are_tiny(builder, registry, tmp_path):
    sizes = {}
    for app, limit in (("c-hello", 100_000), ("go-httpd", 6_000_000)):
        reference = f"{registry.host}/{app}:scratch"
        built(builder("build", EXAMPLES / app, reference, "--run-image", "scratch"))
        sizes[app] = uncompressed_size(registry, reference, tmp_path)
        assert sizes[app] <= limit, f"{app}: {sizes[app]} bytes"
    print(f"\nuncompressed on scratch: {sizes}")
    assert run_image(f"docker://{registry.host}/c-hello:scratch").stdout == "hello world\n"


def test_one_line_change_rebuilds_and_pushes_only_the_app_layer(builder, registry, tmp_path):
    app = app_copy(tmp_path, EXAMPLES / "go-httpd")
    target = f"{registry.host}/edit/go-httpd:1"
    first = skopeo_inspect(f"docker://{built(builder('build', app, target))}", raw=True)
    cache = next((builder.cache / "s2i" / "builds").glob("*/go/go-build"))
    cached_before = {p.name for p in cache.rglob("*") if p.is_file()}
    assert cached_before, "the Go build cache is empty after a build"
    source = app / "main.go"
    source.write_text(source.read_text().replace("hello from go-httpd", "hello again from go-httpd"))
    before = len(registry.requests())
    second_ref = built(builder("build", app, target))
    second = skopeo_inspect(f"docker://{second_ref}", raw=True)
    assert [l["digest"] for l in first["layers"][:-1]] == [l["digest"] for l in second["layers"][:-1]]
    assert first["layers"][-1]["digest"] != second["layers"][-1]["digest"]
    data, _ = registry_uploads(registry.requests()[before:])
    digest = skopeo_inspect(f"docker://{target}")["Digest"]
    sbom = referrer_blobs(registry.host, "edit/go-httpd", digest)  # the new image's SBOM, pushed beside it
    assert sbom and {u.digest for u in data} - sbom == {second["layers"][-1]["digest"], second["config"]["digest"]}
    cached_after = {p.name for p in cache.rglob("*") if p.is_file()}
    assert cached_before <= cached_after  # the same cache, kept and mounted again, not rebuilt from nothing
    with start_image(f"docker://{target}", wait_for_port=8080):
        assert http_get("http://127.0.0.1:8080/") == "hello again from go-httpd\n"


@pytest.mark.parametrize("example", ["c-hello", "go-httpd"])
def test_same_source_twice_with_empty_caches_gives_one_digest(builder, registry, tmp_path, example):
    digests = []
    for n in range(2):
        app = app_copy(tmp_path / str(n), EXAMPLES / example)
        for path in app.rglob("*"):
            os.utime(path, (1_000_000 * (n + 1), 1_000_000 * (n + 1)))
        builder.forget_app_caches()
        digests.append(digest_of(built(builder("build", app, f"{registry.host}/repro/{example}:{n}"))))
    assert digests[0] == digests[1]


def test_dynamic_zlib_cmake_app_runs_on_scratch(builder, registry):
    reference = f"{registry.host}/c-zlib:1"
    built(builder("build", APPS / "c-zlib", reference, "--run-image", "scratch"))
    result = run_image(f"docker://{reference}")
    assert re.fullmatch(r"zlib 1\.3\.\d+ packed 31 bytes into \d+\n", result.stdout), result.stderr  # trixie's zlib, bundled


@pytest.fixture
def alpine_standin(builder, registry, tmp_path):
    """Docker Hub is out of reach: an alpine-like base from Debian's busybox-static, at REG/library/alpine:3."""
    root = tmp_path / "alpine-root"
    (root / "bin").mkdir(parents=True)
    (root / "etc").mkdir()
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    for tool in ("sh", "ls", "cat", "wget"):
        os.symlink("busybox", root / "bin" / tool)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n")
    (root / "etc" / "os-release").write_text('NAME="Alpine stand-in (busybox)"\n')
    reference = f"{registry.host}/library/alpine:3"
    built(builder("append", "scratch", reference, "--layer", root, "--cmd", "/bin/sh"))
    return reference


def test_go_httpd_on_alpine_mounts_the_base(builder, registry, alpine_standin):
    base_layer = skopeo_inspect(f"docker://{alpine_standin}", raw=True)["layers"][0]["digest"]
    before = len(registry.requests())
    target = f"{registry.host}/go-httpd:alpine"
    built(builder("build", EXAMPLES / "go-httpd", target, "--run-image", alpine_standin))
    data, mounts = registry_uploads(registry.requests()[before:])
    assert (base_layer, "library/alpine") in {(m.digest, m.mounted_from) for m in mounts}
    assert base_layer not in {u.digest for u in data}
    manifest = skopeo_inspect(f"docker://{target}", raw=True)
    assert manifest["annotations"]["org.opencontainers.image.base.name"] == alpine_standin
    with start_image(f"docker://{target}", wait_for_port=8080):
        assert http_get("http://127.0.0.1:8080/") == "hello from go-httpd\n"
    assert "Alpine stand-in" in run_image(f"docker://{target}", args=["/bin/cat", "/etc/os-release"]).stdout


def bad_apps(tmp_path: Path) -> dict[str, Path]:
    apps = {}
    apps["empty"] = tmp_path / "empty"
    apps["empty"].mkdir()
    apps["unknown"] = tmp_path / "unknown"
    apps["unknown"].mkdir()
    (apps["unknown"] / "README.md").write_text("# not code\n")
    apps["compile-error"] = tmp_path / "compile-error"
    apps["compile-error"].mkdir()
    (apps["compile-error"] / "main.c").write_text("int main(void) { return missing_symbol +; }\n")
    apps["missing-target"] = tmp_path / "missing-target"
    apps["missing-target"].mkdir()
    (apps["missing-target"] / "Makefile").write_text("all: hello\nhello: nothere.c\n\tgcc -o hello nothere.c\n")
    apps["shadow-link"] = app_copy(tmp_path, EXAMPLES / "c-hello")
    os.symlink("/etc/shadow", apps["shadow-link"] / "secrets")
    return apps


@pytest.mark.parametrize("case, code, message", [
    ("empty", EXIT_DETECTION, "is empty"),
    ("unknown", EXIT_DETECTION, "no buildpack recognises"),
    ("compile-error", EXIT_BUILD, "build c failed"),
    ("missing-target", EXIT_BUILD, "No rule to make target 'nothere.c'"),
    ("shadow-link", EXIT_USAGE, "secrets is a symlink to /etc/shadow, outside the app"),
])
def test_bad_input_fails_cleanly_and_the_next_build_passes(builder, registry, tmp_path, case, code, message):
    app = bad_apps(tmp_path)[case]
    result = builder("build", app, f"{registry.host}/bad/{case}:1")
    assert result.returncode == code, result.stderr
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith("s2i: error:") and message in summary
    assert registry.manifest_tags(f"bad/{case}") == set()
    host_shadow = Path("/etc/shadow").read_bytes() if os.access("/etc/shadow", os.R_OK) else b""
    assert not host_shadow or host_shadow not in result.stdout.encode() + result.stderr.encode()
    built(builder("build", EXAMPLES / "c-hello", f"{registry.host}/after/{case}:1"))
    assert run_image(f"docker://{registry.host}/after/{case}:1").stdout == "hello world\n"


def test_unreachable_registry_fails_before_building(builder):
    result = builder("build", EXAMPLES / "c-hello", "127.0.0.1:1/t/c-hello:1", env={"S2I_RETRIES": "1"})
    assert result.returncode == EXIT_REGISTRY
    assert "cannot reach 127.0.0.1:1" in result.stderr.strip().splitlines()[-1]
    assert "[build c]" not in result.stderr
