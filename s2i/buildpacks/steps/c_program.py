"""Pure decisions of the C step: which files are programs, the first compiler error, what a libc's configure found."""

from __future__ import annotations

import os
import re
import struct
from typing import NamedTuple

ELF_MAGIC = b"\x7fELF"
ET_EXEC, ET_DYN, PT_INTERP = 2, 3, 3
TEST_DIRS = {"test", "tests", "testing", "t", "unittest", "unittests", "unit_tests", "bench", "benchmark", "benchmarks"}
# vendored dependencies: the tools they build (valkey's deps/lua makes lua and luac) are not the app
VENDORED_DIRS = {"deps", "vendor", "third_party", "thirdparty", "3rdparty", "external", "extern", "subprojects"}
# a file:line[:col]: [fatal ]error: line from gcc, g++ or clang; then the linker's own
COMPILER_ERROR = re.compile(r"^\S+?:\d+(?::\d+)?: (?:fatal )?error: ")
LINKER_ERROR = re.compile(r"undefined reference to |multiple definition of |cannot find -l")
# CMake's `CMake Error at src/CMakeLists.txt:601 (message):` has its reason on the next line (tee joins the two)
CMAKE_ERROR = re.compile(r"^CMake Error at \S+:\d+")
# libraries glibc splits out of libc and musl keeps inside it: not a feature musl lacks
LIBC_PARTS = {"-lc", "-lm", "-lpthread", "-ldl", "-lrt", "-lutil", "-lresolv", "-lcrypt", "-lxnet", "-lanl", "-lnsl", "-lsocket"}
TRUE_WORDS = {"1", "on", "yes", "true", "y"}


class Candidate(NamedTuple):
    """A new executable file: its path (relative), identity (device, inode) and content digest."""

    path: str
    inode: tuple[int, int]
    digest: str


def elf_program(header: bytes) -> bool:
    """An ELF header (the file's first 4 KiB) of a program: ET_EXEC, or a PIE (ET_DYN with an interpreter); not a shared library."""
    if len(header) < 64 or header[:4] != ELF_MAGIC or header[4] != 2 or header[5] != 1:  # 64-bit little-endian only
        return False
    e_type = struct.unpack_from("<H", header, 16)[0]
    if e_type == ET_EXEC:
        return True
    if e_type != ET_DYN:
        return False
    phoff, = struct.unpack_from("<Q", header, 32)
    phentsize, phnum = struct.unpack_from("<HH", header, 54)
    for index in range(phnum):
        offset = phoff + index * phentsize
        if offset + 4 > len(header):
            return False
        if struct.unpack_from("<I", header, offset)[0] == PT_INTERP:
            return True
    return False


def is_test_or_vendored(path: str) -> bool:
    """test*, *_test, *-test, *tests in its name, or under a tests/ (test, t, bench...) or vendored (deps, vendor...) directory."""
    parts = path.lower().split("/")
    name = parts[-1]
    if any(part in TEST_DIRS or part in VENDORED_DIRS for part in parts[:-1]):
        return True
    return name.startswith(("test", "unittest")) or re.search(r"[_\-.]tests?$", name) is not None


def is_library_name(path: str) -> bool:
    name = os.path.basename(path)
    return name.endswith(".so") or ".so." in name or name.endswith((".a", ".o"))


def programs(candidates: list[Candidate]) -> dict[str, list[str]]:
    """Programs by their chosen path: test binaries and libraries dropped, hardlinks and identical copies counted once.

    A group's path is its shallowest, then shortest name; its other names are kept, so the
    `program` setting may name any of them.
    """
    groups: dict[object, list[str]] = {}
    identity: dict[object, object] = {}
    for item in sorted(candidates):
        if is_library_name(item.path) or is_test_or_vendored(item.path):
            continue
        key = identity.get(item.inode) or identity.get(item.digest) or item.digest
        identity[item.inode] = identity[item.digest] = key
        groups.setdefault(key, []).append(item.path)
    chosen = {}
    for paths in groups.values():
        paths.sort(key=lambda p: (p.count("/"), len(os.path.basename(p)), p))
        chosen[paths[0]] = paths
    return dict(sorted(chosen.items()))


def named(found: dict[str, list[str]], wanted: str) -> str | None:
    for names in found.values():
        for name in names:
            if os.path.basename(name) == wanted:
                return name
    return None


def choose(found: dict[str, list[str]], wanted: str, project: str = "") -> str:
    """The one program, or the one named `wanted`, else of several the one named like the project (lighttpd beside
    lighttpd-angel); raises ValueError with what was found."""
    if wanted:
        if named(found, wanted):
            return named(found, wanted)
        raise ValueError(f"the build made no program named {wanted} (made: {' '.join(found) or 'none'})")
    if len(found) > 1 and project and named(found, project):
        return named(found, project)
    if len(found) != 1:
        listed = " ".join(found) or "none"
        raise ValueError(f"expected one new program, found {len(found)}: {listed}; "
                         'name it in s2i.toml ([build] program = "NAME")')
    return next(iter(found))


def first_error(lines: list[str]) -> str | None:
    """The first compiler `error:` line with its file and line; else CMake's; else the first linker error; else None."""
    stripped = [line.strip() for line in lines]
    for pattern in (COMPILER_ERROR, CMAKE_ERROR, LINKER_ERROR):
        for line in stripped:
            if pattern.search(line):
                return line
    return None


def autoconf_features(config_status: str) -> set[str]:
    """What a configure run found, from its config.status: HAVE_/USE_/ENABLE_/WITH_ defines set, and -l libraries."""
    found = set()
    for name, value in re.findall(r'^D\["(\w+)"\]=" ?(.*)"$', config_status, re.MULTILINE):
        libc_part = name.startswith("HAVE_LIB") and "-l" + name.removeprefix("HAVE_LIB").lower() in LIBC_PARTS
        if name.startswith(("HAVE_", "USE_", "ENABLE_", "WITH_")) and value.strip() not in ("", "0") and not libc_part:
            found.add(name)
    for name, value in re.findall(r'^S\["(\w*LIBS)"\]="(.*)"$', config_status, re.MULTILINE):
        found.update(word for word in value.split() if word.startswith("-l") and word not in LIBC_PARTS)
    return found


def cmake_features(cache: str) -> set[str]:
    """What a CMake configure found, from CMakeCache.txt: HAVE_* checks and packages found."""
    found = set()
    for key, value in re.findall(r"^([\w.+-]+):\w+=(.*)$", cache, re.MULTILINE):
        if key.startswith("FIND_PACKAGE_MESSAGE_DETAILS_") and value:
            found.add("package " + key.removeprefix("FIND_PACKAGE_MESSAGE_DETAILS_"))
        elif (key.startswith("HAVE_") or key.endswith("_FOUND")) and value.strip().lower() in TRUE_WORDS:
            found.add(key)
    return found


# meson's log: `Run-time dependency zlib found: YES 1.3`, `Library z found: YES`, `Has header "zlib.h" : YES`
MESON_FOUND = re.compile(r'^(?:Run-time dependency|Dependency|Library|Has header|Checking for function) "?([^"\s]+)"?(?: found)? ?: YES',
                         re.MULTILINE)


MESON_KINDS = {"Run-time": "dependency", "Dependency": "dependency", "Library": "library", "Has": "header", "Checking": "function"}


def meson_features(log: str) -> set[str]:
    """What a meson setup found, from meson-log.txt: dependencies, libraries, headers and functions that said YES."""
    found = set()
    for match in MESON_FOUND.finditer(log):
        kind, name = MESON_KINDS[match.group(0).split()[0]], match.group(1)
        if not (kind == "library" and "-l" + name in LIBC_PARTS or kind == "dependency" and name == "threads"):
            found.add(f"{kind} {name}")
    return found


def dropped(glibc: set[str], musl: set[str]) -> list[str]:
    """What glibc's configure found that musl's did not."""
    return sorted(glibc - musl)


def parse_ldd(text: str) -> list[str]:
    """Library paths from ldd's output: `name => /path (addr)` lines and the interpreter's `/path (addr)`."""
    libraries = set()
    for line in text.splitlines():
        words = line.split()
        if "=>" in words and len(words) > words.index("=>") + 1 and words[words.index("=>") + 1].startswith("/"):
            libraries.add(words[words.index("=>") + 1])
        elif words and words[0].startswith("/"):
            libraries.add(words[0])
    return sorted(libraries)
