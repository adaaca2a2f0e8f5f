"""The host's proxy settings as the build sees them, and as the log shows them (never with credentials)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from s2i.oci.reference import LOOPBACK_HOSTS
from s2i.progress import detail, log, warn

PROXY_NAMES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY")
PROXY_VARIABLES = frozenset(name for upper in PROXY_NAMES for name in (upper, upper.lower()))
_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")  # user:password@ after a scheme


def proxy_env(host_env: dict[str, str]) -> dict[str, str]:
    """Both spellings of each proxy variable set on the host (curl reads only http_proxy, others only HTTP_PROXY)."""
    env = {}
    for upper in PROXY_NAMES:
        lower = upper.lower()
        value_upper, value_lower = host_env.get(upper, ""), host_env.get(lower, "")
        if value_upper or value_lower:
            env[upper], env[lower] = value_upper or value_lower, value_lower or value_upper
    return env


def redact(value: str) -> str:
    """`http://user:pass@proxy:3128` -> `http://***@proxy:3128`: a URL's credentials never reach a log."""
    return _USERINFO.sub("***@", value)


def describe(env: dict[str, str]) -> str:
    """One log line of the proxy settings the build gets, credentials hidden."""
    return ", ".join(f"{name}={redact(env[name])}" for name in PROXY_NAMES if name in env)


def unreachable(env: dict[str, str], network: str) -> list[str]:
    """The proxies on this machine's loopback, which a build with its own network namespace cannot reach."""
    if network != "default":
        return []
    found = []
    for name in PROXY_NAMES:
        if name == "NO_PROXY" or name not in env:
            continue
        value = env[name] if "://" in env[name] else f"http://{env[name]}"
        try:
            host = urlsplit(value).hostname or ""
        except ValueError:
            continue
        if host in LOOPBACK_HOSTS or host.startswith("127.") or host == "::1":
            found.append(f"{name}={redact(env[name])}")
    return found


def announce_proxies(env: dict[str, str], network: str) -> None:
    """Say which proxies the build gets, and warn of one it cannot reach; -v shows the whole build env."""
    detail(f"build env: {' '.join(f'{key}={redact(value)}' for key, value in sorted(env.items()))}")
    if text := describe(env):
        log(f"build proxy: {text}")
    for setting in unreachable(env, network):
        warn(f"{setting} is on this machine's loopback, which the build's own network cannot reach "
             "(use --network host to reach it)")
