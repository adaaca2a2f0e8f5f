"""The Go version and modules a Go binary records about itself (its build info), read from the file's bytes, never run."""

from __future__ import annotations

from dataclasses import dataclass

MAGIC = b"\xff Go buildinf:"
HEADER = 32
INLINE_STRINGS = 0x2  # Go >= 1.18 writes the version and module info right after the header


@dataclass(frozen=True)
class GoBuild:
    go_version: str
    main: tuple[str, str]  # (module path, version)
    deps: tuple[tuple[str, str], ...]


def _varint_string(data: bytes, offset: int) -> tuple[str, int]:
    length, shift = 0, 0
    while True:
        if offset >= len(data) or shift > 63:
            raise ValueError("truncated build info")
        byte = data[offset]
        offset += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            break
    if offset + length > len(data):
        raise ValueError("truncated build info")
    return data[offset : offset + length].decode("utf-8", "replace"), offset + length


def read_build_info(data: bytes) -> GoBuild | None:
    """None unless `data` is a Go >= 1.18 binary with build info; the blob is aligned to 16 bytes."""
    start = data.find(MAGIC)
    while start != -1 and start % 16:
        start = data.find(MAGIC, start + 1)
    if start == -1 or len(data) < start + HEADER or not data[start + 15] & INLINE_STRINGS:
        return None
    try:
        version, offset = _varint_string(data, start + HEADER)
        modinfo, _ = _varint_string(data, offset)
    except ValueError:
        return None
    return parse_modinfo(version, modinfo[16:-16] if len(modinfo) >= 32 else "")


def parse_modinfo(version: str, text: str) -> GoBuild:
    main, deps = ("", ""), []
    for line in text.splitlines():
        fields = line.split("\t")
        if fields[0] == "mod" and len(fields) >= 3:
            main = (fields[1], fields[2])
        elif fields[0] == "dep" and len(fields) >= 3:
            deps.append((fields[1], fields[2]))
        elif fields[0] == "=>" and len(fields) >= 3 and deps:
            deps[-1] = (fields[1], fields[2])  # a replace directive: what was really built
    return GoBuild(version, main, tuple(deps))
