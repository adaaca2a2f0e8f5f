"""The shared libraries a build's native code needs (ELF DT_NEEDED) that the run base lacks, mapped to Debian packages.

A build's output is hostile data: files are read as bytes, links never followed, and a malformed ELF
file counts as needing nothing.
"""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path

from s2i.stack.rootfs import dpkg_file_lists

LIB_DIRS = ("lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib", "usr/lib", "lib64", "usr/lib64", "usr/local/lib")
ELF_MAGIC = b"\x7fELF\x02\x01"  # 64-bit little-endian: the stacks' architecture (amd64)
SHT_DYNAMIC, DT_NEEDED = 6, 1
MAX_SECTION = 16 << 20


def elf_needed(handle) -> list[str]:
    """DT_NEEDED names of a 64-bit little-endian ELF file; [] for anything else or anything malformed."""
    try:
        header = handle.read(64)
        if len(header) < 64 or not header.startswith(ELF_MAGIC):
            return []
        shoff, = struct.unpack_from("<Q", header, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", header, 0x3A)
        if shentsize != 64 or not 0 < shnum < 4096:
            return []
        handle.seek(shoff)
        table = handle.read(shentsize * shnum)
        sections = [struct.unpack_from("<IIQQQQIIQQ", table, i * 64) for i in range(len(table) // 64)]
        for _name, kind, _flags, _addr, offset, size, link, *_ in sections:
            if kind == SHT_DYNAMIC and link < len(sections) and size <= MAX_SECTION:
                strings = _read(handle, sections[link][4], min(sections[link][5], MAX_SECTION))
                dynamic = _read(handle, offset, size)
                return [_string(strings, value) for tag, value in struct.iter_unpack("<qQ", dynamic[: len(dynamic) // 16 * 16])
                        if tag == DT_NEEDED]
    except (OSError, struct.error, ValueError, OverflowError):
        return []
    return []


def _read(handle, offset: int, size: int) -> bytes:
    handle.seek(offset)
    return handle.read(size)


def _string(table: bytes, offset: int) -> str:
    end = table.find(b"\0", offset)
    return table[offset:end if end >= 0 else None].decode("utf-8", "replace")


def needed_in(root: Path) -> dict[str, str]:
    """soname -> the first file (relative to root) that needs it, over every regular ELF file under root."""
    needed: dict[str, str] = {}
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(directory, name)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:
                continue  # a link (never followed) or a file that vanished
            with os.fdopen(fd, "rb") as handle:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    continue  # a FIFO or device is never read
                for soname in elf_needed(handle):
                    needed.setdefault(soname, os.path.relpath(path, root))
    return needed


def names_in(root: Path, dirs: tuple[str, ...] = LIB_DIRS) -> set[str]:
    """File and link names in an image's library directories: what its dynamic loader can find."""
    names = set()
    for rel in dirs:
        directory = root / rel
        if directory.is_dir() and not directory.is_symlink():
            names.update(os.listdir(directory))
    return names


def file_names(root: Path) -> set[str]:
    """Every name under root: libraries a wheel bundles (found by its RPATH) are provided by the build itself."""
    return {name for _, _, files in os.walk(root) for name in files}


def layer_scan(root: Path) -> dict:
    """One layer's part of the closure: the sonames its ELF files need that it does not hold, and the libraries it holds."""
    names = file_names(root)
    needed = {soname: user for soname, user in needed_in(root).items() if soname not in names}
    return {"needed": needed, "libraries": sorted(name for name in names if ".so" in name)}


def valid_scan(scan: object) -> bool:
    """A kept scan has layer_scan's shape (a damaged or foreign file is scanned again)."""
    return (isinstance(scan, dict) and isinstance(scan.get("needed"), dict) and isinstance(scan.get("libraries"), list)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in scan["needed"].items())
            and all(isinstance(name, str) for name in scan["libraries"]))


def library_owners(builder: Path) -> dict[str, str]:
    """soname -> Debian package, from the builder's dpkg file lists (libraries in the library directories only)."""
    owners: dict[str, str] = {}
    prefixes = tuple("/" + rel + "/" for rel in LIB_DIRS)
    for listed_as, text in dpkg_file_lists(builder).items():
        package = listed_as.split(":")[0]
        for line in text.splitlines():
            head, _, soname = line.rpartition("/")
            if head + "/" in prefixes and ".so" in soname:
                owners.setdefault(soname, package)
    return owners


def missing_packages(needed: dict[str, str], provided: set[str], owners: dict[str, str]) -> tuple[dict[str, list[str]], list[str]]:
    """(package -> the needs it meets, as "libpq.so.5 (needed by x.so)"; needs no package provides)."""
    packages: dict[str, list[str]] = {}
    unknown = []
    for soname, user in sorted(needed.items()):
        if soname in provided:
            continue
        why = f"{soname} (needed by {user})"
        if soname in owners:
            packages.setdefault(owners[soname], []).append(why)
        else:
            unknown.append(why)
    return packages, unknown
