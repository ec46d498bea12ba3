"""The scheduler's one-second check stays cheap with many workflows, and still fires exactly once.

Risk covered: the background check ran croniter (~300 µs a call, plus ~150 µs of validation)
for every active scheduled workflow every second: 2,000 workflows already took longer than the
one-second interval, 100,000 about a minute, so the mock burned a core and slowed every request
(found by bench/scale.py). Workflows sharing a cron and a window start now share one croniter
call per check. Counted, not timed: the number of croniter objects a check builds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from croniter import croniter

from lenz_contract.mock import schedule
from lenz_contract.mock.clock import MockClock
from lenz_contract.mock.schedule import Scheduler

WORKFLOWS = 2000
START = datetime(2025, 4, 30, 6, 0, tzinfo=UTC)


class CountingCroniter(croniter):  # type: ignore[misc]  # croniter ships no types
    built = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        CountingCroniter.built += 1
        super().__init__(*args, **kwargs)


def workflow(i: int, cron: str = "0 0 7 * * *", updated_at: str | None = None) -> dict[str, Any]:
    return {
        "id": f"wf-{i:05d}",
        "name": f"w{i}",
        "is_active": True,
        "trigger_node": {"type": "schedule", "config": {"cron": cron}},
        "nodes": [],
        "created_at": "2025-01-15T00:00:00Z",
        "updated_at": updated_at,
    }


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> type[CountingCroniter]:
    monkeypatch.setattr(schedule, "croniter", CountingCroniter)
    CountingCroniter.built = 0
    return CountingCroniter


def test_a_check_costs_one_croniter_per_cron_and_window_not_per_workflow(
    counting: type[CountingCroniter],
) -> None:
    """2,010 workflows, two crons: a check builds two croniters, and the 07:00 fire still
    reaches every workflow exactly once."""
    workflows = [workflow(i) for i in range(WORKFLOWS)]
    workflows += [workflow(WORKFLOWS + i, cron="0 */15 * * * *") for i in range(10)]
    fired: list[tuple[str, datetime]] = []
    clock = MockClock.frozen(START)
    scheduler = Scheduler(
        clock=clock.now, list_workflows=lambda: workflows, fire=lambda w, t: fired.append((w, t))
    )
    for _ in range(5):  # five one-second checks with nothing due
        clock.advance(1)
        scheduler.run_due()
    assert fired == []
    assert counting.built <= 5 * 2, counting.built  # two crons, one window each per check

    clock.set(START + timedelta(hours=1, minutes=1))  # past 07:00: everything fires once
    scheduler.run_due()
    daily = [w for w, t in fired if t == START + timedelta(hours=1)]
    assert sorted(daily) == sorted(w["id"] for w in workflows)
    assert len(fired) == len(set(fired))
    clock.advance(1)
    scheduler.run_due()
    assert len(daily) == len(workflows) and len(fired) == len(set(fired))


def test_workflows_with_their_own_window_still_get_their_own_answer() -> None:
    """A workflow updated after 07:00 must not fire for 07:00, although its cron is shared."""
    late = workflow(1, updated_at="2025-04-30T07:30:00Z")
    workflows = [workflow(0), late, workflow(2)]
    fired: list[tuple[str, datetime]] = []
    clock = MockClock.frozen(START)
    scheduler = Scheduler(
        clock=clock.now, list_workflows=lambda: workflows, fire=lambda w, t: fired.append((w, t))
    )
    clock.set(START + timedelta(days=1, hours=1, minutes=1))  # past 07:00 on two days
    scheduler.run_due()
    first, second = START + timedelta(hours=1), START + timedelta(days=1, hours=1)
    expected = [("wf-00000", first), ("wf-00002", first)]  # wf-00001 was edited at 07:30
    expected += [("wf-00000", second), ("wf-00001", second), ("wf-00002", second)]
    assert sorted(fired) == sorted(expected)
