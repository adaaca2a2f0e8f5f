"""Smoke tests proving the e2e fixtures and helpers work, without involving s2i."""

from __future__ import annotations

import socket

import pytest

from tests.e2e.helpers import (
    Upload,
    compile_static,
    free_port,
    registry_uploads,
    run_image,
    skopeo_copy,
    skopeo_inspect,
    start_image,
    umoci_image,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def hello_image(tmp_path, static_hello):
    return umoci_image(tmp_path / "oci", "t", {"/hello": static_hello / "hello"}, ["/hello"])


def test_push_and_run(registry, hello_image):
    ref = f"docker://{registry.host}/t/x:1"
    skopeo_copy(hello_image, ref)

    result = run_image(ref)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello from s2i\n"

    manifest = skopeo_inspect(ref, raw=True)
    digests = {manifest["config"]["digest"]} | {l["digest"] for l in manifest["layers"]}
    assert digests <= registry.blob_digests()
    assert registry.manifest_tags("t/x") == {"1"}

    reqs = registry.requests()
    assert ("PUT", "/v2/t/x/manifests/1", 201) in reqs
    data, mounts = registry_uploads(reqs)
    assert {u.digest for u in data} == digests and not mounts

    # Args override the entrypoint.
    assert run_image(ref, args=["/hello", "ignored"]).stdout == "hello from s2i\n"


def test_cross_repo_mount_is_logged(registry, hello_image):
    skopeo_copy(hello_image, f"docker://{registry.host}/t/a:1")
    manifest = skopeo_inspect(f"docker://{registry.host}/t/a:1", raw=True)
    before = len(registry.requests())
    skopeo_copy(f"docker://{registry.host}/t/a:1", f"docker://{registry.host}/t/b:1")
    data, mounts = registry_uploads(registry.requests()[before:])
    # skopeo mounts layers but always re-sends the config blob.
    assert [u.digest for u in data] == [manifest["config"]["digest"]]
    assert mounts == [Upload("t/b", l["digest"], "t/a") for l in manifest["layers"]]


def test_stop_start_keeps_data(registry, hello_image):
    ref = f"docker://{registry.host}/t/x:1"
    skopeo_copy(hello_image, ref)
    port, blobs = registry.port, registry.blob_digests()

    for kill in (True, False):
        registry.stop(kill=kill)
        assert not registry.running
        with pytest.raises(RuntimeError):
            skopeo_inspect(ref, raw=True)
        registry.start()

    assert registry.port == port and registry.blob_digests() == blobs
    assert run_image(ref).stdout == "hello from s2i\n"


def test_zstd_image_runs(registry, hello_image):
    ref = f"docker://{registry.host}/t/z:1"
    skopeo_copy(hello_image, ref, "--dest-compress", "--dest-compress-format", "zstd")
    layers = skopeo_inspect(ref, raw=True)["layers"]
    assert [l["mediaType"] for l in layers] == ["application/vnd.oci.image.layer.v1.tar+zstd"]

    result = run_image(ref)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello from s2i\n"


def test_tls_registry_with_auth(tls_registry, hello_image):
    reg = tls_registry
    ref = f"docker://{reg.host}/t/x:1"
    creds = f"{reg.username}:{reg.password}"
    skopeo_copy(hello_image, ref, tls_verify=True, creds=creds, cert_dir=reg.cert_dir)

    info = skopeo_inspect(ref, tls_verify=True, creds=creds, cert_dir=reg.cert_dir)
    assert info["Digest"].startswith("sha256:")
    with pytest.raises(RuntimeError, match="(?i)unauthorized|authentication"):
        skopeo_inspect(ref, tls_verify=True, creds=f"{reg.username}:wrong", cert_dir=reg.cert_dir)
    # Without the CA the certificate must not be trusted.
    with pytest.raises(RuntimeError, match="certificate"):
        skopeo_inspect(ref, tls_verify=True, creds=creds)

    assert ("PUT", "/v2/t/x/manifests/1", 201) in reg.requests()
    assert any(r.status == 401 for r in reg.requests())
    assert run_image(ref, tls_verify=True, creds=creds, cert_dir=reg.cert_dir).stdout == "hello from s2i\n"


def test_s2i_runner_is_isolated(s2i, tmp_path):
    # A stand-in s2i package shows what environment and arguments the runner passes.
    fake = tmp_path / "fake"
    (fake / "s2i").mkdir(parents=True)
    (fake / "s2i" / "__main__.py").write_text(
        "import os, sys\n"
        "print(os.environ['HOME'], os.environ['XDG_CACHE_HOME'], sys.stdin.read(), *sys.argv[1:])\n"
        "sys.exit(3)\n"
    )
    result = s2i("build", ".", input="in", env={"PYTHONPATH": str(fake)})
    assert result.returncode == 3
    assert result.stdout.split() == [str(s2i.home), str(s2i.cache), "in", "build", "."]
    assert tmp_path in s2i.home.parents and tmp_path in s2i.cache.parents


# Answers "pong\n" to every connection on 127.0.0.1:PORT (argv[1]).
PONG_C = r"""
#include <arpa/inet.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 8)) return 1;
    write(1, "listening\n", 10);
    for (;;) { int c = accept(s, 0, 0); write(c, "pong\n", 5); close(c); }
}
"""


def test_start_image_serves_on_host_loopback(registry, tmp_path):
    server = compile_static(PONG_C, tmp_path / "pong" / "pong")
    ref = f"docker://{registry.host}/t/pong:1"
    skopeo_copy(umoci_image(tmp_path / "oci", "p", {"/pong": server}, ["/pong"]), ref)

    port = free_port()
    with start_image(ref, args=["/pong", str(port)], wait_for_port=port) as c:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            assert conn.recv(16) == b"pong\n"
    assert c.stdout == "listening\n"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
