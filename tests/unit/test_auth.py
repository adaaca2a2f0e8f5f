"""Challenge parsing and the Basic, Bearer and OAuth2 flows against MockTransport fakes."""

import base64
import threading
from urllib.parse import parse_qs

import httpx
import pytest

from s2i.errors import AuthError
from s2i.transports.registry.auth import Authenticator, Challenge, parse_challenge
from s2i.transports.registry.credentials import Credentials

REGISTRY = "https://registry.example"
BEARER = 'Bearer realm="https://auth.example/token",service="registry.example"'
SCOPE = "repository:team/app:pull,push repository:base/img:pull"
ALICE = Credentials("alice", "s3cret")


def b64(text):
    return base64.b64encode(text.encode()).decode()


class FakeRegistry:
    """A registry at registry.example whose token server at auth.example grants TOKEN."""

    def __init__(self, challenge=BEARER, accept="Bearer TOKEN", token_reply=None):
        self.challenge = challenge
        self.accept = accept
        self.token_reply = token_reply or httpx.Response(200, json={"token": "TOKEN"})
        self.requests = []
        self.client = httpx.Client(transport=httpx.MockTransport(self.handle))

    def handle(self, request):
        self.requests.append(request)
        if request.url.host == "auth.example":
            return self.token_reply
        if request.headers.get("authorization") == self.accept:
            return httpx.Response(200)
        return httpx.Response(401, headers={"WWW-Authenticate": self.challenge})

    def token_requests(self):
        return [r for r in self.requests if r.url.host == "auth.example"]


def get(fake, auth, scope=SCOPE):
    """What a registry call does: send known headers; on 401 answer the challenge and retry once."""
    response = fake.client.get(f"{REGISTRY}/v2/team/app/manifests/1", headers=auth.headers(scope))
    if response.status_code == 401:
        headers = auth.on_challenge(response, scope)
        response = fake.client.get(f"{REGISTRY}/v2/team/app/manifests/1", headers=headers)
    return response


def assert_no_secrets(error, *secrets):
    for text in (str(error), error.one_line(), repr(error)):
        for secret in secrets:
            assert secret not in text


@pytest.mark.parametrize(("header", "expected"), [
    (BEARER + ',scope="repository:a/b:pull,push"',
     Challenge("bearer", {"realm": "https://auth.example/token", "service": "registry.example",
                          "scope": "repository:a/b:pull,push"})),
    ('Basic realm="Registry Realm"', Challenge("basic", {"realm": "Registry Realm"})),
    ("Basic", Challenge("basic", {})),
    ('BEARER Realm = "r" ,  Service=svc, error="insufficient_scope"',
     Challenge("bearer", {"realm": "r", "service": "svc", "error": "insufficient_scope"})),
    (r'Bearer realm="say \"hi\", twice"', Challenge("bearer", {"realm": 'say "hi", twice'})),
    ('Bearer realm="a",scope=""', Challenge("bearer", {"realm": "a", "scope": ""})),
    ('Basic realm="one", Bearer realm="two"', Challenge("basic", {"realm": "one"})),
])
def test_parse_challenge(header, expected):
    assert parse_challenge(header) == expected


def test_parse_challenge_rejects_empty_header():
    with pytest.raises(AuthError):
        parse_challenge("  ")


def test_bearer_flow_sends_service_scopes_and_basic_creds():
    fake = FakeRegistry()
    auth = Authenticator(fake.client, ALICE)
    assert auth.headers(SCOPE) == {}
    assert get(fake, auth).status_code == 200
    [token_request] = fake.token_requests()
    assert token_request.method == "GET"
    assert token_request.url.path == "/token"
    assert token_request.url.params.get_list("service") == ["registry.example"]
    assert token_request.url.params.get_list("scope") == ["repository:team/app:pull,push", "repository:base/img:pull"]
    assert token_request.headers["authorization"] == "Basic " + b64("alice:s3cret")
    assert fake.requests[-1].headers["authorization"] == "Bearer TOKEN"


def test_bearer_token_is_cached_per_scope():
    fake = FakeRegistry()
    auth = Authenticator(fake.client, ALICE)
    get(fake, auth)
    assert auth.headers(SCOPE) == {"Authorization": "Bearer TOKEN"}
    assert auth.headers("repository:other:pull") == {}
    before = len(fake.requests)
    assert get(fake, auth).status_code == 200
    assert len(fake.requests) == before + 1


def test_anonymous_bearer_sends_no_credentials():
    fake = FakeRegistry()
    assert get(fake, Authenticator(fake.client, None)).status_code == 200
    [token_request] = fake.token_requests()
    assert "authorization" not in token_request.headers


def test_identity_token_uses_oauth2_refresh():
    fake = FakeRegistry(token_reply=httpx.Response(200, json={"access_token": "TOKEN"}))
    auth = Authenticator(fake.client, Credentials("", identity_token="refresh-1"))
    assert get(fake, auth).status_code == 200
    [token_request] = fake.token_requests()
    assert token_request.method == "POST"
    assert "authorization" not in token_request.headers
    assert parse_qs(token_request.content.decode()) == {
        "grant_type": ["refresh_token"], "refresh_token": ["refresh-1"], "client_id": ["s2i"],
        "service": ["registry.example"], "scope": [SCOPE],
    }


def test_wrong_password_at_token_server_hides_secrets():
    fake = FakeRegistry(token_reply=httpx.Response(401, json={"details": "incorrect username or password"}))
    with pytest.raises(AuthError) as caught:
        get(fake, Authenticator(fake.client, ALICE))
    assert "registry.example" in str(caught.value) and "alice" in str(caught.value)
    assert_no_secrets(caught.value, "s3cret", b64("alice:s3cret"), "TOKEN")


def test_expired_identity_token_is_rejected_without_leaking_it():
    fake = FakeRegistry(token_reply=httpx.Response(400, json={"error": "invalid_grant"}))
    with pytest.raises(AuthError) as caught:
        get(fake, Authenticator(fake.client, Credentials("bob", identity_token="refresh-1")))
    assert_no_secrets(caught.value, "refresh-1")


def test_insufficient_scope_with_a_fresh_token_is_denied():
    fake = FakeRegistry(challenge=BEARER + ',error="insufficient_scope"', accept="nothing")
    auth = Authenticator(fake.client, ALICE)
    first = fake.client.get(f"{REGISTRY}/v2/", headers=auth.headers(SCOPE))
    retry = fake.client.get(f"{REGISTRY}/v2/", headers=auth.on_challenge(first, SCOPE))
    with pytest.raises(AuthError, match="denied user 'alice'") as caught:
        auth.on_challenge(retry, SCOPE)
    assert_no_secrets(caught.value, "s3cret", "TOKEN")


def test_threads_share_one_token_fetch():
    fake = FakeRegistry()
    auth = Authenticator(fake.client, ALICE)
    stale = fake.client.get(f"{REGISTRY}/v2/")
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(auth.on_challenge(stale, SCOPE))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [{"Authorization": "Bearer TOKEN"}] * 8
    assert len(fake.token_requests()) == 1


def test_basic_flow_is_then_sent_pre_emptively():
    header = "Basic " + b64("alice:s3cret")
    fake = FakeRegistry(challenge='Basic realm="Registry Realm"', accept=header)
    auth = Authenticator(fake.client, ALICE)
    assert get(fake, auth).status_code == 200
    assert fake.requests[-1].headers["authorization"] == header
    assert auth.headers("repository:any/thing:pull") == {"Authorization": header}


def test_basic_without_credentials_asks_to_log_in():
    fake = FakeRegistry(challenge='Basic realm="r"')
    with pytest.raises(AuthError) as caught:
        get(fake, Authenticator(fake.client, None))
    assert caught.value.message == "authentication required by registry.example"
    assert "--password-stdin" in caught.value.hint


def test_basic_wrong_password_is_rejected_without_leaking_it():
    fake = FakeRegistry(challenge='Basic realm="r"', accept="nothing")
    auth = Authenticator(fake.client, ALICE)
    response = get(fake, auth)
    with pytest.raises(AuthError) as caught:
        auth.on_challenge(response, SCOPE)
    assert "alice" in str(caught.value)
    assert_no_secrets(caught.value, "s3cret", b64("alice:s3cret"))


def test_repr_hides_secrets():
    text = repr(Authenticator(httpx.Client(), ALICE))
    assert "alice" in text and "s3cret" not in text
