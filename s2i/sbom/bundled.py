"""The Debian packages a C program's bundled libraries came from, recorded in its libs layer as dpkg status.d entries.

Resolved on the host from the builder's dpkg database (info/*.list and status, read as data): a bundled file is
attributed to a package only when its bytes equal the builder's file at the same path, so a project's own
library (under /usr/lib, built from the app) is never listed as a Debian package. syft and trivy read
status.d (distroless images carry it), and so does s2i's own scan.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from s2i.files import open_regular, resolve_in
from s2i.progress import log
from s2i.stack.rootfs import dpkg_file_lists
from s2i.store import remove_tree

STATUS_D = ("var", "lib", "dpkg", "status.d")
MERGED = ("bin", "sbin", "lib", "lib64")  # merged-/usr: /lib/x is /usr/lib/x, and dpkg lists either spelling
DROPPED_FIELDS = ("Conffiles", "Config-Version")  # about files the image does not hold


def merged_path(path: str) -> str:
    """The /usr spelling of an absolute path, the one key both ldd's and dpkg's spellings share."""
    first = path.lstrip("/").split("/", 1)[0]
    return "/usr" + path if first in MERGED else path


def list_owners(lists: dict[str, str], wanted: set[str]) -> dict[str, str]:
    """merged path -> package (arch-qualified as its list file is named) for the `wanted` paths, from info/*.list texts."""
    owners: dict[str, str] = {}
    for package, text in sorted(lists.items()):
        for line in text.splitlines():
            if merged_path(line) in wanted:
                owners.setdefault(merged_path(line), package)
    return owners


def status_stanzas(status: str) -> dict[str, str]:
    """package -> its installed stanza (keyed by name and name:arch), without fields about conffiles."""
    stanzas: dict[str, str] = {}
    for block in status.split("\n\n"):
        kept, skipping, fields = [], False, {}
        for line in block.strip("\n").splitlines():
            if not line.startswith((" ", "\t")):
                name, _, value = line.partition(":")
                skipping = name in DROPPED_FIELDS
                fields[name] = value.strip()
            if not skipping:
                kept.append(line)
        name, arch = fields.get("Package", ""), fields.get("Architecture", "")
        if name and fields.get("Status", "").endswith(" installed"):
            text = "\n".join(kept) + "\n"
            stanzas[f"{name}:{arch}"] = text
            stanzas.setdefault(name, text)
    return stanzas


def status_entries(found: dict[str, list[tuple[str, str]]], stanzas: dict[str, str]) -> dict[str, str]:
    """status.d file name -> text: each package's stanza and a <name>.md5sums of the files the layer holds of it."""
    entries = {}
    for package, files in sorted(found.items()):
        stanza = stanzas.get(package) or stanzas.get(package.split(":")[0])
        if stanza is None:
            continue  # listed but not installed: nothing true to record
        name = package.split(":")[0]
        entries[name] = stanza
        entries[f"{name}.md5sums"] = "".join(f"{md5}  {path.lstrip('/')}\n" for path, md5 in sorted(files))
    return entries


def _digests(fd: int) -> tuple[str, str]:
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with os.fdopen(fd, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
            md5.update(chunk)
    return sha.hexdigest(), md5.hexdigest()


def _builder_file(builder: Path, path: str) -> str | None:
    """The sha256 of the regular file `path` leads to in the builder (links followed as a chroot would), else None."""
    try:
        resolved = resolve_in(str(builder), path.strip("/").split("/"))
        return _digests(open_regular(os.path.join(builder, *resolved)))[0]
    except OSError:
        return None


def layer_files(layer: Path) -> dict[str, str]:
    """image path -> host path of the layer's files (os.walk never enters a linked directory)."""
    found = {}
    for directory, dirs, files in os.walk(layer):
        dirs.sort()
        for name in files:
            found["/" + os.path.relpath(os.path.join(directory, name), layer)] = os.path.join(directory, name)
    return found


def bundled_packages(files: dict[str, str], builder: Path, owners: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """package -> [(image path, md5)] of the files that are byte for byte the builder's packaged file at their path."""
    found: dict[str, list[tuple[str, str]]] = {}
    for path, host_path in sorted(files.items()):
        package = owners.get(merged_path(path))
        if package is None:
            continue
        try:
            sha, md5 = _digests(open_regular(host_path))
        except OSError:
            continue  # a link or special file: not a copy of the package's file
        if sha == _builder_file(builder, path):
            found.setdefault(package, []).append((path, md5))
    return found


def _fresh_status_d(layer: Path) -> Path:
    """An empty var/lib/dpkg/status.d of real directories: whatever the build left there (links too) is removed first."""
    path = layer
    for part in STATUS_D:
        path = path / part
        if path.is_symlink() or (os.path.lexists(path) and not path.is_dir()) or part == STATUS_D[-1]:
            remove_tree(path)
        path.mkdir(exist_ok=True)
    return path


def record_bundled(layer: Path, builder: Path) -> list[str]:
    """Write status.d entries for the Debian packages the layer's files came from; their names."""
    if os.path.lexists(layer / "var"):
        _fresh_status_d(layer)  # only s2i's own record is kept there
    files = layer_files(layer)
    found = bundled_packages(files, builder, list_owners(dpkg_file_lists(builder), {merged_path(p) for p in files})) if files else {}
    status = builder / "var/lib/dpkg/status"
    entries = status_entries(found, status_stanzas(status.read_text(errors="replace"))) if found else {}
    if entries:
        status_d = _fresh_status_d(layer)
        for name, text in entries.items():
            (status_d / name).write_text(text)
        log(f"bundled files of Debian packages (recorded in /{'/'.join(STATUS_D)}): {' '.join(n for n in entries if not n.endswith('.md5sums'))}")
    return sorted(name for name in entries if not name.endswith(".md5sums"))
