"""The one retry policy for registry work: temporary failures retried with exponential backoff."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

from s2i.errors import RegistryError
from s2i.progress import log

T = TypeVar("T")
MAX_DELAY = 30.0  # a Retry-After of hours is a registry asking us to give up; we wait this much at most


def delay(attempt: int, backoff: float, retry_after: str | None = None) -> float:
    """Retry-After (seconds) when the registry sent one, else backoff * 2^attempt; never above MAX_DELAY."""
    if retry_after and retry_after.strip().isdigit():
        return min(float(retry_after), MAX_DELAY)
    return min(backoff * (2**attempt), MAX_DELAY)


def with_retries(attempts: int, backoff: float, operation: Callable[[], T], what: str) -> T:
    """Run `operation` until it succeeds, retrying a temporary RegistryError up to `attempts` tries in all."""
    for attempt in range(max(1, attempts)):
        try:
            return operation()
        except RegistryError as exc:
            if not exc.temporary or attempt + 1 >= attempts:
                raise
            wait = delay(attempt, backoff, exc.retry_after)
            log(f"{what}: {exc.message}; retrying in {wait:.1f}s")
            time.sleep(wait)
    raise AssertionError("unreachable")
