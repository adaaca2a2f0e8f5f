"""Reads what a build left in its output dir as untrusted data: no link it planted is followed, no document is big."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from s2i.errors import S2IError
from s2i.files import NotRegularFile, open_regular, read_limited

MAX_DOCUMENT = 1 << 20
LAUNCH_KEYS = {"entrypoint": list, "cmd": list, "env": dict, "workdir": str, "labels": dict}
META_KEYS = {"labels": dict}


def _refuse(rel: str, what: str = "a symlink") -> S2IError:
    return S2IError(f"the build left {what} at /s2i/out/{rel}: refusing",
                    "a build writes plain files and directories under /s2i/out; check the app's build scripts")


def real_dir(output: Path, rel: str) -> Path | None:
    """`output/rel` when each part below `output` is a plain directory; None when a part is absent."""
    path, done = output, []
    for part in rel.split("/"):
        path, done = path / part, [*done, part]
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return None
        if not stat.S_ISDIR(mode):
            raise _refuse("/".join(done), "a symlink" if stat.S_ISLNK(mode) else "a file where a directory belongs")
    return path


def read_json(output: Path, rel: str) -> dict | None:
    """The JSON object at `output/rel`, or None when the build wrote none."""
    folder, _, name = rel.rpartition("/")
    parent = real_dir(output, folder) if folder else output
    if parent is None:
        return None
    try:
        data = read_limited(open_regular(parent / name), MAX_DOCUMENT)
    except FileNotFoundError:
        return None
    except NotRegularFile:
        raise _refuse(rel, "a symlink or special file") from None
    if data is None:
        raise S2IError(f"the build's /s2i/out/{rel} is larger than {MAX_DOCUMENT >> 20} MiB", "check the app's build scripts")
    try:
        value = json.loads(data)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise S2IError(f"the build's /s2i/out/{rel} is not a JSON object", "check the app's build scripts")
    return value


def _strings(value, kind: type) -> bool:
    if kind is list:
        return all(isinstance(item, str) for item in value)
    if kind is dict:
        return all(isinstance(item, str) for pair in value.items() for item in pair)
    return True


def check_keys(document: dict, rel: str, known: dict[str, type]) -> dict:
    """A launch.json or meta document as the host reads it: known keys, strings only."""
    for key, value in document.items():
        kind = known.get(key)
        if kind is None or not isinstance(value, kind) or not _strings(value, kind):
            raise S2IError(f"the build's /s2i/out/{rel} has a bad {key!r}",
                           f"it may hold {', '.join(known)}: lists of strings, tables of strings, strings")
    return document
