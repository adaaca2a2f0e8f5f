"""Tiny C apps whose Makefile runs a hostile or probing command in the build sandbox before compiling."""

from __future__ import annotations

import os
import time
from pathlib import Path

MAIN_C = '#include <stdio.h>\nint main(void){puts("hi");return 0;}\n'


def c_app(root: Path, *commands: str, files: dict[str, str] | None = None) -> Path:
    """An app whose `make` runs `commands` (shell lines), then builds ./hello."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.c").write_text(MAIN_C)
    recipe = "".join(f"\t{line}\n" for line in (*commands, "$(CC) -O2 -o hello main.c"))
    (root / "Makefile").write_text(f"hello: main.c\n{recipe}")
    for name, text in (files or {}).items():
        (root / name).write_text(text)
    return root


def processes_with(marker: str, wait: float = 10) -> list[str]:
    """Command lines on this host that contain `marker`, after letting them die for up to `wait` s."""
    deadline = time.monotonic() + wait
    while True:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline and pid != str(os.getpid()):
                found.append(cmdline)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def last_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]
