"""Fire scheduled workflows at their six-field cron times (seconds first, UTC), on the mock clock.

The docs' cron `0 0 7 * * *` fires at 07:00:00 and their scheduled run starts at
`2025-04-30T07:00:00Z`, so cron times are read in UTC. croniter does the cron arithmetic
(`second_at_beginning=True`); this module only decides *which* fire times are due.

Windows are half-open, `(after, until]`: a fire time equal to the previous check was handled by
that check, one equal to `now` is due now. A workflow is due only from its `created_at` /
`updated_at` on (a workflow created at 07:30 does not fire for 07:00 of the same day), and the
scheduler never replays time before it started.

Two ways to find what is due. The mock's stores keep, per workflow, the instant after which
its fires are still to come (`due_after`) and its next fire time (`next_due`, a sortable key),
updated on every write and every fire (`due_entry`, `plan_fires`): a check reads only the
workflows whose `next_due` has come (`Scheduler(due=...)`), so it costs what is due, not what
exists. The scan (`Scheduler(list_workflows=...)`) reads every scheduled workflow each check;
it is the reference the due index is tested against (tests/mock/engine/test_due_index.py).

Runaway bound: when the clock jumps far ahead (a year, for `* * * * * *`), at most `limit` fire
times per workflow are fired per check (the earliest ones); the rest of that window is skipped,
not queued, and the workflow is named in `RunReport.truncated`. Replaying millions of missed
runs would only freeze the mock; a real scheduler also drops misfires after downtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..spec.timestamps import format_utc, parse_rfc3339
from .clock import as_utc

logger = logging.getLogger(__name__)

croniter: Any = None
"""croniter's class, imported on first use (`_load_croniter`): with dateutil it costs ~25 ms,
and a mock needs it only once a schedule is checked or a cron validated, not to start."""
CroniterBadDateError: Any = None


def _load_croniter() -> None:
    global croniter, CroniterBadDateError
    if croniter is None or CroniterBadDateError is None:
        import croniter as module

        croniter = croniter or module.croniter
        CroniterBadDateError = CroniterBadDateError or module.CroniterBadDateError


DEFAULT_LIMIT = 1000
CRON_FIELDS = 6
SCHEDULE_TRIGGER = "schedule"
"""The `trigger_node.type` that the scheduler fires (the docs' only trigger type)."""


NOW_KEY = ""
"""A `next_due` key that is due at once (sorts before every time): a workflow whose schedule
must be worked out by the next check (a broken cron to report, a row from an older schema)."""


@functools.lru_cache(maxsize=4096)
def due_key(when: datetime) -> str:
    """The sortable text form of an instant the stores keep (`order_key`'s form:
    `2025-04-30T07:00:00.000000Z`), compared as text by every store."""
    if when.tzinfo is not UTC:
        when = as_utc(when)
    # isoformat is C and ~6x faster than strftime (a create computes two of these)
    return when.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def fire_key(workflow_id: str, fire_time: datetime) -> str:
    """One scheduled fire, whichever replica, worker or path fires it (unique per namespace)."""
    return f"{workflow_id}@{format_utc(fire_time)}"


def from_key(key: str | None) -> datetime | None:
    """The instant of a `due_key` (None for None or `NOW_KEY`)."""
    return parse_rfc3339(key) if key else None


class CronError(ValueError):
    """Not a six-field cron expression croniter can run."""


def validate_cron(expression: str) -> None:
    """Raise `CronError` unless `expression` is a six-field (seconds-first) cron."""
    fields = expression.split()
    if len(fields) != CRON_FIELDS:
        raise CronError(
            f"{expression!r} has {len(fields)} fields; a Lenz cron has six, seconds first "
            "(`0 0 7 * * *` is 07:00:00 every day)"
        )
    if not _valid_cron(expression):
        raise CronError(f"{expression!r} is not a valid cron expression")


@functools.lru_cache(maxsize=4096)
def _valid_cron(expression: str) -> bool:
    """croniter's check costs ~150 µs; the scheduler asks it for every workflow every tick."""
    _load_croniter()
    return bool(croniter.is_valid(expression, second_at_beginning=True))


@dataclass(frozen=True)
class DueFires:
    times: list[datetime]
    """Fire times in `(after, until]`, oldest first, at most `limit` of them."""
    truncated: bool
    """More than `limit` fire times fell in the window; only the first `limit` are listed."""


def due_fires(cron: str, after: datetime, until: datetime, limit: int = DEFAULT_LIMIT) -> DueFires:
    """The fire times of `cron` in `(after, until]` (aware datetimes), bounded by `limit`."""
    validate_cron(cron)
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    after, until = as_utc(after, "after"), as_utc(until, "until")
    times: list[datetime] = []
    if until <= after:
        return DueFires(times, truncated=False)
    _load_croniter()
    schedule = croniter(cron, after, second_at_beginning=True)
    while True:
        try:
            nxt: datetime = schedule.get_next(datetime)
        except CroniterBadDateError:  # a date that never comes, e.g. `0 0 0 31 2 *`
            return DueFires(times, truncated=False)
        if nxt > until:
            return DueFires(times, truncated=False)
        if len(times) == limit:
            return DueFires(times, truncated=True)
        times.append(nxt)


@functools.lru_cache(maxsize=8192)
def next_fire(cron: str, after: datetime) -> datetime | None:
    """The first fire time of `cron` after `after` (None when it never comes); cached, because
    workflows written in the same second with the same cron share it (croniter costs ~300 µs)."""
    _load_croniter()
    try:
        found: datetime = croniter(cron, after, second_at_beginning=True).get_next(datetime)
    except CroniterBadDateError:
        return None
    return found


def _latest(*times: datetime | None) -> datetime | None:
    present = [t for t in times if t is not None]
    return max(present) if present else None


def due_entry(workflow: Mapping[str, Any], floor: datetime | None) -> tuple[str | None, str | None]:
    """`(due_after, next_due)` keys a store keeps for `workflow` as it writes it.

    Fires are due after the workflow's `updated_at` / `created_at` and after `floor` (the
    namespace's floor: nothing before its creation, last import or restart is replayed);
    `next_due` is the first cron time after that. `(None, None)`: not scheduled (inactive, or
    another trigger). A scheduled workflow that cannot be scheduled (bad cron or timestamp)
    is due at once (`NOW_KEY`), so that the next check reports it, once.
    """
    try:
        scheduled = scheduled_workflow(workflow)
    except ValueError:
        return None, NOW_KEY
    if scheduled is None:
        return None, None
    anchor = _latest(scheduled.due_from, floor)
    if anchor is None:
        return None, NOW_KEY
    nxt = next_fire(scheduled.cron, anchor)
    return due_key(anchor), (due_key(nxt) if nxt is not None else None)


def is_scheduled(workflow: Mapping[str, Any]) -> bool:
    """Whether the scheduler fires `workflow`: `is_active: true` and a `schedule` trigger
    (its cron may still be broken: `scheduled_workflow` says so)."""
    trigger = workflow.get("trigger_node")
    return (
        workflow.get("is_active") is True
        and isinstance(trigger, Mapping)
        and trigger.get("type") == SCHEDULE_TRIGGER
    )


def deferred_due_entry(workflow: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """`due_entry` without croniter, for a state loaded whole (the seed at start, a reset, an
    import): a workflow that may be scheduled is due at once (`NOW_KEY`), so the next check,
    in the background, works out its schedule or reports it; croniter (8 ms of imports) then
    stays off the path to the mock's first answer. Fires are due after the same anchor as
    `due_entry`'s: the check takes the later of the workflow's timestamps and the floor."""
    return (None, NOW_KEY) if is_scheduled(workflow) else (None, None)


@dataclass
class Planned:
    """What one due workflow fires in a check, and where its schedule stands afterwards."""

    workflow_id: str
    fires: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)
    """`(fire time, execution)`, oldest first: the runs to record (one fire key each)."""
    next_due: str | None = None
    truncated: bool = False
    problem: str | None = None
    errors: list[tuple[datetime, str]] = field(default_factory=list)


Execute = Callable[[Mapping[str, Any], datetime], dict[str, Any]]


class FirePlanner:
    """Works out each due workflow's fires in `(after, now]` and its next due time.

    One per check: workflows sharing a cron and a window start share one croniter walk (the
    same saving as the scan's, `Scheduler._collect`). `execute(workflow, fire_time)` builds
    the run (the engine); a run that raises is reported, and not retried.
    """

    def __init__(self, execute: Execute, limit: int = DEFAULT_LIMIT) -> None:
        self._execute = execute
        self.limit = limit
        self._windows: dict[tuple[str, datetime, datetime], DueFires] = {}

    def __call__(
        self, workflow: Mapping[str, Any], after: datetime | None, now: datetime
    ) -> Planned:
        workflow_id = str(workflow.get("id"))
        try:
            scheduled = scheduled_workflow(workflow)
        except ValueError as exc:
            return Planned(workflow_id, problem=str(exc))
        if scheduled is None:
            return Planned(workflow_id)
        start = _latest(after, scheduled.due_from) or now
        key = (scheduled.cron, start, now)
        found = self._windows.get(key)
        if found is None:
            found = self._windows[key] = due_fires(scheduled.cron, start, now, self.limit)
        planned = Planned(workflow_id, truncated=found.truncated)
        if found.truncated:
            logger.warning(
                "workflow %s: more than %d runs due up to %s; the rest are skipped",
                workflow_id,
                self.limit,
                now.isoformat(),
            )
        for fire_time in found.times:
            try:
                planned.fires.append((fire_time, self._execute(workflow, fire_time)))
            except Exception as exc:
                logger.exception("scheduled run of %s at %s failed", workflow_id, fire_time)
                planned.errors.append((fire_time, f"{type(exc).__name__}: {exc}"))
        nxt = next_fire(scheduled.cron, as_utc(now))
        planned.next_due = due_key(nxt) if nxt is not None else None
        return planned


@dataclass(frozen=True, slots=True)
class ScheduledWorkflow:
    workflow_id: str
    cron: str
    due_from: datetime | None
    """Only fire times after this are due: the workflow's `updated_at`, else `created_at`."""


def scheduled_workflow(workflow: Mapping[str, Any]) -> ScheduledWorkflow | None:
    """What the scheduler needs of a stored workflow; `None` if it must not fire.

    Only `is_active: true` workflows whose `trigger_node.type` is `schedule` fire. Raises
    `ValueError` (a `CronError` for the cron) when a scheduled workflow cannot be scheduled.
    """
    if not is_scheduled(workflow):
        return None
    config = workflow["trigger_node"].get("config")
    cron = config.get("cron") if isinstance(config, Mapping) else None
    if not isinstance(cron, str):
        raise CronError("trigger_node.config.cron is missing")
    validate_cron(cron)
    stamps = [workflow.get(key) for key in ("created_at", "updated_at")]
    times = [_instant(stamp) for stamp in stamps if isinstance(stamp, str)]
    times += [as_utc(stamp) for stamp in stamps if isinstance(stamp, datetime)]
    return ScheduledWorkflow(str(workflow["id"]), cron, max(times) if times else None)


def schedule_key(workflow: Mapping[str, Any]) -> tuple[Any, ...]:
    """Every field `scheduled_workflow` reads (but the id): equal keys, equal schedules.

    The scheduler checks every active workflow each second; at 100,000 of them, reading two
    timestamps and a cron for each took ~0.5 s a check (a thread always busy, holding the GIL
    the server needs). It now reads them again only for a workflow whose key changed.
    """
    trigger: Any = workflow.get("trigger_node")
    mapping = type(trigger) is dict or isinstance(trigger, Mapping)  # the ABC check is slow
    config: Any = trigger.get("config") if mapping else None
    return (
        workflow.get("is_active"),
        workflow.get("created_at"),
        workflow.get("updated_at"),
        trigger.get("type") if mapping else None,
        config.get("cron") if type(config) is dict or isinstance(config, Mapping) else None,
    )


@functools.lru_cache(maxsize=4096)
def _instant(stamp: str) -> datetime:
    """A workflow's timestamp as an instant; a broken one makes the workflow a problem.
    Cached: workflows written in the same second share their timestamp."""
    when = parse_rfc3339(stamp)
    if when is None:
        raise ValueError(f"{stamp!r} is not an RFC 3339 timestamp")
    return when


@dataclass(frozen=True)
class Fire:
    workflow_id: str
    fire_time: datetime


@dataclass
class RunReport:
    """What one check did; the admin API can answer it after moving the clock."""

    checked_from: datetime
    checked_until: datetime
    fired: list[Fire] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)
    """Workflows with more than `limit` due fires: the rest of their window was skipped."""
    problems: dict[str, str] = field(default_factory=dict)
    """Workflows that could not be scheduled (bad cron or timestamps), with the reason."""
    errors: list[tuple[Fire, str]] = field(default_factory=list)
    """Fires whose callback raised; they are not retried."""


FireCallback = Callable[[str, datetime], None]
ListWorkflows = Callable[[], Iterable[Mapping[str, Any]]]
RunDue = Callable[[RunReport, datetime, float | None], None]
"""A store-backed check: fire what is due up to `now` into the report (the due index);
the float is the clock offset to record with it (a clock move), or None."""


def report_planned(report: RunReport, planned: Iterable[Planned]) -> None:
    """Add what a store-backed check did to `report` (fires sorted as the scan sorts them)."""
    fired: list[Fire] = []
    for item in planned:
        fired += [Fire(item.workflow_id, fire_time) for fire_time, _ in item.fires]
        if item.truncated:
            report.truncated.append(item.workflow_id)
        if item.problem is not None:
            report.problems[item.workflow_id] = item.problem
        report.errors += [(Fire(item.workflow_id, t), why) for t, why in item.errors]
    fired.sort(key=lambda fire: (fire.fire_time, fire.workflow_id))
    report.fired += fired


class Scheduler:
    """Fires due schedules through `fire(workflow_id, fire_time)`; storage-agnostic.

    What is due comes from the scan (`list_workflows` and `fire`: every scheduled workflow is
    read each check) or from a store's due index (`due`: only what is due is read, and the
    store records the runs and moves each workflow's next due time in one write).

    Drive it both ways: `start()` in the app's lifespan (a task that calls `run_due()` about
    every `interval` seconds, in a worker thread unless `threaded=False`), and `run_due()`
    directly right after the admin API moves the clock. A lock and one watermark (the last
    check's time) make every fire time fire exactly once whichever path gets there first; when
    `run_due()` returns, every fire due up to its `now` has been handed to `fire`.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        list_workflows: ListWorkflows | None = None,
        fire: FireCallback | None = None,
        due: RunDue | None = None,
        since: datetime | None = None,
        limit: int = DEFAULT_LIMIT,
        interval: float = 1.0,
        threaded: bool = True,
    ) -> None:
        if due is None and (list_workflows is None or fire is None):
            raise TypeError("give `due`, or both `list_workflows` and `fire`")
        self._clock = clock
        self._list_workflows: ListWorkflows = list_workflows or (lambda: ())
        self._fire: FireCallback = fire or (lambda workflow_id, fire_time: None)
        self._due = due
        self._last = as_utc(since if since is not None else clock(), "since")
        self.limit = limit
        self.interval = interval
        self.threaded = threaded
        self._lock = threading.RLock()
        self._task: asyncio.Task[None] | None = None
        self._known: dict[str, tuple[tuple[Any, ...], ScheduledWorkflow | None]] = {}

    def run_due(
        self, now: datetime | None = None, *, clock_offset: float | None = None
    ) -> RunReport:
        """Fire every schedule due in `(last check, now]`, oldest first; `now` defaults to the clock.

        With a due index, what is due is each workflow's own window (`due_after`, now]; the
        store records `clock_offset` (a clock move) in the same exclusive write.
        """
        with self._lock:
            until = as_utc(now if now is not None else self._clock(), "now")
            report = RunReport(checked_from=self._last, checked_until=max(until, self._last))
            if self._due is not None:
                self._due(report, until, clock_offset)
                self._last = max(until, self._last)
                return report
            if until <= self._last:
                return report
            due = self._collect(report, self._last, until)
            self._last = until  # before firing: a re-entrant call finds nothing left to fire
            for fire in due:
                try:
                    self._fire(fire.workflow_id, fire.fire_time)
                except Exception as exc:
                    logger.exception("scheduled run of %s at %s failed", *_describe(fire))
                    report.errors.append((fire, f"{type(exc).__name__}: {exc}"))
                else:
                    report.fired.append(fire)
            return report

    def _collect(self, report: RunReport, after: datetime, until: datetime) -> list[Fire]:
        due: list[Fire] = []
        # Workflows sharing a cron and a window start share its fires: croniter costs ~300 µs a
        # call, and once a tick had to call it for every one of 100,000 workflows (a minute).
        windows: dict[tuple[str, datetime], DueFires] = {}
        known: dict[str, tuple[tuple[Any, ...], ScheduledWorkflow | None]] = self._known
        seen: dict[str, tuple[tuple[Any, ...], ScheduledWorkflow | None]] = {}
        for workflow in self._list_workflows():
            workflow_id = str(workflow.get("id"))
            try:
                key = schedule_key(workflow)
                cached = known.get(workflow_id)
                if cached is None or cached[0] != key:
                    cached = (key, scheduled_workflow(workflow))
                seen[workflow_id] = cached  # the same tuple: nothing new for the GC to walk
                scheduled = cached[1]
                if scheduled is None:
                    continue
                due_from = scheduled.due_from
                start = after if due_from is None or due_from <= after else due_from
                found = windows.get((scheduled.cron, start))
                if found is None:
                    found = due_fires(scheduled.cron, start, until, self.limit)
                    windows[(scheduled.cron, start)] = found
            except ValueError as exc:
                report.problems[workflow_id] = str(exc)
                continue
            if not found.times:
                continue
            if found.truncated:
                logger.warning(
                    "workflow %s: more than %d runs due up to %s; the rest are skipped",
                    workflow_id,
                    self.limit,
                    until.isoformat(),
                )
                report.truncated.append(workflow_id)
            due += [Fire(workflow_id, time) for time in found.times]
        self._known = seen  # workflows gone since the last check are forgotten
        due.sort(key=lambda fire: (fire.fire_time, fire.workflow_id))
        return due

    async def run(self) -> None:
        """Check about every `interval` seconds until cancelled; a failing check is logged.

        The first check comes one interval after the start: its window would only hold the
        instant since the scheduler was built, and a check at once would compete with the
        server's first answers (it reads every scheduled workflow and imports croniter).
        """
        while True:
            await asyncio.sleep(self.interval)
            try:
                if self.threaded:
                    await asyncio.to_thread(self.run_due)
                else:
                    self.run_due()
            except Exception:
                logger.exception("scheduler check failed")

    def start(self) -> asyncio.Task[None]:
        """Start `run()` as a task of the running loop (call it in the app's lifespan)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self.run(), name="lenz-mock-scheduler"
            )
        return self._task

    async def stop(self) -> None:
        """Cancel the task started by `start()` and wait for it."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _describe(fire: Fire) -> tuple[str, str]:
    return fire.workflow_id, fire.fire_time.isoformat()
