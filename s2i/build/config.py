"""The app's own settings: `s2i.toml` in its source, overridden by command-line flags."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from s2i.errors import UsageError

KNOWN_KEYS = {"run-image", "entrypoint", "cmd", "env", "ports", "user", "stack", "include", "exclude", "build"}


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
    build_env: tuple[tuple[str, str], ...] = ()
    settings: dict = field(default_factory=dict, hash=False)  # buildpack-specific: main, program, ...


def _command(value, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise UsageError(f"{where} must be a list of strings", f'write it as {where.split(": ")[-1]} = ["/app/server", "--flag"]')


def _table(value, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise UsageError(f"{where} must be a table", f'write it as {where.split(": ")[-1]} = {{ KEY = "value" }}')
    return tuple(sorted((str(k), str(v)) for k, v in value.items()))


def load_app_config(app: Path) -> AppConfig:
    path = app / "s2i.toml"
    if not path.is_file():
        return AppConfig()
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: {exc}", "fix the TOML syntax") from None
    unknown = sorted(set(data) - KNOWN_KEYS)
    if unknown:
        raise UsageError(f"{path}: unknown setting {unknown[0]!r}", f"known: {', '.join(sorted(KNOWN_KEYS))}")
    build = dict(data.get("build", {}))
    build_env = _table(build.pop("env", {}), f"{path}: build.env")
    return AppConfig(
        run_image=data.get("run-image"),
        stack=data.get("stack"),
        entrypoint=_command(data.get("entrypoint"), f"{path}: entrypoint"),
        cmd=_command(data.get("cmd"), f"{path}: cmd"),
        env=_table(data.get("env", {}), f"{path}: env"),
        ports=tuple(str(p) for p in data.get("ports", [])),
        user=str(data["user"]) if "user" in data else None,
        include=tuple(data.get("include", [])),
        exclude=tuple(data.get("exclude", [])),
        build_env=build_env,
        settings=build,
    )


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
