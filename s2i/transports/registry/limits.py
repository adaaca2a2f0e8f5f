"""Bounds on every registry exchange: a deadline that grows with the bytes moved, and caps on bodies read whole."""

from __future__ import annotations

import time
from typing import Iterator

import httpx

DOCUMENT_CAP = 4 << 20  # manifests, configs and tokens are read into memory: never more than this
ERROR_CAP = 64 << 10  # an error or redirect body only feeds a one-line message; the rest is dropped
MIN_RATE = 64 << 10  # bytes per second an exchange must average beyond its fixed allowance
BUDGET = "s2i.budget"  # the request extension that carries an exchange's Budget


class Refused(Exception):
    """An answer s2i will not read: larger than its cap, or compressed though we asked for identity."""


class Stalled(httpx.TimeoutException):
    """The registry moved too few bytes for the time spent: a hang or a trickle."""


class Budget:
    """One exchange's clock and byte count, shared by its request body, its redirects and its answer.

    An exchange may take `timeout` seconds plus one second per MIN_RATE bytes it actually moved, so a
    big blob gets the time it needs while a registry trickling a byte a second fails after `timeout`.
    """

    def __init__(self, timeout: float, cap: int | None = DOCUMENT_CAP):
        self.timeout = timeout
        self.cap = cap  # for a successful answer; None streams it (blobs), read piecewise by the caller
        self.started = time.monotonic()
        self.moved = 0

    def advance(self, count: int) -> None:
        self.moved += count
        elapsed = time.monotonic() - self.started
        if elapsed > self.timeout + self.moved / MIN_RATE:
            raise Stalled(f"{self.moved} bytes in {elapsed:.0f}s")


class _Counted(httpx.SyncByteStream):
    """A request body whose every chunk is charged to the exchange's budget before it is sent."""

    def __init__(self, inner, budget: Budget):
        self._inner, self._budget = inner, budget

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._budget.advance(len(chunk))
            yield chunk


class _Bounded(httpx.SyncByteStream):
    """An answer's raw bytes, charged to the budget and cut at `cap` (an error, or `truncate`: stop)."""

    def __init__(self, inner, budget: Budget, cap: int | None, truncate: bool, host: str):
        self._inner, self._budget, self._cap, self._truncate, self._host = inner, budget, cap, truncate, host

    def __iter__(self) -> Iterator[bytes]:
        read = 0
        for chunk in self._inner:
            if self._cap is not None and read + len(chunk) > self._cap:
                if self._truncate:
                    yield chunk[: self._cap - read]
                    return
                raise Refused(f"{self._host} sent an answer larger than {self._cap >> 10} KiB")
            read += len(chunk)
            self._budget.advance(len(chunk))
            yield chunk

    def close(self) -> None:
        self._inner.close()


def event_hooks(timeout: float) -> dict:
    """httpx hooks that put every request of a client, token fetches and redirects included, under a Budget."""

    def on_request(request: httpx.Request) -> None:
        budget = request.extensions.setdefault(BUDGET, Budget(timeout))
        request.stream = _Counted(request.stream, budget)

    def on_response(response: httpx.Response) -> None:
        budget = response.request.extensions[BUDGET]
        success = 200 <= response.status_code < 300
        cap = budget.cap if success else ERROR_CAP
        host = response.request.url.netloc.decode()
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if cap is not None and encoding not in ("", "identity"):
            # a small compressed body can inflate past any cap; we asked for identity, so refuse
            raise Refused(f"{host} sent a {encoding}-compressed answer though s2i asked for none")
        response.stream = _Bounded(response.stream, budget, cap, not success, host)

    return {"request": [on_request], "response": [on_response]}
