"""Progress and log lines on stderr at the chosen verbosity; the transfer line only on a terminal so CI logs stay clean."""

from __future__ import annotations

import sys
import threading

QUIET, NORMAL, VERBOSE = -1, 0, 1
_level = [NORMAL]  # set once by the CLI's -q/-v


def set_verbosity(level: int) -> None:
    _level[0] = level


def verbosity() -> int:
    return _level[0]


def log(message: str) -> None:
    """A progress line; -q hides it."""
    if _level[0] >= NORMAL:
        print(f"s2i: {message}", file=sys.stderr, flush=True)


def detail(message: str) -> None:
    """A line only -v shows."""
    if _level[0] >= VERBOSE:
        print(f"s2i: {message}", file=sys.stderr, flush=True)


def warn(message: str) -> None:
    """Something the user should know even with -q."""
    print(f"s2i: warning: {message}", file=sys.stderr, flush=True)


def output(line: str) -> None:
    """A line of the build's own output; -q hides it (--log still gets it)."""
    if _level[0] >= NORMAL:
        print(line, file=sys.stderr, flush=True)


class TransferProgress:
    """Totals across parallel blob transfers: one line, redrawn in place."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() and _level[0] >= NORMAL
        self.done: dict[str, int] = {}
        self.total: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, digest: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        with self._lock:
            self.done[digest], self.total[digest] = done, total
            sent, size = sum(self.done.values()), sum(self.total.values())
            self.stream.write(f"\rs2i: pushing {sent / 1e6:.1f}/{size / 1e6:.1f} MB")
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\n")
