"""Look up a registry's credentials in Docker's config.json, in the order `docker` uses."""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from s2i.errors import AuthError, UsageError

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
TOKEN_USERNAME = "<token>"  # a helper's way of saying "Secret is an identity token"
HELPER_TIMEOUT_SECONDS = 60
CONFIG_HINT = "fix the file, or set DOCKER_CONFIG (or REGISTRY_AUTH_FILE) to another one"


@dataclass(frozen=True)
class Credentials:
    """A username with a password or an OAuth2 identity token; repr and str hide both."""

    username: str
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)


def default_config_path() -> Path:
    """Docker's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`."""
    directory = os.environ.get("DOCKER_CONFIG")
    return (Path(directory) if directory else Path.home() / ".docker") / "config.json"


def auth_file() -> Path | None:
    """`$REGISTRY_AUTH_FILE`, the auth.json podman, buildah and skopeo use; set but missing is an error."""
    name = os.environ.get("REGISTRY_AUTH_FILE", "")
    if not name:
        return None
    if not os.path.isfile(name):
        raise UsageError(f"REGISTRY_AUTH_FILE={name} is not a file",
                         "point it at the auth.json that `podman login` or `skopeo login` writes, or unset it")
    return Path(name)


def lookup(host: str, config_path: Path | None = None) -> Credentials | None:
    """Credentials for `host` from REGISTRY_AUTH_FILE, then Docker's config.json (or `config_path` alone); None if none."""
    if config_path is None and (path := auth_file()):
        found = lookup_in(host, path)
        if found is not None:
            return found
    return lookup_in(host, config_path or default_config_path())


def lookup_in(host: str, path: Path) -> Credentials | None:
    """Credentials for `host` in one file: credHelpers, then auths, then credsStore; None if none."""
    config = _read_config(path)
    if config is None:
        return None
    helpers = config.get("credHelpers")
    helper_key = _find_key(helpers, host)
    if helper_key and helpers[helper_key]:
        return _ask_helper(helpers[helper_key], server_url(host))
    auths = config.get("auths")
    auth_key = _find_key(auths, host)
    credentials = _from_auth_entry(auths[auth_key], host, path) if auth_key else None
    if credentials is None and config.get("credsStore"):
        # `docker login` leaves an empty auths entry under the key it gave the store.
        return _ask_helper(config["credsStore"], auth_key or server_url(host))
    return credentials


def server_url(host: str) -> str:
    """The address Docker files `host` under: Docker Hub's v1 URL, else the host itself."""
    return DOCKER_HUB_KEY if _canonical(host) == "docker.io" else host


def _canonical(address: str) -> str:
    """`https://Host:5000/v1/` -> `host:5000`, with Docker Hub's aliases folded into one."""
    name = address.split("://", 1)[-1].split("/", 1)[0].lower()
    return "docker.io" if name in DOCKER_HUB_HOSTS else name


def _find_key(mapping: object, host: str) -> str | None:
    """The key of `mapping` that names `host`: exact first, then by scheme-less hostname."""
    if not isinstance(mapping, dict):
        return None
    for exact in (host, server_url(host)):
        if exact in mapping:
            return exact
    wanted = _canonical(host)
    return next((key for key in mapping if _canonical(key) == wanted), None)


def _read_config(path: Path) -> dict | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuthError(f"cannot read {path}: {exc.strerror}", hint=CONFIG_HINT) from exc
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        # `from None`: the parser's exception keeps the whole file, secrets included.
        message = f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}"
        raise AuthError(message, hint=CONFIG_HINT) from None
    if not isinstance(config, dict):
        raise AuthError(f"{path} is not a JSON object", hint=CONFIG_HINT)
    return config


def _from_auth_entry(entry: object, host: str, path: Path) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    username, password = entry.get("username") or "", entry.get("password") or ""
    if entry.get("auth"):
        username, password = _decode_auth(entry["auth"], host, path)
    token = entry.get("identitytoken") or ""
    if not (username or password or token):
        return None
    return Credentials(username, password, token)


def _decode_auth(value: str, host: str, path: Path) -> tuple[str, str]:
    """Split the base64 "user:password" that `docker login` writes."""
    hint = f"run `docker login {host}` again, or fix the entry in {path}"
    try:
        text = base64.b64decode(value).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        # `from None`: the decoder's exception may carry the secret's bytes.
        raise AuthError(f"the auth entry for {host} in {path} is not valid base64", hint=hint) from None
    username, colon, password = text.partition(":")
    if not colon:
        raise AuthError(f"the auth entry for {host} in {path} has no user:password", hint=hint)
    return username, password.strip("\x00")


def _ask_helper(name: str, server: str) -> Credentials | None:
    """Run `docker-credential-NAME get` with `server` on stdin, as Docker does."""
    program = f"docker-credential-{name}"
    try:
        result = subprocess.run(
            [program, "get"], input=server, capture_output=True, text=True,
            timeout=HELPER_TIMEOUT_SECONDS, check=False,
        )
    except FileNotFoundError:
        hint = f"install {program} or remove it from config.json"
        raise AuthError(f"credential helper {program} is not on PATH", hint=hint) from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        hint = f"check that `{program} get` works, or remove it from config.json"
        raise AuthError(f"cannot run credential helper {program}: {exc}", hint=hint) from None
    if result.returncode != 0:
        return _helper_failed(program, server, result)
    return _parse_helper_reply(program, result.stdout)


def _helper_failed(program: str, server: str, result: subprocess.CompletedProcess) -> None:
    """None for "credentials not found"; any other failure is an error naming the helper."""
    output = (result.stdout + "\n" + result.stderr).strip()
    if "credentials not found" in output.lower():
        return None
    reason = output.splitlines()[0][:200] if output else f"exit status {result.returncode}"
    hint = f"run `echo {server} | {program} get` to see why, or remove it from config.json"
    raise AuthError(f"credential helper {program} failed for {server}: {reason}", hint=hint)


def _parse_helper_reply(program: str, stdout: str) -> Credentials:
    try:
        reply = json.loads(stdout)
        username, secret = reply.get("Username") or "", reply["Secret"]
    except (ValueError, KeyError, TypeError, AttributeError):
        # The output is not shown: it may be the secret itself.
        hint = f"check that `{program} get` prints JSON with Username and Secret"
        raise AuthError(f"credential helper {program} gave an unreadable answer", hint=hint) from None
    if username == TOKEN_USERNAME:
        return Credentials("", identity_token=secret)
    return Credentials(username, password=secret)
