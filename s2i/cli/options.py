"""Option parsing shared by the commands: KEY=VALUE pairs, command lines, owners, registry flags."""

from __future__ import annotations

import errno
import functools
import os
import re
import shlex
import sys
from pathlib import Path

import click

from s2i.errors import S2IError, UsageError


def key_values(values: tuple[str, ...], flag: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} {value!r} is not KEY=VALUE", f"write it as {flag} KEY=VALUE")
        pairs.append((key, rest))
    return tuple(pairs)


def env_flags(values: tuple[str, ...], flag: str = "--env") -> tuple[tuple[str, str], ...]:
    from s2i.build.config import env_name

    pairs = key_values(values, flag)
    for key, _ in pairs:
        env_name(key, flag)
    return pairs


class GivenPath(click.Path):
    """A path argument that refuses "", which an unset shell variable gives, instead of taking it for "."."""

    def convert(self, value, param, ctx):
        return super().convert(given(ctx, param, value), param, ctx)


def given(ctx, param, value):
    """Callback: a value given as "" (an unset variable, most likely) is a usage error, not the default."""
    if isinstance(value, str) and not value.strip():
        name = param.opts[-1] if param.param_type_name == "option" else param.human_readable_name
        raise UsageError(f"{name} is empty", "an unset variable? give a value, or leave it out")
    return value


def check_output_file(ctx, param, value: Path | None) -> Path | None:
    """Callback: a file s2i will write (--log, --digest-file) must be in a directory that exists and s2i may write to."""
    name = param.opts[-1]
    if value is not None and not value.parent.is_dir():
        raise UsageError(f"{name} {value}: there is no directory {value.parent}", "create it first, or write somewhere else")
    if value is not None and not os.access(value.parent, os.W_OK):
        raise UsageError(f"{name} {value}: cannot write in {value.parent}", "write somewhere you can")
    return value


OS_HINTS = {
    errno.ENOSPC: "free some disk space, then run it again",
    errno.EDQUOT: "free some space under your quota, then run it again",
    errno.ENAMETOOLONG: "use a shorter path",
    errno.EACCES: "check the permissions",
    errno.EROFS: "the filesystem is read-only; use another directory",
}


def os_error(exc: OSError) -> S2IError:
    """An OSError that reached the top (disk full, a path too long, ...) as one line."""
    name = str(exc.filename or "")
    name = name if len(name) <= 120 else f"{name[:60]}...{name[-40:]}"
    message = f"{exc.strerror or exc}{': ' + name if name else ''}"
    return S2IError(message, OS_HINTS.get(exc.errno, ""))


def retries() -> int:
    value = os.environ.get("S2I_RETRIES", "5")
    if not value.isdigit() or int(value) < 1:
        raise UsageError(f"S2I_RETRIES={value!r} is not a positive number", "set it to e.g. 5")
    return int(value)


def registry_timeout() -> float:
    """S2I_REGISTRY_TIMEOUT: seconds a registry may stall (each exchange gets this plus 1 s per 64 KiB moved)."""
    value = os.environ.get("S2I_REGISTRY_TIMEOUT", "60")
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 86400:
        raise UsageError(f"S2I_REGISTRY_TIMEOUT={value!r} is not a number of seconds", "set it to e.g. 60")
    return seconds


def registry_options(command):
    """The flags every command that talks to registries shares."""

    @click.option("--insecure-registry", "insecure", multiple=True, metavar="HOST", help="Allow plain HTTP (and unverified TLS) to HOST.")
    @click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), help="CA bundle for registry TLS (default: SSL_CERT_FILE or system).")
    @click.option("--username", help="Registry user; the password is read from stdin with --password-stdin.")
    @click.option("--password-stdin", is_flag=True, help="Read the registry password from stdin.")
    @click.option("--platform", "platforms", multiple=True, metavar="OS/ARCH[/VARIANT]",
                  help="What to pick from an image index (default linux/amd64); build: each platform to build for (comma list or repeated).")
    @click.option("--jobs", default=4, show_default=True, type=click.IntRange(1, 32), help="Parallel blob transfers.")
    @click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
    @functools.wraps(command)
    def wrapper(*args, insecure, ca_file, username, password_stdin, platforms, jobs, **kwargs):
        credentials = None
        if password_stdin:
            if not username:
                raise UsageError("--password-stdin needs --username", "add --username NAME")
            from s2i.transports.registry.credentials import Credentials

            credentials = Credentials(username, sys.stdin.read().rstrip("\r\n"))
        elif username:
            raise UsageError("--username needs --password-stdin", "pipe the password: echo $PASS | s2i ... --password-stdin")
        from s2i.progress import TransferProgress
        from s2i.transports import Context
        from s2i.transports.registry.client import Registries, RegistryOptions

        options = RegistryOptions(
            insecure_hosts=frozenset(insecure), ca_file=ca_file, credentials=credentials, retries=retries(),
            timeout=registry_timeout(),
        )
        registries = Registries(options)
        progress = TransferProgress()
        context = Context(registries, one_platform(platforms, command.__name__), jobs, progress)
        try:
            return command(*args, context=context, **kwargs)
        finally:
            progress.finish()
            registries.close()

    return wrapper


def one_platform(values: tuple[str, ...], command: str) -> dict:
    """The platform to pick from an index; `build` and `stack build` take several (each reads them from the command line)."""
    from s2i.build.platforms import parse_platforms

    platforms = parse_platforms(values)
    if len(platforms) > 1 and command not in ("build", "stack_build"):
        raise UsageError(f"s2i {command} takes one --platform", "name one, e.g. --platform linux/arm64")
    return platforms[0]


def split_command(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    text = text.strip()
    if text.startswith("["):
        import json

        try:
            return tuple(json.loads(text))
        except ValueError:
            raise UsageError(f"{text!r} is not a JSON list", 'write it as \'["/app", "--flag"]\' or /app --flag') from None
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise UsageError(f"cannot split {text!r}: {exc}", "check the quotes") from None


def parse_owner(text: str) -> tuple[int, int]:
    uid, _, gid = text.partition(":")
    if not uid.isdigit() or (gid and not gid.isdigit()):
        raise UsageError(f"--owner {text!r} is not UID[:GID]", "use numbers, e.g. --owner 65532:65532")
    return int(uid), int(gid or uid)


def parse_layer_arg(text: str) -> tuple[Path, str]:
    """DIR or DIR:/DEST; a colon only splits when a absolute destination follows it."""
    directory, sep, dest = text.rpartition(":")
    if sep and dest.startswith("/") and directory:
        return Path(directory), dest
    return Path(text), "/"


SECRET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
SECRET_HINT = "write it as --secret id=NAME,src=FILE"


def parse_secrets(values: tuple[str, ...]) -> tuple[tuple[str, Path], ...]:
    """--secret id=NAME,src=FILE (or source=): a readable file the build sees at /run/secrets/NAME."""
    secrets: dict[str, Path] = {}
    for value in values:
        fields = dict(part.partition("=")[::2] for part in value.split(","))
        source = fields.pop("src", None) or fields.pop("source", None)
        name = fields.pop("id", "")
        if fields or not source:
            raise UsageError(f"--secret {value!r} is not id=NAME,src=FILE", SECRET_HINT)
        if not SECRET_ID.fullmatch(name):
            raise UsageError(f"--secret id {name!r} is not a plain name", "use letters, digits, '.', '_' and '-', e.g. id=pypi_token")
        if name in secrets:
            raise UsageError(f"--secret id {name!r} is given twice", "give each secret its own id")
        path = Path(source).expanduser()
        if not path.is_file() or not os.access(path, os.R_OK):
            raise UsageError(f"--secret {name}: {source} is not a readable file", "check the path after src=")
        secrets[name] = path.resolve()
    return tuple(secrets.items())
