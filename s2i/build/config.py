"""The app's own settings: `s2i.toml` in its source, overridden by command-line flags; every value checked."""

from __future__ import annotations

import difflib
import re
import shlex
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from s2i.build.source import read_app_file
from s2i.errors import UsageError

KNOWN_KEYS = ("run-image", "stack", "entrypoint", "cmd", "env", "ports", "user", "include", "exclude", "process", "read-only-app", "build")
ENV_NAME = re.compile(r"[^\s=\x00-\x1f\x7f]+")
PORT = re.compile(r"(\d{1,5})(?:/(tcp|udp|sctp))?", re.IGNORECASE)
USER_PART = r"(?:\d{1,10}|[A-Za-z_][A-Za-z0-9_.-]{0,31})"
USER = re.compile(f"{USER_PART}(?::{USER_PART})?")
PROCESS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class AppConfig:
    run_image: str | None = None
    stack: str | None = None
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()
    ports: tuple[str, ...] = ()
    user: str | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    process: str | None = None  # the Procfile process to run instead of web:
    read_only_app: bool | None = None  # True: /app stays root's, the run user cannot write beside the code
    build_env: tuple[tuple[str, str], ...] = ()
    settings: dict = field(default_factory=dict, hash=False)  # buildpack-specific: main, program, ...


def _command(value, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return tuple(shlex.split(value))  # as the --entrypoint flag splits it
        except ValueError as exc:
            raise UsageError(f"{where}: cannot split {value!r}: {exc}", "check the quotes, or write a list of strings") from None
    return _strings(value, where, '["/app/server", "--flag"]', empty_ok=True)


def _strings(value, where: str, example: str, empty_ok: bool = False) -> tuple[str, ...]:
    if isinstance(value, list) and all(isinstance(v, str) and (v or empty_ok) for v in value):
        return tuple(value)
    raise UsageError(f"{where} must be a list of strings", f"write it as {where.rpartition(' ')[2]} = {example}")


def _text(value, where: str) -> str | None:
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    raise UsageError(f"{where} must be a non-empty string", f'write it as {where.rpartition(" ")[2]} = "..."')


def env_name(key: str, where: str) -> str:
    if not ENV_NAME.fullmatch(key):
        raise UsageError(f"{where}: {key!r} is not an environment variable name", "use letters, digits and _, e.g. API_URL")
    return key


def env_table(value, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise UsageError(f"{where} must be a table", f'write it as {where.rpartition(" ")[2]} = {{ KEY = "value" }}')
    for key, item in value.items():
        env_name(key, where)
        if not isinstance(item, str) or "\0" in item:
            raise UsageError(f"{where}.{key} must be a string", f'quote it: {key} = "{item}"')
    return tuple(sorted(value.items()))


def parse_port(value, where: str) -> str:
    """8080, "8080" or "53/udp": a port from 1 to 65535 and an optional protocol."""
    match = PORT.fullmatch(value) if isinstance(value, str) else None
    number = value if isinstance(value, int) and not isinstance(value, bool) else int(match.group(1)) if match else 0
    if not 1 <= number <= 65535:
        raise UsageError(f"{where}: {value!r} is not a port", "use a number from 1 to 65535, optionally /tcp or /udp: 8080, 53/udp")
    return value.lower() if isinstance(value, str) else str(value)


def parse_user(value, where: str) -> str:
    """A user name or uid, optionally :group or :gid."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**32:
        return str(value)
    if isinstance(value, str) and USER.fullmatch(value):
        return value
    raise UsageError(f"{where}: {value!r} is not a user", 'write a name or uid, optionally with :group or :gid: "65532", "app", "1000:1000"')


def parse_process(value, where: str) -> str:
    """A Procfile process name: web, worker, release, ..."""
    if isinstance(value, str) and PROCESS.fullmatch(value):
        return value
    raise UsageError(f"{where}: {value!r} is not a Procfile process name", 'name a line of the Procfile, e.g. "worker"')


def _flag(value, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise UsageError(f"{where} must be true or false", f"write it as {where.rpartition(' ')[2]} = true")


def load_app_config(app: Path) -> AppConfig:
    path = app / "s2i.toml"
    text = read_app_file(app, "s2i.toml")
    if text is None:
        return AppConfig()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: {exc}", "fix the TOML syntax") from None
    for key in data:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            raise UsageError(f"{path}: unknown setting {key!r}", f"did you mean {close[0]!r}?" if close else f"known: {', '.join(KNOWN_KEYS)}")
    build = data.get("build", {})
    if not isinstance(build, dict):
        raise UsageError(f"{path}: build must be a table", "write it as a [build] section")
    build = dict(build)
    at = f"{path}:"
    return AppConfig(
        run_image=_text(data.get("run-image"), f"{at} run-image"),
        stack=_text(data.get("stack"), f"{at} stack"),
        entrypoint=_command(data.get("entrypoint"), f"{at} entrypoint"),
        cmd=_command(data.get("cmd"), f"{at} cmd"),
        env=env_table(data.get("env", {}), f"{at} env"),
        ports=tuple(parse_port(p, f"{at} ports") for p in _list(data.get("ports", []), f"{at} ports", "[8080]")),
        user=parse_user(data["user"], f"{at} user") if "user" in data else None,
        include=_strings(data.get("include", []), f"{at} include", '["src/**", "Makefile"]'),
        exclude=_strings(data.get("exclude", []), f"{at} exclude", '["secret.txt", "tests/"]'),
        process=parse_process(data["process"], f"{at} process") if "process" in data else None,
        read_only_app=_flag(data.get("read-only-app"), f"{at} read-only-app"),
        build_env=env_table(build.pop("env", {}), f"{at} build.env"),
        settings=build,
    )


def _list(value, where: str, example: str) -> list:
    if not isinstance(value, list):
        raise UsageError(f"{where} must be a list", f"write it as {where.rpartition(' ')[2]} = {example}")
    return value


def override(config: AppConfig, flags: AppConfig) -> AppConfig:
    """Flags win: any flag given replaces the file's value; env entries merge, later winning."""
    changes = {}
    for f in fields(AppConfig):
        value = getattr(flags, f.name)
        if f.name in ("env", "build_env"):
            merged = dict(getattr(config, f.name))
            merged.update(dict(value))
            changes[f.name] = tuple(sorted(merged.items()))
        elif f.name == "settings":
            changes[f.name] = {**config.settings, **value}
        elif value not in (None, ()):
            changes[f.name] = value
    return replace(config, **changes)
