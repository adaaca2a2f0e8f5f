"""The app's own settings: `s2i.toml` in its source, overridden by command-line flags; every value checked."""

from __future__ import annotations

import difflib
import re
import shlex
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from s2i.build.source import read_app_file, resolve_inside
from s2i.buildpacks import all_buildpacks
from s2i.errors import UsageError
from s2i.stack.packages import check_name

KNOWN_KEYS = ("run-image", "stack", "entrypoint", "cmd", "env", "ports", "user", "include", "exclude", "process", "read-only-app", "build",
              "run", "buildpack")
RUN_KEYS = ("packages",)
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
    buildpack: str | None = None
    build_packages: tuple[str, ...] = ()  # Debian packages added to the builder for this build
    run_packages: tuple[str, ...] = ()  # Debian packages extracted onto the run image, as their own layer
    build_commands: tuple[str | tuple[str, ...], ...] = ()  # a string runs under sh -c, a list as argv
    platforms: tuple[str, ...] = ()  # os/arch to build for: an image each, and their index (see s2i.build.platforms)
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
    run = _run_table(data.get("run", {}), f"{at} run")
    return AppConfig(
        run_image=_text(data.get("run-image"), f"{at} run-image"),
        stack=_stack_file(app, _text(data.get("stack"), f"{at} stack"), f"{at} stack"),
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
        buildpack=buildpack_name(data.get("buildpack"), f"{at} buildpack"),
        build_packages=package_names(build.pop("packages", []), f"{at} build.packages"),
        run_packages=package_names(run.get("packages", []), f"{at} run.packages"),
        build_commands=_commands(build.pop("commands", []), f"{at} build.commands"),
        platforms=_strings(build.pop("platforms", []), f"{at} build.platforms", '["linux/amd64", "linux/arm64"]'),
        settings=build,
    )


def _run_table(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise UsageError(f"{where} must be a table", "write it as a [run] section")
    for key in value:
        if key not in RUN_KEYS:
            close = difflib.get_close_matches(key, RUN_KEYS, n=1)
            raise UsageError(f"{where}: unknown setting run.{key}", f"did you mean {close[0]!r}?" if close else f"known: {', '.join(RUN_KEYS)}")
    return value


def buildpack_name(value, where: str) -> str | None:
    known = [buildpack.name for buildpack in all_buildpacks()]
    if value is None or value in known:
        return value
    close = difflib.get_close_matches(str(value), known, n=1)
    raise UsageError(f"{where}: no buildpack named {value!r}", f"did you mean {close[0]!r}?" if close else f"use one of: {', '.join(known)}")


def package_names(value, where: str) -> tuple[str, ...]:
    """Debian package names, each once, in the order given."""
    names = _strings(value, where, '["libpq-dev"]')
    return tuple(dict.fromkeys(check_name(name, where) for name in names))


def _commands(value, where: str) -> tuple[str | tuple[str, ...], ...]:
    """Each a command string (run by sh -c) or an argv list; handed to the sandbox as data, never pasted into a script."""
    commands = []
    for item in _list(value, where, '["python manage.py compilemessages", ["make", "assets"]]'):
        if isinstance(item, str) and item.strip() and "\0" not in item:
            commands.append(item)
        elif isinstance(item, list) and item and all(isinstance(word, str) and word and "\0" not in word for word in item):
            commands.append(tuple(item))
        else:
            raise UsageError(f"{where}: {item!r} is not a command", 'write a string or a list of words: "make assets" or ["make", "assets"]')
    return tuple(commands)


def _stack_file(app: Path, value: str | None, where: str) -> str | None:
    """A stack s2i.toml names by path is a file inside the app (a stack file its platform team handed out), as an absolute path."""
    if value is None or not (value.endswith(".toml") or "/" in value):
        return value
    rel = None if value.startswith("/") else resolve_inside(app, value)
    if rel is None:
        raise UsageError(f"{where} {value!r} is outside the app", "keep the stack file in the app (a relative path), or pass --stack FILE")
    if read_app_file(app, rel) is None:
        raise UsageError(f"{where} {value!r}: there is no such file in the app", "check the path; it is relative to the app directory")
    return str(app.resolve() / rel)


def _list(value, where: str, example: str) -> list:
    if not isinstance(value, list):
        raise UsageError(f"{where} must be a list", f"write it as {where.rpartition(' ')[2]} = {example}")
    return value


def override(config: AppConfig, flags: AppConfig) -> AppConfig:
    """Flags win: any flag given replaces the file's value; env entries merge, later winning; packages add up."""
    changes = {}
    for f in fields(AppConfig):
        value = getattr(flags, f.name)
        if f.name in ("build_packages", "run_packages"):  # flags add to the file's list
            changes[f.name] = tuple(dict.fromkeys((*getattr(config, f.name), *value)))
        elif f.name in ("env", "build_env"):
            merged = dict(getattr(config, f.name))
            merged.update(dict(value))
            changes[f.name] = tuple(sorted(merged.items()))
        elif f.name == "settings":
            changes[f.name] = {**config.settings, **value}
        elif value not in (None, ()):
            changes[f.name] = value
    return replace(config, **changes)
