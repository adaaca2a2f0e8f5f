"""Flags for CI pipelines: -q/-v, more tags, --digest-file, S2I_REPO's default destination, --json's schema."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import click

from s2i.errors import UsageError

JSON_SCHEMA = 1  # bump when a --json field changes meaning or goes away; new fields keep it
_NOT_NAME = re.compile(r"[^a-z0-9]+")


def with_schema(result: dict | list, key: str = "items") -> dict:
    """What --json prints: the result with its schema version; a list goes under `key`."""
    return {"schema": JSON_SCHEMA, **(result if isinstance(result, dict) else {key: result})}


def repository_name(directory: str) -> str:
    """A directory's name as one repository component: `My_App v2` -> `my-app-v2`; nothing usable -> `app`."""
    ascii_name = unicodedata.normalize("NFKD", directory).encode("ascii", "ignore").decode().lower()
    return _NOT_NAME.sub("-", ascii_name).strip("-")[:64].strip("-") or "app"


def repo_destination(app: Path, env: dict[str, str]) -> str | None:
    """S2I_REPO/<app's name>, when S2I_REPO (a registry prefix such as reg.example.com/team) is set."""
    prefix = env.get("S2I_REPO", "").strip().rstrip("/")
    if not prefix:
        return None
    from s2i.oci.reference import parse_reference

    destination = f"{prefix}/{repository_name(app.resolve().name)}"
    try:
        reference = parse_reference(destination)
    except UsageError:
        reference = None
    if reference is None or reference.tag != "latest" or reference.digest or ":" in destination.rsplit("/", 1)[-1]:
        raise UsageError(f"S2I_REPO={prefix!r} is not a repository prefix", "set it to host[:port]/path, e.g. registry.example.com/team")
    return destination


def _set_verbosity(level: int):
    def callback(ctx, param, value):
        from s2i.progress import NORMAL, set_verbosity, verbosity

        if value:
            if verbosity() not in (NORMAL, level):
                raise UsageError("-q and -v do not go together", "give one of them")
            set_verbosity(level)
        return value

    return callback


def output_options(command):
    """-q hides progress and build output (errors and warnings stay); -v adds detail and a bug's traceback."""
    command = click.option("-v", "--verbose", is_flag=True, expose_value=False, callback=_set_verbosity(1),
                           help="More detail: each blob pushed, the build's env, tracebacks.")(command)
    return click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_set_verbosity(-1),
                        help="Only the result on stdout, and errors and warnings on stderr.")(command)


def check_creatable(ctx, param, value: Path | None) -> Path | None:
    """Callback: a file s2i writes at the end (its missing directories made then, as CI steps expect) is checked now."""
    if value is None:
        return value
    existing = next(parent for parent in value.absolute().parents if parent.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{param.opts[-1]} {value}: cannot create it in {existing}", "write it somewhere you can")
    return value


def publish_options(command):
    """--tag and --digest-file, for every command that writes an image."""
    from s2i.cli.options import GivenPath

    command = click.option("--digest-file", type=GivenPath(dir_okay=False, path_type=Path), callback=check_creatable,
                           help="Write the image's digest (sha256:...) to this file, atomically, once it is written.")(command)
    return click.option("--tag", "tags", multiple=True, metavar="TAG",
                        help="Also tag the pushed image TAG in the destination's repository (repeatable; all name one manifest).")(command)


def finish(published, digest_file: Path | None) -> None:
    """After a write: the digest file, and with -v what each blob did and the tags set."""
    from s2i.progress import detail

    for blob in published.blobs:
        detail(f"blob {blob.digest} ({blob.size} bytes): {blob.outcome}")
    for tag in published.tags:
        detail(f"tagged {tag}")
    if digest_file is not None:
        from s2i.files import atomic_write

        atomic_write(digest_file, published.digest.encode())
