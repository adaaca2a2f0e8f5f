"""Answer a registry's 401 challenges (Basic, or Bearer tokens) and cache the headers per scope."""

from __future__ import annotations

import base64
import logging
import re
import threading
from dataclasses import dataclass, field

import httpx

from s2i.errors import AuthError, RegistryError
from s2i.transports.registry.credentials import Credentials

log = logging.getLogger(__name__)

CLIENT_ID = "s2i"  # OAuth2 token servers ask who is refreshing
LOGIN_HINT = "log in: add it to $REGISTRY_AUTH_FILE or $DOCKER_CONFIG/config.json (default ~/.docker) or pass --username/--password-stdin"
CHECK_HINT = "check the username and password in $REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json (default ~/.docker) or --username/--password-stdin"
REGISTRY_HINT = "check that the address points at an OCI registry"

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # RFC 9110 token characters
_SCHEME = re.compile(rf"\s*({_TOKEN})")
_PARAM = re.compile(rf'[\s,]*({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')
_ESCAPED = re.compile(r"\\(.)")
_TOKEN_VALUE = re.compile(r"[\x21-\x7e]{1,65536}")  # printable ASCII, no spaces: fit for a header


@dataclass(frozen=True)
class Challenge:
    """One `WWW-Authenticate` challenge: a lowercased scheme and its lowercased-name params."""

    scheme: str
    params: dict = field(default_factory=dict)


def parse_challenge(header: str) -> Challenge:
    """Parse the first challenge in `header`; quoted values may hold commas and `\\"`."""
    scheme = _SCHEME.match(header)
    if not scheme:
        raise AuthError(f"unreadable WWW-Authenticate header {header!r}", hint=REGISTRY_HINT)
    params = {}
    position = scheme.end()
    while param := _PARAM.match(header, position):
        name, quoted, bare = param.groups()
        params[name.lower()] = _ESCAPED.sub(r"\1", quoted) if quoted is not None else bare
        position = param.end()
    return Challenge(scheme.group(1).lower(), params)


class Authenticator:
    """One registry's Authorization headers, learnt from its challenges; shared by threads."""

    def __init__(self, client: httpx.Client, credentials: Credentials | None, plain_http: bool = False):
        self._client = client
        self._credentials = credentials
        self._plain_http = plain_http  # may credentials go to an http:// token realm (loopback, --insecure-registry)
        self._lock = threading.Lock()  # guards the two caches below
        self._fetch_lock = threading.Lock()  # one token request at a time, so threads share it
        self._basic = ""  # once a registry asks for Basic, every request carries it
        self._bearer: dict[str, str] = {}  # scope -> "Bearer ..."

    def __repr__(self) -> str:
        return f"Authenticator(user={self._credentials.username if self._credentials else None!r})"

    def redact(self, text: str) -> str:
        """`text` with every secret we hold or sent (password, tokens, Authorization values) starred out."""
        credentials = self._credentials
        with self._lock:
            values = [self._basic.partition(" ")[2], *(v.partition(" ")[2] for v in self._bearer.values())]
        if credentials:
            values += [credentials.password, credentials.identity_token]
        # below 4 characters starring every match would garble the message more than it protects
        for value in sorted((v for v in values if len(v) >= 4), key=len, reverse=True):
            text = text.replace(value, "***")
        return text

    def headers(self, scope: str) -> dict[str, str]:
        """The Authorization header known for `scope`; empty until a challenge taught us one."""
        with self._lock:
            value = self._basic or self._bearer.get(scope, "")
        return {"Authorization": value} if value else {}

    def on_challenge(self, response: httpx.Response, scope: str) -> dict[str, str]:
        """Answer the 401 `response`: the header to retry with, or AuthError if we cannot."""
        challenge = _pick_challenge(response)
        if challenge.scheme == "basic":
            return self._answer_basic(response)
        if challenge.scheme == "bearer":
            return self._answer_bearer(response, challenge, scope)
        message = f"{_host(response)} asks for unsupported {challenge.scheme} authentication"
        raise AuthError(message, hint="use a registry that offers Basic or Bearer auth", status=401)

    def _answer_basic(self, response: httpx.Response) -> dict[str, str]:
        credentials = self._credentials
        if not credentials or not credentials.password:
            raise self._login_required(response)
        pair = f"{credentials.username}:{credentials.password}".encode()
        value = "Basic " + base64.b64encode(pair).decode()
        if _sent_header(response) == value:
            raise self._rejected(response)
        with self._lock:
            self._basic = value
        return {"Authorization": value}

    def _answer_bearer(self, response: httpx.Response, challenge: Challenge, scope: str) -> dict[str, str]:
        with self._fetch_lock:
            with self._lock:
                cached = self._bearer.get(scope, "")
            if cached and cached != _sent_header(response):
                return {"Authorization": cached}  # another thread fetched it while we waited
            if cached and challenge.params.get("error") == "insufficient_scope":
                raise self._denied(response, scope)
            value = "Bearer " + self._fetch_token(response, challenge, scope)
            with self._lock:
                self._bearer[scope] = value
        return {"Authorization": value}

    def _fetch_token(self, response: httpx.Response, challenge: Challenge, scope: str) -> str:
        host = _host(response)
        realm = challenge.params.get("realm")
        if not realm:
            raise AuthError(f"{host} sent a Bearer challenge without a realm", hint=REGISTRY_HINT)
        self._check_realm(host, realm)
        try:
            reply = self._request_token(realm, challenge.params.get("service", ""), scope)
        except httpx.TransportError as exc:
            message = f"fetching a token for {host} from {realm}: {exc}"
            raise RegistryError(message, hint="check the network and try again", temporary=True) from exc
        self._check_token_reply(reply, response)
        log.debug("got a token from %s for scope %r", realm, scope)
        return _token_from(reply, realm)

    def _check_realm(self, host: str, realm: str) -> None:
        """A token realm is an http(s) URL; credentials go over plain HTTP only where the registry itself may."""
        scheme = realm.partition("://")[0].lower()
        if scheme not in ("http", "https"):
            raise AuthError(f"{host} names an unusable token server {realm[:100]!r}", hint=REGISTRY_HINT)
        if scheme == "http" and not self._plain_http and self._credentials:
            message = f"{host} asks for credentials to be sent to {realm[:100]} over plain HTTP"
            raise AuthError(message, hint="refused: the registry should name an https token server")

    def _request_token(self, realm: str, service: str, scope: str) -> httpx.Response:
        """OAuth2 refresh with an identity token, like Docker; else GET with Basic or anonymous."""
        credentials = self._credentials
        if credentials and credentials.identity_token:
            form = {"grant_type": "refresh_token", "refresh_token": credentials.identity_token,
                    "client_id": CLIENT_ID, "service": service, "scope": scope}
            return self._client.post(realm, data={k: v for k, v in form.items() if v})
        params = [("service", service)] if service else []
        params += [("scope", one) for one in scope.split()]
        basic = (credentials.username, credentials.password) if credentials and credentials.password else None
        return self._client.get(realm, params=params, auth=basic)

    def _check_token_reply(self, reply: httpx.Response, response: httpx.Response) -> None:
        refused = {401, 403} | ({400} if self._uses_identity_token() else set())  # OAuth2: invalid_grant
        if reply.status_code in refused:
            raise self._rejected(response)
        if reply.status_code != 200:
            status = reply.status_code
            message = f"the token server for {_host(response)} answered HTTP {status}"
            raise RegistryError(message, hint="try again later", status=status,
                                temporary=status == 429 or status >= 500)

    def _uses_identity_token(self) -> bool:
        return bool(self._credentials and self._credentials.identity_token)

    def _login_required(self, response: httpx.Response) -> AuthError:
        return AuthError(f"authentication required by {_host(response)}", hint=LOGIN_HINT, status=401)

    def _rejected(self, response: httpx.Response) -> AuthError:
        if not self._credentials:
            return self._login_required(response)
        message = f"{_host(response)} rejected the credentials of {self._who()}"
        return AuthError(message, hint=CHECK_HINT, status=401)

    def _denied(self, response: httpx.Response, scope: str) -> AuthError:
        if not self._credentials:
            return self._login_required(response)
        message = f"{_host(response)} denied {self._who()} access to {scope}"
        return AuthError(message, hint="check that this user may push to that repository", status=403)

    def _who(self) -> str:
        username = self._credentials.username if self._credentials else ""
        return f"user {username!r}" if username else "the identity token"


def _pick_challenge(response: httpx.Response) -> Challenge:
    """Prefer Bearer, then Basic, among the response's WWW-Authenticate headers."""
    challenges = [parse_challenge(value) for value in response.headers.get_list("www-authenticate")]
    if not challenges:
        message = f"{_host(response)} answered 401 without a WWW-Authenticate challenge"
        raise AuthError(message, hint=REGISTRY_HINT, status=401)
    by_scheme = {challenge.scheme: challenge for challenge in reversed(challenges)}
    return by_scheme.get("bearer") or by_scheme.get("basic") or challenges[0]


def _token_from(reply: httpx.Response, realm: str) -> str:
    try:
        body = reply.json()
        token = body.get("token") or body.get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token:
        raise AuthError(f"the token server {realm} returned no token", hint=REGISTRY_HINT)
    if not _TOKEN_VALUE.fullmatch(token):
        raise AuthError(f"the token server {realm} returned a token that cannot go in a header", hint=REGISTRY_HINT)
    return token


def _sent_header(response: httpx.Response) -> str:
    return response.request.headers.get("authorization", "")


def _host(response: httpx.Response) -> str:
    url = response.request.url
    return f"{url.host}:{url.port}" if url.port else url.host
