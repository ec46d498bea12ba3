"""The scheduler's due index: every store keeps each workflow's next due time, so a check reads
only what is due, and fires exactly what the scan (the reference, `Scheduler(list_workflows)`)
fires, once, even with two processes checking at the same moment.

The differential test drives both with the same random story (creates, cron edits, switches
off and on, deletes, clock moves of any size, checks) on every store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lenz_contract.mock.clock import MockClock
from lenz_contract.mock.schedule import (
    NOW_KEY,
    FirePlanner,
    RunReport,
    Scheduler,
    due_entry,
    due_fires,
    due_key,
    report_planned,
)
from lenz_contract.mock.sqlite_store import SqliteStore
from lenz_contract.mock.store import MemoryStore, Snapshot, Store
from lenz_contract.spec.timestamps import format_utc

START = datetime(2025, 4, 29, 6, 0, tzinfo=UTC)
CRONS = ["0 0 7 * * *", "*/20 0-1 7 * * *", "0 */15 * * * *", "0 30 9 * * MON-FRI", "*/7 * * * * *"]
STORES = ["memory", "sqlite", "postgres"]


def workflow(wid: str, cron: str, at: datetime, *, active: bool = True) -> dict[str, Any]:
    return {
        "id": wid,
        "name": wid,
        "is_active": active,
        "trigger_node": {"type": "schedule", "config": {"cron": cron}},
        "nodes": [],
        "created_at": format_utc(at),
        "updated_at": None,
    }


def run_of(workflow: Any, fire_time: datetime) -> dict[str, Any]:
    """A minimal execution: the store only needs its id, workflow and start."""
    return {
        "id": f"exec-{workflow['id']}-{format_utc(fire_time)}",
        "workflow_id": workflow["id"],
        "started_at": format_utc(fire_time),
    }


@pytest.fixture(params=STORES)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A factory of empty stores of one kind; a second call on SQLite or PostgreSQL gives
    another connection to the same state (another process, as far as locks go)."""
    made: list[Store] = []
    url = request.getfixturevalue("postgres_url") if kind == "postgres" else None

    def factory() -> Store:
        store: Store
        if kind == "memory":
            store = MemoryStore()
        elif kind == "sqlite":
            store = SqliteStore(tmp_path / "s.sqlite")
        else:
            from lenz_contract.mock.postgres_store import PostgresStore

            assert url is not None
            store = PostgresStore(url)
        made.append(store)
        return store

    yield factory
    for store in made:
        store.close()


class DueHarness:
    """A store, a frozen clock and a store-backed scheduler, as the service wires them."""

    def __init__(self, store: Store, at: datetime = START, limit: int = 1000) -> None:
        self.store = store
        self.clock = MockClock.frozen(at)
        self.planned_reads = 0
        store.restore(Snapshot(), floor=self.clock.now())
        self.scheduler = Scheduler(clock=self.clock.now, due=self.run_due, limit=limit)

    def plan(self) -> FirePlanner:
        planner = FirePlanner(run_of, self.scheduler.limit)

        def counting(workflow: Any, after: Any, now: datetime) -> Any:
            self.planned_reads += 1
            return planner(workflow, after, now)

        return counting  # type: ignore[return-value]

    def run_due(self, report: RunReport, now: datetime, offset: float | None) -> None:
        planned = self.store.fire_due(now, self.plan(), clock_offset=offset, wait=True)
        assert planned is not None
        report_planned(report, planned)


class ScanHarness:
    """The reference: the scan over a dict of workflows."""

    def __init__(self, at: datetime = START, limit: int = 1000) -> None:
        self.clock = MockClock.frozen(at)
        self.workflows: dict[str, dict[str, Any]] = {}
        self.fired: list[tuple[str, datetime]] = []
        self.scheduler = Scheduler(
            clock=self.clock.now,
            list_workflows=lambda: list(self.workflows.values()),
            fire=lambda wid, t: self.fired.append((wid, t)),
            limit=limit,
        )


def fires(report: RunReport) -> list[tuple[str, datetime]]:
    return [(f.workflow_id, f.fire_time) for f in report.fired]


# --- the bookkeeping --------------------------------------------------------------------------


def test_due_entry_is_the_first_fire_after_the_workflow_and_the_floor() -> None:
    daily = workflow("w", "0 0 7 * * *", START)
    assert due_entry(daily, None) == (due_key(START), due_key(START.replace(hour=7)))
    later = START + timedelta(days=3)
    assert due_entry(daily, later)[1] == due_key(later.replace(hour=7))
    assert due_entry({**daily, "is_active": False}, None) == (None, None)
    assert due_entry({**daily, "trigger_node": {"type": "webhook"}}, None) == (None, None)
    broken = {**daily, "trigger_node": {"type": "schedule", "config": {"cron": "0 7 * * *"}}}
    assert due_entry(broken, None) == (None, NOW_KEY)  # due at once: the check reports it


def test_next_due_follows_create_update_delete_fire_and_clock_moves(new_store: Any) -> None:
    harness = DueHarness(new_store())
    store = harness.store
    assert store.next_due() is None
    store.insert_workflow(workflow("a", "0 0 7 * * *", START))
    assert store.next_due() == due_key(START.replace(hour=7))
    store.insert_workflow(workflow("b", "0 */15 * * * *", START))
    assert store.next_due() == due_key(START + timedelta(minutes=15))
    assert store.replace_workflow(
        "b",
        {"name": "b", "is_active": True, "nodes": [],
         "trigger_node": {"type": "schedule", "config": {"cron": "0 30 6 * * *"}}},
        format_utc(START),
    )  # fmt: skip
    assert store.next_due() == due_key(START + timedelta(minutes=30))
    store.replace_workflow("b", {"name": "b", "is_active": False, "nodes": []}, format_utc(START))
    assert store.next_due() == due_key(START.replace(hour=7))  # b is off: a's time
    harness.clock.advance(3600 + 60)  # past 07:00: a fires, and its next time is tomorrow's
    report = harness.scheduler.run_due(clock_offset=harness.clock.offset.total_seconds())
    assert fires(report) == [("a", START.replace(hour=7))]
    assert store.next_due() == due_key(START.replace(hour=7) + timedelta(days=1))
    assert store.get_meta("clock_offset_seconds") == repr(3660.0)
    assert store.delete_workflow("a")
    assert store.next_due() is None


def test_a_check_reads_only_what_is_due(new_store: Any) -> None:
    """2,000 daily workflows and one every 7 seconds: a check in between reads one workflow,
    not 2,001 (the scan reads them all, every second)."""
    harness = DueHarness(new_store())
    store = harness.store
    many = [workflow(f"w{i:04d}", "0 0 7 * * *", START) for i in range(2000)]
    store.restore(Snapshot([*many, workflow("fast", "*/7 * * * * *", START)]), floor=START)
    for _ in range(10):
        harness.clock.advance(1)
        harness.scheduler.run_due()
    assert harness.planned_reads == 1  # "fast" at 06:00:07 only
    harness.planned_reads = 0
    harness.clock.set(START.replace(hour=7, second=1))  # 07:00: every daily one is due
    report = harness.scheduler.run_due()
    assert {w for w, t in fires(report) if t == START.replace(hour=7)} == {
        *(w["id"] for w in many),
        "fast",
    }
    assert harness.planned_reads == 2001
    harness.planned_reads = 0
    harness.clock.advance(1)
    harness.scheduler.run_due()
    assert harness.planned_reads == 0


def test_a_broken_schedule_is_reported_once(new_store: Any) -> None:
    harness = DueHarness(new_store())
    broken = workflow("bad", "0 0 7 * * *", START)
    broken["trigger_node"]["config"]["cron"] = "0 7 * * *"
    harness.store.insert_workflow(broken)
    harness.clock.advance(1)
    first = harness.scheduler.run_due()
    assert "has 5 fields" in first.problems["bad"]
    harness.clock.advance(1)
    assert harness.scheduler.run_due().problems == {}
    assert harness.store.next_due() is None


def test_an_import_replays_nothing_before_it(new_store: Any) -> None:
    """Imported workflows created long ago fire only for times after the import."""
    harness = DueHarness(new_store())
    old = [workflow(f"old{i}", "0 0 7 * * *", START - timedelta(days=400)) for i in range(3)]
    harness.store.restore(Snapshot(old), floor=harness.clock.now())
    harness.clock.advance(2 * 3600)
    report = harness.scheduler.run_due()
    assert sorted(fires(report)) == [(w["id"], START.replace(hour=7)) for w in old]


def test_a_raised_floor_drops_missed_fires(new_store: Any) -> None:
    """A restart raises the floor: fires older than it are not replayed, later ones are."""
    harness = DueHarness(new_store())
    harness.store.insert_workflow(workflow("q", "0 */15 * * * *", START))
    harness.clock.advance(3 * 3600)  # three hours "down"
    harness.store.raise_floor(harness.clock.now() - timedelta(minutes=20))
    report = harness.scheduler.run_due()
    assert [t for _, t in fires(report)] == [
        START + timedelta(hours=2, minutes=45),
        START + timedelta(hours=3),
    ]


def test_two_processes_checking_at_once_fire_each_due_time_once(kind: str, new_store: Any) -> None:
    """Two connections to one state (SQLite, PostgreSQL) or one store from two threads
    (memory) check the same instant at once: each fire is recorded once, by one of them."""
    first = DueHarness(new_store())
    second = first if kind == "memory" else DueHarness(new_store())
    workflows = [workflow(f"w{i:03d}", "*/7 * * * * *", START) for i in range(60)]
    first.store.restore(Snapshot(workflows), floor=START)
    for harness in {id(first): first, id(second): second}.values():
        harness.clock.advance(60)
    per_workflow = len(due_fires("*/7 * * * * *", START, START + timedelta(seconds=60)).times)
    assert per_workflow == 9  # 06:00:07 ... 06:00:56, and 06:01:00
    reports: list[RunReport] = []
    lock = threading.Lock()

    def check(harness: DueHarness) -> None:
        report = harness.scheduler.run_due()
        with lock:
            reports.append(report)

    threads = [threading.Thread(target=check, args=(h,)) for h in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    everything = [fire for report in reports for fire in fires(report)]
    assert len(everything) == len(set(everything)) == 60 * per_workflow
    for item in workflows:
        page = first.store.list_executions(item["id"], 0, 100)
        assert page is not None and page.total == per_workflow


def test_a_background_check_skips_a_namespace_another_replica_is_firing(
    request: pytest.FixtureRequest,
) -> None:
    """PostgreSQL: the namespace's advisory lock is held elsewhere; a background check
    (wait=False) returns at once instead of waiting."""
    import psycopg

    from lenz_contract.mock.postgres_store import PostgresStore, _lock_key

    url = request.getfixturevalue("postgres_url")
    store = PostgresStore(url)
    harness = DueHarness(store)
    store.insert_workflow(workflow("w", "*/7 * * * * *", START))
    with psycopg.connect(url) as other, other.transaction():
        other.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (_lock_key("default"),)
        )
        assert store.fire_due(START + timedelta(minutes=1), harness.plan(), wait=False) is None
    assert store.fire_due(START + timedelta(minutes=1), harness.plan(), wait=False)
    store.close()


# --- the same fires as the scan ------------------------------------------------------------------

steps = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.sampled_from(CRONS)),
        st.tuples(st.just("edit"), st.sampled_from(CRONS)),
        st.tuples(st.just("switch"), st.booleans()),
        st.tuples(st.just("delete"), st.none()),
        st.tuples(
            st.just("advance"),
            st.sampled_from([0, 1, 7, 59, 600, 3599, 86400, 3 * 86400]),
        ),
        st.tuples(st.just("check"), st.none()),
    ),
    max_size=14,
)


@pytest.fixture
def shared_store(new_store: Any) -> Store:
    store: Store = new_store()
    return store


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=steps)
def test_the_due_index_fires_exactly_what_the_scan_fires(
    shared_store: Store, story: list[tuple[str, Any]]
) -> None:
    scan = ScanHarness(limit=40)
    due = DueHarness(shared_store, limit=40)
    made = 0
    scan_fires: list[tuple[str, datetime]] = []
    due_fires_: list[tuple[str, datetime]] = []
    for action, value in story:
        now = scan.clock.now()
        stamp = format_utc(now)
        alive = sorted(scan.workflows)
        if action == "create":
            made += 1
            item = workflow(f"w{made:02d}", value, now)
            scan.workflows[item["id"]] = dict(item)
            due.store.insert_workflow(dict(item))
        elif action in ("edit", "switch") and alive:
            target = scan.workflows[alive[made % len(alive)]]
            fields = {
                k: v for k, v in target.items() if k not in ("id", "created_at", "updated_at")
            }
            if action == "edit":
                fields["trigger_node"] = {"type": "schedule", "config": {"cron": value}}
            else:
                fields["is_active"] = value
            replaced = due.store.replace_workflow(target["id"], fields, stamp)
            assert replaced is not None
            scan.workflows[target["id"]] = replaced
        elif action == "delete" and alive:
            victim = alive[made % len(alive)]
            del scan.workflows[victim]
            assert due.store.delete_workflow(victim)
        elif action == "advance":
            scan.clock.advance(value)
            due.clock.advance(value)
        elif action == "check":
            scan_fires += fires(scan.scheduler.run_due())
            due_fires_ += fires(due.scheduler.run_due())
    scan_fires += fires(scan.scheduler.run_due())
    due_fires_ += fires(due.scheduler.run_due())
    assert sorted(due_fires_) == sorted(scan_fires)
    assert len(set(due_fires_)) == len(due_fires_)


def test_a_small_loaded_state_is_scheduled_by_the_first_check_with_the_same_fires() -> None:
    """The seed's schedules wait for the first check (croniter stays off the start-up path);
    that check fires exactly what a store that worked them out at load time fires."""
    loaded = [workflow(f"w{i}", "0 0 7 * * *", START) for i in range(3)]
    deferred, eager = DueHarness(MemoryStore()), DueHarness(MemoryStore())
    deferred.store.restore(Snapshot([dict(w) for w in loaded]), floor=START)
    for item in loaded:
        eager.store.insert_workflow(dict(item))
    assert deferred.store.next_due() == NOW_KEY  # due at once: nothing worked out yet
    for harness in (deferred, eager):
        harness.clock.set(START.replace(hour=7, second=1))
    assert fires(deferred.scheduler.run_due()) == fires(eager.scheduler.run_due())
    assert deferred.store.next_due() == eager.store.next_due() != NOW_KEY
