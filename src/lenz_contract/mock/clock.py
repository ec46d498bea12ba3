"""The mock's clock: real UTC time plus an offset that the admin API can only move forward.

Moving the clock is how a client tests "the 07:00 schedule ran" without waiting until 07:00.
It never goes back, because executions and schedule bookkeeping already written at a later
time would then lie in the future; `now()` is also kept non-decreasing against a system clock
that steps backwards, for the same reason.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def real_utc_now() -> datetime:
    return datetime.now(UTC)


class MockClock:
    """Thread-safe; `now()` is an aware UTC datetime: `source()` + offset, never decreasing."""

    def __init__(
        self,
        *,
        offset: timedelta = timedelta(0),
        source: Callable[[], datetime] = real_utc_now,
    ) -> None:
        if offset < timedelta(0):
            raise ValueError(f"the clock offset cannot be negative, got {offset}")
        self._source = source
        self._offset = offset
        self._last: datetime | None = None
        self._lock = threading.Lock()

    @classmethod
    def frozen(cls, at: datetime) -> MockClock:
        """A clock standing still at `at` until advanced: for tests and reproducible demos."""
        at = as_utc(at, "at")
        return cls(source=lambda: at)

    @property
    def source(self) -> Callable[[], datetime]:
        """The time this clock is ahead of (real UTC time, or a frozen instant in tests): each
        namespace's clock shares it, with an offset of its own."""
        return self._source

    @property
    def offset(self) -> timedelta:
        """How far the clock is ahead of its source; persist it to keep the time across restarts."""
        with self._lock:
            return self._offset

    def now(self) -> datetime:
        with self._lock:
            return self._now_locked()

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by `seconds` (≥ 0); returns the new time."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(
                f"the mock clock only moves forward: advance needs seconds >= 0, got {seconds}"
            )
        with self._lock:
            self._offset += timedelta(seconds=seconds)
            return self._now_locked()

    def set(self, when: datetime) -> datetime:
        """Move the clock forward to `when` (aware); setting it earlier than now is refused."""
        when = as_utc(when, "when")
        with self._lock:
            current = self._now_locked()
            if when < current:
                raise ValueError(
                    f"the mock clock only moves forward: cannot set it to {when.isoformat()}, "
                    f"it is already {current.isoformat()}"
                )
            self._offset += when - self._raw_locked()
            return self._now_locked()

    def _raw_locked(self) -> datetime:
        return as_utc(self._source(), "source()") + self._offset

    def _now_locked(self) -> datetime:
        now = self._raw_locked()
        if self._last is not None and now < self._last:
            now = self._last
        self._last = now
        return now


def as_utc(value: datetime, name: str = "datetime") -> datetime:
    """`value` in UTC; a naive datetime is refused rather than guessed (server-local time?)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)
