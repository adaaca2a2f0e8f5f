"""Tiny C apps whose Makefile runs a hostile or probing command in the build sandbox before compiling."""

from __future__ import annotations

import os
import threading
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


def matching(marker: str) -> list[str]:
    """Command lines of this host's processes (this one aside) that contain `marker`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline and pid != str(os.getpid()):
            found.append(cmdline)
    return found


def processes_with(marker: str, wait: float = 10) -> list[str]:
    """matching(marker), after letting those processes die for up to `wait` s."""
    deadline = time.monotonic() + wait
    while (found := matching(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


class FirstSeen:
    """When a process holding `marker` first shows up on this host: the moment a build's own command started."""

    def __init__(self, marker: str, limit: float = 300):
        self.marker, self.at = marker, None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._poll, args=(time.monotonic() + limit,), daemon=True)
        self.thread.start()

    def _poll(self, deadline: float) -> None:
        while not self.stopped.wait(0.1) and time.monotonic() < deadline:
            if matching(self.marker):
                self.at = time.monotonic()
                return

    def seconds_since(self) -> float:
        self.stopped.set()
        self.thread.join(timeout=5)
        assert self.at is not None, f"no process with {self.marker!r} ever ran"
        return time.monotonic() - self.at


def last_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]
