"""Files a Go program embeds (`//go:embed`): already in the binary, so not kept beside it as run-time files."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from s2i.files import read_small

EMBED = re.compile(r"^[ \t]*//go:embed[ \t]+(.+)$", re.MULTILINE)
MAX_GO_FILES = 20000


def patterns(line: str) -> list[str]:
    """A directive's patterns: space-separated, Go-quoted ones may hold spaces; `all:` also takes . and _ files."""
    try:
        words = shlex.split(line)
    except ValueError:
        return []
    return [word.removeprefix("all:") for word in words if word and not word.startswith("/") and ".." not in word.split("/")]


def embedded_files(tree: Path) -> set[str]:
    """The tree's files some non-vendored .go file embeds, as paths relative to the tree."""
    found: set[str] = set()
    seen = 0
    for top, dirs, files in os.walk(tree):
        dirs[:] = sorted(d for d in dirs if d not in ("vendor", "testdata") and d[0] not in "._" and not (Path(top) / d).is_symlink())
        for name in sorted(files):
            seen += 1
            if seen > MAX_GO_FILES:
                return found
            if not name.endswith(".go") or name.endswith("_test.go"):
                continue
            for line in EMBED.findall(read_small(Path(top) / name) or ""):  # a generated file over 1 MiB embeds nothing
                for pattern in patterns(line):
                    for match in (Path(top)).glob(pattern):
                        targets = [match] if match.is_file() else [p for p in match.rglob("*") if p.is_file()]
                        found.update(p.relative_to(tree).as_posix() for p in targets if not p.is_symlink())
    return found
