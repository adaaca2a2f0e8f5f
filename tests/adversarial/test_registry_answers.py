"""A hostile registry's answers (endless manifests, garbage tokens, echoed secrets) are one line, in bounded time and memory."""

from __future__ import annotations

import json
import time

import pytest

from s2i.errors import EXIT_AUTH, EXIT_REGISTRY
from tests.adversarial.faultproxy import Fault, FaultProxy

pytestmark = pytest.mark.e2e


@pytest.fixture
def proxy(registry):
    with FaultProxy(registry.port) as running:
        yield running


def one_error(result, code: int = EXIT_REGISTRY) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("s2i: error:")]
    assert result.returncode == code and len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return errors[0]


def test_an_endless_manifest_is_cut_at_4_mib(s2i, proxy):
    proxy.add(Fault("answer", "GET", "/manifests/", status=200, endless=True, times=10,
                    headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}))
    started = time.monotonic()
    line = one_error(s2i("inspect", f"{proxy.host}/t/app:1", timeout=120))
    assert time.monotonic() - started < 30
    assert line.startswith(f"s2i: error: reading {proxy.host}/t/app:1: {proxy.host} sent an answer larger than 4096 KiB")
    assert len(proxy.actions("answer")) == 1  # refused, not retried


@pytest.mark.parametrize("token_body, message", [
    (b"<html>502 Bad Gateway</html>", "returned no token"),
    (json.dumps({"token": "ab\x00\ncd"}).encode(), "returned a token that cannot go in a header"),
])
def test_a_token_server_answering_garbage_is_one_line(s2i, proxy, token_body, message):
    realm = f"http://{proxy.host}/token"
    proxy.add(
        Fault("answer", "GET", "^/v2/", status=401, times=100, headers={"WWW-Authenticate": f'Bearer realm="{realm}",service="x"'}),
        Fault("answer", "GET", "^/token", status=200, times=100, body=token_body, headers={"Content-Type": "application/json"}),
    )
    line = one_error(s2i("inspect", f"{proxy.host}/t/app:1", timeout=120), EXIT_AUTH)
    assert message in line and "\\x00" not in line


def test_a_registry_error_cannot_flood_or_drive_the_terminal(s2i, proxy):
    flood = "\x1b]0;pwned\x07\x1b[2J" + "A" * 30_000  # under the 64 KiB error cap, so it parses
    body = json.dumps({"errors": [{"code": "DENIED", "message": flood}]}).encode()
    proxy.add(Fault("answer", "GET", "/manifests/", status=403, body=body, headers={"Content-Type": "application/json"}))
    line = one_error(s2i("inspect", f"{proxy.host}/t/app:1", timeout=120), EXIT_AUTH)
    assert "\x1b" not in line and "\x07" not in line and len(line) < 600
    assert f"reading {proxy.host}/t/app:1: HTTP 403 DENIED:" in line
