"""The one retry policy for registry work: temporary failures retried with exponential backoff."""

from __future__ import annotations

import datetime
import email.utils
import time
from typing import Callable, TypeVar

from s2i.errors import RegistryError
from s2i.progress import log

T = TypeVar("T")
MAX_DELAY = 30.0  # a Retry-After of hours is a registry asking us to give up; we wait this much at most


def delay(attempt: int, backoff: float, retry_after: str | None = None) -> float:
    """Retry-After (seconds or an HTTP date) when the registry sent one, else backoff * 2^attempt; at most MAX_DELAY."""
    asked = _retry_after_seconds(retry_after.strip()) if retry_after else None
    if asked is not None:
        return min(max(asked, 0.0), MAX_DELAY)
    return min(backoff * (2**attempt), MAX_DELAY)


def _retry_after_seconds(value: str) -> float | None:
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=datetime.timezone.utc)
    return (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds()


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
