"""A dying registry loses nothing and never hangs s2i: a fault-injecting proxy in front of the real registry."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request

import pytest

from s2i.errors import EXIT_REGISTRY
from tests.adversarial.faultproxy import Fault, FaultProxy
from tests.e2e.helpers import registry_uploads, run_image, skopeo_inspect

pytestmark = pytest.mark.e2e
UPLOAD = r"^/v2/.+/blobs/uploads/.+digest="  # the request that carries (or closes) a blob's bytes
FAST = {"S2I_REGISTRY_TIMEOUT": "2", "S2I_RETRIES": "2"}


@pytest.fixture
def proxy(registry):
    with FaultProxy(registry.port) as running:
        yield running


def digest_of(stdout: str) -> str:
    return stdout.strip().rsplit("@", 1)[1]


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("s2i: error:")]


def manifest_status(registry, repository: str, tag: str) -> int:
    """A plain GET on the real registry, behind the proxy."""
    request = urllib.request.Request(f"{registry.url}/v2/{repository}/manifests/{tag}",
                                     headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def layers(tmp_path, static_hello, count: int) -> list:
    args = ["--layer", static_hello]
    for n in range(count):
        layer = tmp_path / f"layer{n}"
        layer.mkdir()
        (layer / f"data{n}").write_bytes(os.urandom(200_000))  # incompressible, so each upload takes a while
        args += ["--layer", layer]
    return args


def test_5xx_and_429_are_retried_honouring_retry_after(s2i, registry, proxy, static_hello):
    proxy.add(
        Fault("answer", "POST", r"/blobs/uploads/$", status=502),
        Fault("answer", "PUT", UPLOAD, status=503, headers={"Retry-After": "1"}),
        Fault("answer", "PUT", "/manifests/", status=429, headers={"Retry-After": "2"}),
    )
    started = time.monotonic()
    result = s2i("append", "scratch", f"{proxy.host}/t/hello:1", "--layer", static_hello, "--entrypoint", "/hello",
                 "--jobs", "1", timeout=120)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 3.5  # 0.5 s of backoff, then the 1 s and 2 s the registry asked for
    assert "HTTP 503" in result.stderr and "retrying in 1.0s" in result.stderr
    assert "HTTP 429" in result.stderr and "retrying in 2.0s" in result.stderr
    assert [f.seen >= f.nth + 1 for f in proxy.faults] == [True, True, True]  # each fault hit, then passed
    assert skopeo_inspect(f"docker://{registry.host}/t/hello:1")["Digest"] == digest_of(result.stdout)
    assert run_image(f"docker://{registry.host}/t/hello:1").stdout == "hello from s2i\n"


def test_a_hanging_registry_fails_in_bounded_time_and_a_rerun_sends_only_missing_blobs(tmp_path, s2i, registry, proxy, static_hello):
    target = f"{proxy.host}/t/hang:1"
    args = ["append", "scratch", target, *layers(tmp_path, static_hello, 2), "--entrypoint", "/hello", "--jobs", "1"]
    proxy.add(Fault("hang", "PUT", UPLOAD, nth=2, times=100))  # the first blob lands, the second never answers
    started = time.monotonic()
    failed = s2i(*args, env=FAST, timeout=120)
    assert time.monotonic() - started < 30  # 2 tries of ~2 s each, not minutes
    assert failed.returncode == EXIT_REGISTRY, failed.stderr
    assert len(error_lines(failed)) == 1 and failed.stderr.strip().splitlines()[-1] == error_lines(failed)[0]
    assert f"{proxy.host} stopped answering" in failed.stderr and "S2I_REGISTRY_TIMEOUT (now 2s)" in failed.stderr
    assert registry.manifest_tags("t/hang") == set() and manifest_status(registry, "t/hang", "1") == 404
    assert len(proxy.actions("hang")) == 2
    present = registry.blob_digests()

    proxy.clear()
    before = len(registry.requests())
    result = s2i(*args, env=FAST, timeout=120)
    assert result.returncode == 0, result.stderr
    data, _ = registry_uploads(registry.requests()[before:])
    manifest = skopeo_inspect(f"docker://{registry.host}/t/hang:1", raw=True)
    blobs = {layer["digest"] for layer in manifest["layers"]} | {manifest["config"]["digest"]}
    assert 0 < len(present & blobs) < len(blobs)
    assert sorted(u.digest for u in data) == sorted(blobs - present)
    assert run_image(f"docker://{registry.host}/t/hang:1").stdout == "hello from s2i\n"


def test_a_trickling_source_fails_copy_in_bounded_time(s2i, registry, proxy, static_hello):
    pushed = s2i("append", "scratch", f"{registry.host}/t/src:1", "--layer", static_hello, "--entrypoint", "/hello")
    assert pushed.returncode == 0, pushed.stderr
    proxy.add(Fault("trickle", "GET", "/manifests/", times=100, interval=0.5))  # a byte every half second
    started = time.monotonic()
    result = s2i("copy", f"{proxy.host}/t/src:1", f"{registry.host}/t/dst:1", env=FAST, timeout=120)
    assert time.monotonic() - started < 30
    assert result.returncode == EXIT_REGISTRY and len(error_lines(result)) == 1
    assert f"reading {proxy.host}/t/src:1: {proxy.host} stopped answering" in error_lines(result)[0]
    assert len(proxy.actions("trickle")) == 2
    assert registry.manifest_tags("t/dst") == set() and manifest_status(registry, "t/dst", "1") == 404


def test_a_connection_dropped_mid_upload_is_retried_and_never_tags_a_partial_image(tmp_path, s2i, registry, proxy, static_hello):
    args = [*layers(tmp_path, static_hello, 1), "--entrypoint", "/hello", "--jobs", "1"]
    proxy.add(Fault("drop", "PUT", UPLOAD, times=100))
    failed = s2i("append", "scratch", f"{proxy.host}/t/drop:1", *args, env=FAST, timeout=120)
    assert failed.returncode == EXIT_REGISTRY and len(error_lines(failed)) == 1
    assert f"lost the connection to {proxy.host}" in error_lines(failed)[0]
    assert registry.manifest_tags("t/drop") == set() and manifest_status(registry, "t/drop", "1") == 404

    proxy.clear()
    proxy.add(Fault("drop", "PUT", UPLOAD, nth=1), Fault("drop", "PUT", UPLOAD, nth=3))  # break two of the uploads once
    result = s2i("append", "scratch", f"{proxy.host}/t/drop:1", *args, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(proxy.actions("drop")) == 2 and result.stderr.count("retrying in") == 2
    assert skopeo_inspect(f"docker://{registry.host}/t/drop:1")["Digest"] == digest_of(result.stdout)
    assert run_image(f"docker://{registry.host}/t/drop:1").stdout == "hello from s2i\n"


def test_a_download_dropped_mid_copy_is_retried(s2i, registry, proxy, static_hello):
    pushed = s2i("append", "scratch", f"{registry.host}/t/src:1", "--layer", static_hello, "--entrypoint", "/hello")
    proxy.add(Fault("drop", "GET", r"/blobs/sha256:", nth=2))  # the first is the config; the second streams the layer
    result = s2i("copy", f"{proxy.host}/t/src:1", f"{registry.host}/t/dst:1", "--json", timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(proxy.actions("drop")) == 1 and f"from {proxy.host}/t/src: lost the connection" in result.stderr
    assert skopeo_inspect(f"docker://{registry.host}/t/dst:1")["Digest"] == digest_of(pushed.stdout)
