"""Finds what an image holds by reading its layers as data: dpkg status.d stanzas, dist-info METADATA, Go build info."""

from __future__ import annotations

import posixpath
import re
import tarfile
from dataclasses import dataclass
from email.parser import HeaderParser
from urllib.parse import quote

from s2i.oci.image import Layer
from s2i.sbom.goinfo import read_build_info
from s2i.stack.rootfs import unpack_limit, walk_layer

MAX_METADATA = 1 << 20
MAX_PROGRAM = 256 << 20
STATUS_DIR = "var/lib/dpkg/status.d/"
METADATA = re.compile(r"(?:.*/)?(?:site|dist)-packages/[^/]+\.dist-info/METADATA")
SPDX_EXPRESSION = re.compile(r"[A-Za-z0-9.+-]+(?: (?:AND|OR|WITH) [A-Za-z0-9.+-]+)*")


@dataclass(frozen=True)
class Component:
    kind: str  # deb, pypi, golang
    name: str
    version: str
    purl: str
    license: str = ""  # an SPDX expression as the package declares it, else ""
    where: str = ""  # the file it was found in


def deb_component(stanza: str, where: str) -> Component | None:
    fields = dict(HeaderParser().parsestr(stanza).items())
    name, version, arch = fields.get("Package", ""), fields.get("Version", ""), fields.get("Architecture", "")
    if not name or not version:
        return None
    query = f"?arch={quote(arch, safe='')}" if arch else ""
    return Component("deb", name, version, f"pkg:deb/debian/{quote(name)}@{quote(version, safe='')}{query}", "", where)


def pypi_component(text: str, where: str) -> Component | None:
    fields = HeaderParser().parsestr(text)
    name, version = fields.get("Name", ""), fields.get("Version", "")
    if not name or not version:
        return None
    expression = (fields.get("License-Expression") or "").strip()
    normalised = re.sub(r"[-_.]+", "-", name).lower()
    return Component("pypi", name, version, f"pkg:pypi/{quote(normalised)}@{quote(version, safe='')}",
                     expression if SPDX_EXPRESSION.fullmatch(expression) else "", where)


def go_components(data: bytes, where: str) -> list[Component]:
    build = read_build_info(data)
    if build is None:
        return []
    found = [Component("golang", "stdlib", build.go_version, f"pkg:golang/stdlib@{quote(build.go_version, safe='')}", "BSD-3-Clause", where)]
    for path, version in ([build.main] if build.main[0] else []) + list(build.deps):
        purl = f"pkg:golang/{quote(path, safe='/')}" + (f"@{quote(version, safe='')}" if version and version != "(devel)" else "")
        found.append(Component("golang", path, version, purl, "", where))
    return found


def scan_layer(layer: Layer, look_for_programs: bool) -> list[Component]:
    """The components one layer's files declare; programs are read only when asked (the layers s2i added)."""
    found: list[Component] = []
    for tar, member in walk_layer(layer, unpack_limit()):  # checked to its diff_id: the scan is kept by it
        if member.isreg():
            found += _component_of(tar, member, look_for_programs)
    return found


def unique(components: list[Component]) -> list[Component]:
    kept = {(c.kind, c.name, c.version): c for c in components}
    return sorted(kept.values(), key=lambda c: (c.kind, c.name.lower(), c.version))


def _component_of(tar: tarfile.TarFile, member: tarfile.TarInfo, look_for_programs: bool) -> list[Component]:
    path = posixpath.normpath(member.name.lstrip("./"))
    name = path[len(STATUS_DIR):] if path.startswith(STATUS_DIR) else ""
    if name and "/" not in name and not name.endswith(".md5sums") and member.size <= MAX_METADATA:  # names have dots: libbz2-1.0
        component = deb_component(_read(tar, member), "/" + path)
        return [component] if component else []
    if METADATA.fullmatch(path) and member.size <= MAX_METADATA:
        component = pypi_component(_read(tar, member), "/" + path)
        return [component] if component else []
    if look_for_programs and member.mode & 0o111 and 64 < member.size <= MAX_PROGRAM:
        handle = tar.extractfile(member)
        head = handle.read(4) if handle else b""
        if head == b"\x7fELF":
            return go_components(head + handle.read(), "/" + path)  # whole: build info sits at a 16-byte aligned offset
    return []


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    handle = tar.extractfile(member)
    return handle.read(MAX_METADATA).decode("utf-8", "replace") if handle else ""
