"""One registry host: its URL scheme, connection pool, auth, retries and error translation."""

from __future__ import annotations

import json
import re
import ssl
import threading
from dataclasses import dataclass, field

import httpx

from s2i.errors import AuthError, RegistryError
from s2i.oci.reference import host_name, is_loopback
from s2i.transports.registry.auth import Authenticator
from s2i.transports.registry.credentials import Credentials, lookup
from s2i.transports.registry.limits import BUDGET, Budget, Refused, event_hooks
from s2i.transports.registry.retry import with_retries

RETRY_STATUSES = {429, 500, 502, 503, 504}
DETAIL_LIMIT = 300  # characters of a registry's own error text we repeat
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")  # a registry's text must not drive the terminal

_HINTS = {
    "UNAUTHORIZED": "check your credentials in $REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json (default ~/.docker) or --username/--password-stdin",
    "DENIED": "your account may not access this repository; ask its owner for push rights",
    "NAME_UNKNOWN": "check the repository name",
    "NAME_INVALID": "repository names are lowercase letters, digits and . _ - /",
    "MANIFEST_UNKNOWN": "check the tag or digest exists (s2i inspect)",
    "BLOB_UNKNOWN": "the registry lost a blob; push the image again",
    "MANIFEST_BLOB_UNKNOWN": "a layer is missing from the registry; push the image again",
    "TOOMANYREQUESTS": "the registry is rate-limiting; wait and retry",
    "UNSUPPORTED": "the registry does not support this operation",
}


@dataclass(frozen=True)
class RegistryOptions:
    insecure_hosts: frozenset[str] = frozenset()
    ca_file: str | None = None
    credentials: Credentials | None = None  # from the command line; beats config.json
    retries: int = 5
    backoff: float = 0.5
    timeout: float = 60.0  # seconds: connect, each read or write, and each exchange beyond its bytes (limits.Budget)
    transport: httpx.BaseTransport | None = field(default=None, compare=False)  # tests swap it


def registry_error(response: httpx.Response, action: str, redact=lambda text: text) -> RegistryError:
    """One line from the OCI error body: the registry's code and message, plus how to fix it."""
    codes, messages = [], []
    try:
        for error in json.loads(response.content or b"{}").get("errors") or []:
            codes.append(str(error.get("code", "")))
            messages.append(str(error.get("message", "")) or codes[-1])
    except (ValueError, AttributeError):
        pass
    detail = "; ".join(f"{c}: {m}" if m != c else c for c, m in zip(codes, messages)) or response.reason_phrase
    detail = _UNPRINTABLE.sub(" ", redact(detail))[:DETAIL_LIMIT]
    hint = next((_HINTS[c] for c in codes if c in _HINTS), "")
    if response.status_code in (401, 403) and not hint:
        hint = _HINTS["UNAUTHORIZED"]
    cls = AuthError if response.status_code in (401, 403) else RegistryError
    return cls(
        f"{action}: HTTP {response.status_code} {detail}",
        hint,
        status=response.status_code,
        temporary=response.status_code in RETRY_STATUSES,
        retry_after=response.headers.get("Retry-After"),
    )


class Registry:
    """Requests to one host; picks HTTPS, or plain HTTP for loopback and --insecure-registry hosts."""

    def __init__(self, host: str, options: RegistryOptions = RegistryOptions()):
        self.host = host
        self.api_host = "registry-1.docker.io" if host == "docker.io" else host
        self.options = options
        self.insecure = host in options.insecure_hosts or host_name(host) in options.insecure_hosts
        self.client = httpx.Client(
            verify=self._verify(),
            timeout=httpx.Timeout(options.timeout, connect=min(options.timeout, 10.0)),
            transport=options.transport,
            follow_redirects=True,
            headers={"Accept-Encoding": "identity"},  # so a capped answer cannot inflate past its cap
            event_hooks=event_hooks(options.timeout),
        )
        credentials = options.credentials or lookup(host)
        self.auth = Authenticator(self.client, credentials, plain_http=self.may_use_http)
        self._base_url: str | None = None
        self._lock = threading.Lock()

    def _verify(self):
        if self.insecure:
            return False
        if self.options.ca_file:
            return ssl.create_default_context(cafile=self.options.ca_file)
        return True  # httpx honours SSL_CERT_FILE

    @property
    def may_use_http(self) -> bool:
        return self.insecure or is_loopback(self.host)

    @property
    def base_url(self) -> str:
        """HTTPS first; loopback and insecure hosts fall back to HTTP when HTTPS does not answer."""
        with self._lock:
            if self._base_url is None:
                self._base_url = self._probe_scheme()
            return self._base_url

    def _probe_scheme(self) -> str:
        https = f"https://{self.api_host}"
        if not self.may_use_http:
            return https
        try:
            self.client.get(f"{https}/v2/")
            return https
        except httpx.TransportError:
            return f"http://{self.api_host}"

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def request(
        self,
        method: str,
        path: str,
        *,
        scope: str,
        action: str,
        ok: tuple[int, ...] = (200,),
        retry: bool = True,
        stream: bool = False,
        **kwargs,
    ) -> httpx.Response:
        """Send with auth; answer one 401 challenge; retry 429/5xx/dropped connections with backoff."""
        attempts = self.options.retries if retry else 1
        return with_retries(attempts, self.options.backoff, lambda: self._request_once(method, path, scope, action, ok, stream, kwargs), self.host)

    def _request_once(self, method: str, path: str, scope: str, action: str, ok: tuple[int, ...], stream: bool, kwargs: dict) -> httpx.Response:
        try:
            response = self._send_authorised(method, path, scope, stream, kwargs)
        except httpx.TransportError as exc:
            raise self.transport_error(exc, action) from None
        except Refused as exc:
            raise RegistryError(f"{action}: {exc}", "check that the address points at an OCI registry") from None
        if response.status_code in ok:
            return response
        if stream:
            response.read()
        # a hostile registry may echo our Authorization header back in its error text
        raise registry_error(response, action, self.auth.redact)

    def transport_error(self, exc: httpx.TransportError, action: str) -> RegistryError:
        """A dropped, refused or stalled connection as a temporary error, so the retry policy sees it."""
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            message, hint = f"cannot reach {self.host}: {exc}", "check the registry is running and the address is right"
        elif isinstance(exc, httpx.TimeoutException):
            message = f"{self.host} stopped answering ({exc or 'timed out'})"
            hint = f"the registry hangs or is too slow; try again later, or raise S2I_REGISTRY_TIMEOUT (now {self.options.timeout:g}s)"
        else:
            message, hint = f"lost the connection to {self.host}: {exc}", "check the registry and the network, then push again"
        return RegistryError(self.auth.redact(f"{action}: {message}"), hint, temporary=True)

    def _send_authorised(self, method: str, path: str, scope: str, stream: bool, kwargs: dict) -> httpx.Response:
        url = self.url(path)
        headers = kwargs.get("headers") or {}
        rest = {key: value for key, value in kwargs.items() if key != "headers"}
        response = self._send(method, url, {**headers, **self.auth.headers(scope)}, stream, rest)
        if response.status_code == 401 and "www-authenticate" in response.headers:
            if stream:
                response.read()
            challenge_headers = self.auth.on_challenge(response, scope)
            response = self._send(method, url, {**headers, **challenge_headers}, stream, rest)
            if response.status_code == 401 and "www-authenticate" in response.headers:
                self.auth.on_challenge(response, scope)  # raises, naming the rejected user
        return response

    def _send(self, method: str, url: str, headers: dict, stream: bool, kwargs: dict) -> httpx.Response:
        # a streamed answer (a blob) is read piecewise by the caller, so only its pace is bounded
        extensions = {BUDGET: Budget(self.options.timeout, cap=None)} if stream else None
        request = self.client.build_request(method, url, headers=headers, extensions=extensions, **kwargs)
        return self.client.send(request, stream=stream)

    def close(self) -> None:
        self.client.close()


class Registries:
    """One Registry per host for a whole command, so connections and tokens are shared."""

    def __init__(self, options: RegistryOptions = RegistryOptions()):
        self.options = options
        self._by_host: dict[str, Registry] = {}
        self._lock = threading.Lock()

    def get(self, host: str) -> Registry:
        with self._lock:
            if host not in self._by_host:
                self._by_host[host] = Registry(host, self.options)
            return self._by_host[host]

    def close(self) -> None:
        for registry in self._by_host.values():
            registry.close()

