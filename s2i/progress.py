"""Progress lines on stderr, drawn only when stderr is a terminal so CI logs stay clean."""

from __future__ import annotations

import sys
import threading


def log(message: str) -> None:
    print(f"s2i: {message}", file=sys.stderr, flush=True)


class TransferProgress:
    """Totals across parallel blob transfers: one line, redrawn in place."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
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
