"""A hostile or dying registry cannot hang s2i or fill its memory: deadlines, caps and one-line errors."""

from __future__ import annotations

import base64
import email.utils
import gzip
import json
import time

import httpx
import pytest

from s2i.errors import AuthError, RegistryError
from s2i.oci.image import BytesBlob
from s2i.oci.reference import parse_reference
from s2i.oci.types import OCI_LAYER_GZIP, Descriptor, sha256_digest
from s2i.transports.registry import api
from s2i.transports.registry.client import Registry, RegistryOptions
from s2i.transports.registry.credentials import Credentials
from s2i.transports.registry.pull import RemoteBlob
from s2i.transports.registry.push import ensure_blob, push_image
from s2i.transports.registry.retry import delay
from tests.unit.fake_registry import FakeRegistry
from tests.unit.test_push import image_with

HOST = "registry.test"
PASSWORD = "pa55-w0rd-xyz"
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}).encode()


def connect(handler, host=HOST, **options) -> Registry:
    options = {"backoff": 0.0, "retries": 2, "timeout": 0.3, **options}
    return Registry(host, RegistryOptions(transport=httpx.MockTransport(handler), **options))


class Body:
    """A streamed answer body that counts what was pulled from it; bounded, so a test cannot hang."""

    def __init__(self, chunk: bytes, count: int, pause: float = 0.0):
        self.chunk, self.count, self.pause, self.sent = chunk, count, pause, 0

    def __iter__(self):
        for _ in range(self.count):
            time.sleep(self.pause)
            self.sent += len(self.chunk)
            yield self.chunk


def test_a_trickling_registry_fails_in_bounded_time_and_is_retried():
    calls = []

    def handler(request):
        calls.append(request.url.path)
        return httpx.Response(200, content=Body(b"{", 60, pause=0.05))  # 3 s if read to the end

    started = time.monotonic()
    with pytest.raises(RegistryError) as caught:
        api.get_manifest(connect(handler), "t/app", "1")
    assert time.monotonic() - started < 2.0
    assert caught.value.temporary and len(calls) == 2  # S2I's one retry policy, then the error
    line = caught.value.one_line()
    assert "registry.test stopped answering" in line and "S2I_REGISTRY_TIMEOUT (now 0.3s)" in line


def test_a_big_blob_gets_time_in_proportion_to_what_it_moves(monkeypatch):
    data = b"x" * (256 << 10)
    digest = sha256_digest(data)

    def handler(request):  # 4 x 64 KiB at 0.1 s each: slower than the 0.3 s allowance, faster than MIN_RATE
        return httpx.Response(200, content=Body(data[: 64 << 10], 4, pause=0.1))

    assert api.get_blob(connect(handler, timeout=0.3), "t/app", digest) == data


def test_a_registry_taking_an_upload_too_slowly_is_a_stall(monkeypatch):
    monkeypatch.setattr(api, "READ_SIZE", 1024)
    data = b"z" * 20_000
    taken = []

    class SlowRegistry(httpx.BaseTransport):  # MockTransport would read the whole body before its handler
        def handle_request(self, request):
            for chunk in request.stream:  # 1 KiB every 0.1 s: 2 s for the whole blob
                taken.append(len(chunk))
                time.sleep(0.1)
            return httpx.Response(201)

    registry = Registry(HOST, RegistryOptions(transport=SlowRegistry(), backoff=0.0, timeout=0.3))
    started = time.monotonic()
    with pytest.raises(RegistryError) as caught:
        api.upload_monolithic(registry, "t/app", "/v2/t/app/blobs/uploads/1", sha256_digest(data), len(data), BytesBlob(data).open())
    assert time.monotonic() - started < 1.0 and sum(taken) < len(data)
    assert caught.value.temporary and "stopped answering" in caught.value.message


def test_a_huge_manifest_is_cut_at_the_cap_not_read_whole():
    body = Body(b"x" * (1 << 20), 64)

    def handler(request):
        return httpx.Response(200, content=body, headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})

    with pytest.raises(RegistryError) as caught:
        api.get_manifest(connect(handler, timeout=30), "t/app", "1")
    assert "sent an answer larger than 4096 KiB" in caught.value.one_line()
    assert not caught.value.temporary and body.sent <= 5 << 20


def test_a_compressed_manifest_is_refused_so_it_cannot_inflate():
    def handler(request):
        assert request.headers["accept-encoding"] == "identity"
        return httpx.Response(200, content=gzip.compress(MANIFEST), headers={"Content-Encoding": "gzip"})

    with pytest.raises(RegistryError) as caught:
        api.get_manifest(connect(handler), "t/app", "1")
    assert "gzip-compressed answer" in caught.value.one_line()


def test_a_huge_error_body_becomes_one_short_clean_line():
    body = Body(b'{"errors": [{"code": "DENIED", "message": "\x1b[31m' + b"A" * (1 << 20), 8)

    def handler(request):
        message = "\x1b]0;owned\x07" + "B" * 5000
        if request.url.path.endswith("/2"):
            return httpx.Response(400, json={"errors": [{"code": "DENIED", "message": message}]})
        return httpx.Response(500, content=body)

    registry = connect(handler, retries=1)
    with pytest.raises(RegistryError) as first:
        api.get_manifest(registry, "t/app", "1")
    assert body.sent == len(body.chunk) and first.value.one_line().endswith("HTTP 500 Internal Server Error")
    with pytest.raises(RegistryError) as second:
        api.get_manifest(registry, "t/app", "2")
    line = second.value.one_line()
    assert "\x1b" not in line and "\x07" not in line and len(line) < 500 and "DENIED:  ]0;owned BBB" in line


def test_an_error_echoing_the_credentials_does_not_print_them():
    def handler(request):
        sent = request.headers.get("authorization")
        if not sent:
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        return httpx.Response(400, json={"errors": [{"code": "X", "message": f"bad header {sent} for {PASSWORD}"}]})

    registry = connect(handler, credentials=Credentials("alice", PASSWORD))
    with pytest.raises(RegistryError) as caught:
        api.get_manifest(registry, "t/app", "1")
    basic = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    for text in (caught.value.one_line(), str(caught.value)):
        assert PASSWORD not in text and basic not in text and "bad header Basic *** for ***" in text


def bearer_registry(token_reply, realm="https://auth.test/token", seen=None):
    def handler(request):
        if seen is not None:
            seen.append(request)
        if request.url.host == "auth.test":
            return token_reply()
        if request.headers.get("authorization") == "Bearer good":
            return httpx.Response(200, content=MANIFEST)
        return httpx.Response(401, headers={"WWW-Authenticate": f'Bearer realm="{realm}",service="s"'})

    return handler


@pytest.mark.parametrize("reply, message", [
    (lambda: httpx.Response(200, content=b"\x89PNG garbage"), "returned no token"),
    (lambda: httpx.Response(200, json=["token"]), "returned no token"),
    (lambda: httpx.Response(200, json={"token": "abc\r\nX-Evil: 1"}), "a token that cannot go in a header"),
    (lambda: httpx.Response(200, content=Body(b'{"token": "' + b"a" * (1 << 20), 8)), "larger than 4096 KiB"),
])
def test_a_token_server_answering_garbage_is_one_line(reply, message):
    with pytest.raises(RegistryError) as caught:
        api.get_manifest(connect(bearer_registry(reply)), "t/app", "1")
    line = caught.value.one_line()
    assert message in line and "\n" not in line and not caught.value.temporary


def test_credentials_never_go_to_a_plain_http_or_odd_token_realm():
    seen = []
    good = lambda: httpx.Response(200, json={"token": "good"})  # noqa: E731
    registry = connect(bearer_registry(good, "http://auth.test/token", seen), credentials=Credentials("alice", PASSWORD))
    with pytest.raises(AuthError) as caught:
        api.get_manifest(registry, "t/app", "1")
    assert "over plain HTTP" in caught.value.one_line()
    assert not [r for r in seen if r.url.host == "auth.test"]
    with pytest.raises(AuthError) as odd:
        api.get_manifest(connect(bearer_registry(good, "file:///etc/passwd")), "t/app", "1")
    assert "unusable token server 'file:///etc/passwd'" in odd.value.one_line()
    anonymous = connect(bearer_registry(good, "http://auth.test/token"))  # nothing secret to send
    assert api.get_manifest(anonymous, "t/app", "1")[0] == MANIFEST


def test_retry_after_as_an_http_date_is_honoured():
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3.5 <= delay(0, 0.5, when) <= 5.0
    assert delay(0, 0.5, "Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: go now
    assert delay(1, 0.5, "soon") == 1.0  # unreadable: our own backoff


def test_a_failing_upload_session_is_retried_once_per_attempt_not_squared():
    fake = FakeRegistry()

    def handler(request):
        if request.method == "POST":
            fake.log.append(("POST", str(request.url)))
            return httpx.Response(503)
        return fake.handle(request)

    registry = connect(handler, retries=3)
    data = b"layer"
    with pytest.raises(RegistryError):
        ensure_blob(registry, "t/app", Descriptor(OCI_LAYER_GZIP, sha256_digest(data), len(data)), BytesBlob(data))
    assert len(fake.requests("POST")) == 3


def test_a_download_dropped_mid_copy_is_blamed_on_its_source_and_retried():
    source, target = FakeRegistry(), FakeRegistry()
    data = b"y" * 5000
    push_image(connect(source.handle, "source.test"), parse_reference("source.test/t/app:1"), image_with(data))
    drops = [2]

    def flaky(request):
        response = source.handle(request)
        if request.method == "GET" and "/blobs/" in request.url.path and drops[0] > 0:
            drops[0] -= 1

            def broken():
                yield response.content[:100]
                raise httpx.ReadError("connection reset by peer")

            return httpx.Response(200, content=broken())
        return response

    blob = RemoteBlob(connect(flaky, "source.test", retries=3), "t/app", sha256_digest(data), len(data))
    descriptor = Descriptor(OCI_LAYER_GZIP, sha256_digest(data), len(data))
    result = ensure_blob(connect(target.handle, "target.test", retries=3), "t/copy", descriptor, blob)
    assert result.outcome == "uploaded" and target.blobs[descriptor.digest] == data
    drops[0] = 5
    with pytest.raises(RegistryError) as caught:
        ensure_blob(connect(target.handle, "target.test", retries=2), "t/copy2", descriptor, blob)
    assert "reading blob" in caught.value.message and "from source.test/t/app: lost the connection to source.test" in caught.value.message


def test_one_failed_blob_starts_no_further_uploads():
    fake = FakeRegistry()
    first = sha256_digest(b"bad")

    def handler(request):
        if first in str(request.url):
            return httpx.Response(400, json={"errors": [{"code": "DENIED", "message": "no"}]})
        return fake.handle(request)

    with pytest.raises(RegistryError):
        push_image(connect(handler), parse_reference(f"{HOST}/t/app:1"), image_with(b"bad", b"two", b"three"), jobs=1)
    assert fake.log == []  # the first blob's HEAD failed; the others were never asked about
