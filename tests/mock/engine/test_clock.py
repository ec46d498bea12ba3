"""The mock clock: an offset on real time that only moves forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from lenz_contract.mock.clock import MockClock
from lenz_contract.spec.timestamps import format_utc, parse_rfc3339

START = datetime(2025, 4, 30, 7, 0, 0, tzinfo=UTC)


class Source:
    """A hand-driven stand-in for the system clock."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_real_time_by_default_aware_utc() -> None:
    before = datetime.now(UTC)
    now = MockClock().now()
    assert now.tzinfo is UTC and now >= before


def test_offset_applies_on_top_of_the_source() -> None:
    source = Source(START)
    clock = MockClock(source=source, offset=timedelta(hours=1))
    assert clock.now() == START + timedelta(hours=1)
    source.at += timedelta(seconds=30)  # real time goes on under the offset
    assert clock.now() == START + timedelta(hours=1, seconds=30)
    assert clock.offset == timedelta(hours=1)


def test_advance_moves_forward_and_answers_the_new_time() -> None:
    clock = MockClock.frozen(START)
    assert clock.advance(90) == START + timedelta(seconds=90)
    assert clock.advance(0) == START + timedelta(seconds=90)
    assert clock.now() == START + timedelta(seconds=90)
    assert clock.offset == timedelta(seconds=90)


@pytest.mark.parametrize("seconds", [-1, -0.001, float("nan"), float("-inf"), float("inf")])
def test_advance_cannot_move_backwards(seconds: float) -> None:
    clock = MockClock.frozen(START)
    with pytest.raises(ValueError, match="the mock clock only moves forward"):
        clock.advance(seconds)
    assert clock.now() == START


def test_set_moves_forward_only() -> None:
    clock = MockClock.frozen(START)
    later = datetime(2025, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=7)))  # 07:00Z
    assert clock.set(later) == datetime(2025, 5, 1, 7, 0, tzinfo=UTC)
    assert clock.set(clock.now()) == datetime(2025, 5, 1, 7, 0, tzinfo=UTC)  # no-op is fine
    with pytest.raises(ValueError) as caught:
        clock.set(START)
    assert str(caught.value) == (
        "the mock clock only moves forward: cannot set it to 2025-04-30T07:00:00+00:00, "
        "it is already 2025-05-01T07:00:00+00:00"
    )
    assert clock.now() == datetime(2025, 5, 1, 7, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        MockClock.frozen(START).set(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        MockClock.frozen(datetime(2026, 1, 1))


def test_a_negative_initial_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        MockClock(offset=timedelta(seconds=-1))


def test_now_never_decreases_when_the_system_clock_steps_back() -> None:
    source = Source(START)
    clock = MockClock(source=source)
    assert clock.now() == START
    source.at -= timedelta(minutes=5)
    assert clock.now() == START


def test_timestamps_are_written_and_read_as_rfc3339_utc() -> None:
    assert format_utc(START.replace(microsecond=999_999)) == "2025-04-30T07:00:00Z"
    for text in (
        "2025-04-30T14:00:00+07:00",
        "2025-04-30T07:00:00Z",
        "2025-04-30t07:00:00z",
        "2025-04-30T14:00:00.000000001+07:00",
    ):
        assert parse_rfc3339(text) == START, text
    for value in ("2025-04-30T07:00:00", "yesterday", "2025-04-30T07:00:00+24:00", None, 5):
        assert parse_rfc3339(value) is None, value
    with pytest.raises(ValueError, match="timezone-aware"):
        format_utc(START.replace(tzinfo=None))
