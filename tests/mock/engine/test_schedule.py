"""Schedules: cron windows, the runaway bound, and the scheduler driven by hand and by its task."""

from __future__ import annotations

import asyncio
import copy
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lenz_contract.mock.clock import MockClock
from lenz_contract.mock.engine import EngineContext, execute_scheduled
from lenz_contract.mock.schedule import (
    CronError,
    Scheduler,
    due_fires,
    scheduled_workflow,
    validate_cron,
)
from lenz_contract.spec import SchemaValidator, Spec


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- due_fires ------------------------------------------------------------------------------


def test_daily_0700_fires_once_a_day_in_the_window() -> None:
    fires = due_fires("0 0 7 * * *", utc(2025, 4, 29, 6), utc(2025, 5, 1, 8)).times
    assert fires == [utc(2025, 4, 29, 7), utc(2025, 4, 30, 7), utc(2025, 5, 1, 7)]


def test_the_window_is_open_at_the_start_and_closed_at_the_end() -> None:
    fires = due_fires("0 0 7 * * *", utc(2025, 4, 29, 7), utc(2025, 5, 1, 7)).times
    assert fires == [utc(2025, 4, 30, 7), utc(2025, 5, 1, 7)]
    assert due_fires("0 0 7 * * *", utc(2025, 4, 29, 7), utc(2025, 4, 29, 7)).times == []
    assert due_fires("0 0 7 * * *", utc(2025, 4, 30), utc(2025, 4, 29)).times == []


def test_the_seconds_field_comes_first_and_is_honoured() -> None:
    fires = due_fires("*/15 * * * * *", utc(2025, 4, 30, 7), utc(2025, 4, 30, 7, 1)).times
    assert fires == [utc(2025, 4, 30, 7, 0, s) for s in (15, 30, 45)] + [utc(2025, 4, 30, 7, 1)]
    assert due_fires("30 0 7 * * *", utc(2025, 4, 30), utc(2025, 5, 1)).times == [
        utc(2025, 4, 30, 7, 0, 30)
    ]


def test_fractional_seconds_do_not_refire_a_handled_time() -> None:
    after = utc(2025, 4, 30, 7).replace(microsecond=500_000)
    assert due_fires("0 0 7 * * *", after, utc(2025, 4, 30, 8)).times == []


def test_a_far_clock_jump_is_bounded_and_says_so() -> None:
    found = due_fires("* * * * * *", utc(2025, 1, 1), utc(2026, 1, 1), limit=1000)
    assert found.truncated
    assert len(found.times) == 1000
    assert found.times[0] == utc(2025, 1, 1, 0, 0, 1)
    assert found.times[-1] == utc(2025, 1, 1, 0, 16, 40)  # the earliest 1000


def test_exactly_limit_fires_is_not_truncated() -> None:
    found = due_fires("* * * * * *", utc(2025, 1, 1), utc(2025, 1, 1, 0, 0, 10), limit=10)
    assert (len(found.times), found.truncated) == (10, False)


def test_a_date_that_never_comes_never_fires() -> None:
    assert due_fires("0 0 0 31 2 *", utc(2025, 1, 1), utc(2030, 1, 1)).times == []


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 7 * * *", "has 5 fields; a Lenz cron has six, seconds first"),
        ("0 0 7 * * * 2025", "has 7 fields"),
        ("61 0 7 * * *", "is not a valid cron expression"),
        ("every morning at 7 ok", "has 5 fields"),
    ],
)
def test_only_six_field_crons_are_accepted(cron: str, message: str) -> None:
    with pytest.raises(CronError, match=message):
        validate_cron(cron)
    with pytest.raises(CronError):
        due_fires(cron, utc(2025, 1, 1), utc(2025, 1, 2))


def test_naive_bounds_and_a_zero_limit_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_fires("0 0 7 * * *", datetime(2025, 1, 1), utc(2025, 1, 2))
    with pytest.raises(ValueError, match="limit"):
        due_fires("0 0 7 * * *", utc(2025, 1, 1), utc(2025, 1, 2), limit=0)


CRONS = ["0 0 7 * * *", "*/20 0-1 7 * * *", "0 0 */4 * * *", "0 30 9 * * MON-FRI", "7 7 7 7 * *"]


@settings(max_examples=100, deadline=None)
@given(
    cron=st.sampled_from(CRONS),
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 1, 1)),
    first=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
    second=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
)
def test_split_windows_fire_exactly_what_the_whole_window_fires(
    cron: str, start: datetime, first: timedelta, second: timedelta
) -> None:
    """What makes `run_due` exactly-once: checking (a, b] then (b, c] equals checking (a, c]."""
    a = start.replace(tzinfo=UTC)
    b, c = a + first, a + first + second
    whole = due_fires(cron, a, c, limit=10**6).times
    assert (
        whole == due_fires(cron, a, b, limit=10**6).times + due_fires(cron, b, c, limit=10**6).times
    )
    assert all(a < t <= c for t in whole) and whole == sorted(set(whole))


# --- which workflows are scheduled ----------------------------------------------------------


def workflow(
    workflow_id: str,
    cron: str = "0 0 7 * * *",
    *,
    active: bool = True,
    trigger: str = "schedule",
    created_at: str = "2025-01-15T00:00:00Z",
    updated_at: str | None = None,
) -> dict[str, Any]:
    return {
        "id": workflow_id,
        "name": workflow_id,
        "is_active": active,
        "trigger_node": {"type": trigger, "config": {"cron": cron}},
        "nodes": [],
        "created_at": created_at,
        "updated_at": updated_at,
    }


def test_only_active_schedule_workflows_are_scheduled() -> None:
    assert scheduled_workflow(workflow("wf-off", active=False)) is None
    assert scheduled_workflow(workflow("wf-hook", trigger="webhook")) is None
    assert scheduled_workflow({**workflow("wf-no-flag"), "is_active": None}) is None
    found = scheduled_workflow(workflow("wf-on", updated_at="2025-04-01T08:00:00Z"))
    assert found is not None
    assert (found.workflow_id, found.cron, found.due_from) == (
        "wf-on",
        "0 0 7 * * *",
        utc(2025, 4, 1, 8),
    )


def test_a_scheduled_workflow_without_a_usable_cron_is_an_error() -> None:
    broken = workflow("wf-broken")
    broken["trigger_node"] = {"type": "schedule"}
    with pytest.raises(CronError, match="missing"):
        scheduled_workflow(broken)
    with pytest.raises(CronError, match="has 5 fields"):
        scheduled_workflow(workflow("wf-five", cron="0 7 * * *"))


# --- the scheduler --------------------------------------------------------------------------


class Harness:
    """An in-memory stand-in for the app: a clock, a workflow list and a log of fires."""

    def __init__(self, at: datetime, workflows: list[dict[str, Any]], **options: Any) -> None:
        self.clock = MockClock.frozen(at)
        self.workflows = workflows
        self.fired: list[tuple[str, datetime]] = []
        self.failing: set[str] = set()
        self.scheduler = Scheduler(
            clock=self.clock.now, list_workflows=lambda: self.workflows, fire=self.fire, **options
        )

    def fire(self, workflow_id: str, fire_time: datetime) -> None:
        if workflow_id in self.failing:
            raise RuntimeError("store is full")
        self.fired.append((workflow_id, fire_time))


def test_advance_then_run_due_fires_each_due_run_once() -> None:
    app = Harness(
        utc(2025, 4, 29, 6), [workflow("wf-daily"), workflow("wf-quarter", "0 */15 * * * *")]
    )
    app.clock.set(utc(2025, 4, 29, 7, 20))
    report = app.scheduler.run_due()
    assert app.fired == [
        ("wf-quarter", utc(2025, 4, 29, 6, 15)),
        ("wf-quarter", utc(2025, 4, 29, 6, 30)),
        ("wf-quarter", utc(2025, 4, 29, 6, 45)),
        ("wf-daily", utc(2025, 4, 29, 7)),
        ("wf-quarter", utc(2025, 4, 29, 7)),
        ("wf-quarter", utc(2025, 4, 29, 7, 15)),
    ]
    assert [(f.workflow_id, f.fire_time) for f in report.fired] == app.fired
    assert (report.checked_from, report.checked_until) == (
        utc(2025, 4, 29, 6),
        utc(2025, 4, 29, 7, 20),
    )

    again = app.scheduler.run_due()
    assert again.fired == [] and len(app.fired) == 6
    assert again.checked_from == utc(2025, 4, 29, 7, 20)  # it goes on where it stopped


def test_inactive_and_non_schedule_workflows_never_fire() -> None:
    app = Harness(
        utc(2025, 4, 29, 6),
        [
            workflow("wf-off", "* * * * * *", active=False),
            workflow("wf-hook", "* * * * * *", trigger="webhook"),
        ],
    )
    app.clock.advance(3600)
    report = app.scheduler.run_due()
    assert app.fired == [] and report.problems == {} and report.truncated == []


def test_a_workflow_does_not_fire_for_times_before_it_existed() -> None:
    app = Harness(utc(2025, 4, 29, 6), [])
    app.workflows.append(workflow("wf-late", created_at="2025-04-29T07:30:00Z"))
    app.workflows.append(workflow("wf-edited", updated_at="2025-04-29T07:00:00Z"))
    app.workflows.append(workflow("wf-early", created_at="2025-04-29T06:59:59Z"))
    app.clock.set(utc(2025, 4, 30, 8))
    app.scheduler.run_due()
    assert app.fired == [
        ("wf-early", utc(2025, 4, 29, 7)),
        ("wf-early", utc(2025, 4, 30, 7)),
        ("wf-edited", utc(2025, 4, 30, 7)),
        ("wf-late", utc(2025, 4, 30, 7)),
    ]


def test_time_before_the_scheduler_started_is_not_replayed() -> None:
    app = Harness(utc(2025, 4, 30, 12), [workflow("wf-old", created_at="2025-01-15T00:00:00Z")])
    app.scheduler.run_due()
    assert app.fired == []
    caught_up = Harness(utc(2025, 4, 30, 12), app.workflows, since=utc(2025, 4, 29, 12))
    caught_up.scheduler.run_due()
    assert caught_up.fired == [("wf-old", utc(2025, 4, 30, 7))]


def test_run_due_with_an_earlier_now_fires_nothing() -> None:
    app = Harness(utc(2025, 4, 29, 6), [workflow("wf-daily")])
    app.clock.set(utc(2025, 4, 29, 8))
    app.scheduler.run_due()
    report = app.scheduler.run_due(utc(2025, 4, 29, 7, 30))
    assert report.fired == [] and len(app.fired) == 1


def test_a_year_jump_fires_at_most_limit_runs_and_skips_the_rest() -> None:
    every_second = workflow("wf-every-second", "* * * * * *", created_at="2024-12-01T00:00:00Z")
    app = Harness(utc(2025, 1, 1), [every_second], limit=50)
    app.clock.advance(365 * 24 * 3600)
    report = app.scheduler.run_due()
    assert len(app.fired) == 50 and report.truncated == ["wf-every-second"]
    assert app.fired[-1] == ("wf-every-second", utc(2025, 1, 1, 0, 0, 50))
    app.clock.advance(2)
    app.scheduler.run_due()  # the skipped backlog is not replayed
    assert app.fired[50:] == [
        ("wf-every-second", utc(2026, 1, 1, 0, 0, 1)),
        ("wf-every-second", utc(2026, 1, 1, 0, 0, 2)),
    ]


def test_a_broken_workflow_or_failing_fire_does_not_stop_the_others() -> None:
    bad_cron = workflow("wf-bad", "0 0 7 * *")
    bad_stamp = workflow("wf-stamp", created_at="yesterday")
    app = Harness(
        utc(2025, 4, 29, 6), [bad_cron, bad_stamp, workflow("wf-boom"), workflow("wf-ok")]
    )

    def fire(workflow_id: str, fire_time: datetime) -> None:
        if workflow_id == "wf-boom":
            raise RuntimeError("store is full")
        app.fired.append((workflow_id, fire_time))

    app.scheduler = Scheduler(clock=app.clock.now, list_workflows=lambda: app.workflows, fire=fire)
    app.clock.set(utc(2025, 4, 29, 8))
    report = app.scheduler.run_due()
    assert app.fired == [("wf-ok", utc(2025, 4, 29, 7))]
    assert set(report.problems) == {"wf-bad", "wf-stamp"}
    assert "has 5 fields" in report.problems["wf-bad"]
    assert [(f.workflow_id, error) for f, error in report.errors] == [
        ("wf-boom", "RuntimeError: store is full")
    ]
    assert app.scheduler.run_due().errors == []  # failed fires are not retried


def test_concurrent_run_due_calls_fire_each_run_once() -> None:
    app = Harness(utc(2025, 4, 29, 6), [workflow("wf-fast", "*/10 * * * * *")])
    app.clock.advance(600)
    threads = [threading.Thread(target=app.scheduler.run_due) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(app.fired) == 60 == len(set(app.fired))


def test_the_background_task_fires_after_the_clock_moves() -> None:
    async def scenario() -> list[tuple[str, datetime]]:
        clock = MockClock.frozen(utc(2025, 4, 29, 6, 59, 58))
        fired: list[tuple[str, datetime]] = []
        done = asyncio.Event()
        loop = asyncio.get_running_loop()

        def fire(workflow_id: str, fire_time: datetime) -> None:  # runs in a worker thread
            fired.append((workflow_id, fire_time))
            loop.call_soon_threadsafe(done.set)

        scheduler = Scheduler(
            clock=clock.now, list_workflows=lambda: [workflow("wf-daily")], fire=fire, interval=0.01
        )
        task = scheduler.start()
        assert scheduler.start() is task  # idempotent
        clock.advance(5)
        await asyncio.wait_for(done.wait(), timeout=30)
        await scheduler.stop()
        assert task.cancelled()
        return fired

    assert asyncio.run(scenario()) == [("wf-daily", utc(2025, 4, 29, 7))]


def test_a_failing_check_does_not_kill_the_background_task() -> None:
    async def scenario() -> int:
        calls = 0
        recovered = asyncio.Event()

        def list_workflows() -> list[dict[str, Any]]:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("store unavailable")
            recovered.set()
            return []

        clock = MockClock.frozen(utc(2025, 4, 29))
        scheduler = Scheduler(
            clock=lambda: clock.advance(1),  # every check sees a new second
            list_workflows=list_workflows,
            fire=lambda workflow_id, fire_time: None,
            interval=0.01,
            threaded=False,
        )
        scheduler.start()
        await asyncio.wait_for(recovered.wait(), timeout=30)
        await scheduler.stop()
        return calls

    assert asyncio.run(scenario()) >= 2


# --- scheduler and engine together ----------------------------------------------------------


def test_scheduled_runs_are_logged_as_the_docs_show(
    docs_workflow: dict[str, Any], execution_schema: SchemaValidator, spec: Spec
) -> None:
    clock = MockClock.frozen(utc(2025, 4, 29, 6))
    context = EngineContext(now=clock.now, credentials={"cred-tg-001"}, spec=spec)
    stored = {**copy.deepcopy(docs_workflow), "created_at": "2025-04-29T05:00:00Z"}
    logs: list[dict[str, Any]] = []

    def fire(workflow_id: str, fire_time: datetime) -> None:
        assert workflow_id == stored["id"]
        logs.append(execute_scheduled(stored, fire_time, context=context))

    scheduler = Scheduler(clock=clock.now, list_workflows=lambda: [stored], fire=fire)
    clock.set(utc(2025, 5, 1, 8))
    scheduler.run_due()
    scheduler.run_due()

    assert [e["started_at"] for e in logs] == [
        "2025-04-29T07:00:00Z",
        "2025-04-30T07:00:00Z",
        "2025-05-01T07:00:00Z",
    ]
    assert all(execution_schema.errors(e) == [] for e in logs)
    assert {(e["trigger_type"], e["triggered_by"], e["status"]) for e in logs} == {
        ("schedule", "scheduler", "success")
    }
    files = [e["node_results"][0]["output"]["file_url"] for e in logs]
    assert files == [
        "/exports/fr/2025-04-28.csv",
        "/exports/fr/2025-04-29.csv",
        "/exports/fr/2025-04-30.csv",
    ]
    assert [e["node_results"][1]["output"]["message_id"] for e in logs] == [42, 43, 44]
