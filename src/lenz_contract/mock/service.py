"""What the mock does, free of HTTP: workflows, runs, schedules and the clock over a `Store`.

Handlers translate requests into these calls; the admin API and the scheduler use them too,
so a manual run, a scheduled run and an imported state all go through the same rules.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
import uuid
from collections.abc import Collection, Iterator, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..spec import Spec
from ..spec.timestamps import format_utc
from .clock import MockClock
from .schedule import FirePlanner, RunReport, Scheduler, fire_key, report_planned
from .store import CLOCK_OFFSET_KEY, KEPT_WHEN_LEFT_OUT, JSONDict, Page, Snapshot, Store

if TYPE_CHECKING:
    from .engine import EngineContext, MessageCounter

logger = logging.getLogger(__name__)

__all__ = ["CLOCK_OFFSET_KEY", "WorkflowService", "fire_key"]


class StoreCredentials(Collection[str]):
    """The credential ids the engine sees, read live from the store (imports change them)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __contains__(self, item: object) -> bool:
        return item in self._store.credential_ids()

    def __iter__(self) -> Iterator[str]:
        return iter(self._store.credential_ids())

    def __len__(self) -> int:
        return len(self._store.credential_ids())


class TimeOrderedIds:
    """UUIDv7-style ids (the docs call ids UUIDs) that sort in creation order.

    Lists order by `created_at` then `id`; timestamps have whole seconds (and a frozen test
    clock repeats them), so ids must keep creation order for a page to read as created. 48 bits
    of milliseconds and a 12-bit counter make them increase within a process; 62 random bits
    keep workers apart.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0

    def __call__(self) -> str:
        with self._lock:
            now_ms = time.time_ns() // 1_000_000
            if now_ms > self._last_ms:
                self._last_ms, self._counter = now_ms, 0
            else:
                self._counter += 1
                if self._counter > 0xFFF:
                    self._last_ms, self._counter = self._last_ms + 1, 0
            ms, counter = self._last_ms, self._counter
        value = (ms & (2**48 - 1)) << 80 | 0x7 << 76 | counter << 64
        value |= 0b10 << 62 | secrets.randbits(62)
        return str(uuid.UUID(int=value))


new_workflow_id = TimeOrderedIds()


NO_DEFAULTS: Mapping[str, Any] = MappingProxyType({})


def workflow_fields(
    body: JSONDict, defaults: Mapping[str, Any], *, keep: Collection[str] = ()
) -> JSONDict:
    """The stored fields of a create or PUT `body`: the body, with the spec's `defaults` for
    what it leaves out (`is_active` true, `description` ""), except the fields in `keep` (the
    store fills those from the workflow being replaced)."""
    filled = dict(defaults)
    return {
        **{key: value for key, value in filled.items() if key not in body and key not in keep},
        **body,
    }


class WorkflowService:
    """The mock's behaviour on its state; thread-safe as far as its store is."""

    def __init__(self, spec: Spec, store: Store, clock: MockClock, seed: Snapshot) -> None:
        self.store = store
        self.clock = clock
        self.seed = seed
        self._restore_clock()
        self._spec = spec
        self._credentials = StoreCredentials(store)
        self._engine_lock = threading.Lock()
        self._messages: MessageCounter | None = None
        self._engine: EngineContext | None = None
        self.scheduler = Scheduler(clock=self.now, due=self._run_due)

    @property
    def engine(self) -> EngineContext:
        """What a run is executed with, built for the first run: the engine and its node
        simulators are imported then (~2 ms that a start before its first answer never needs)."""
        engine = self._engine
        if engine is None:
            from .engine import EngineContext, MessageCounter

            with self._engine_lock:
                if self._messages is None:
                    self._messages = MessageCounter()
                if self._engine is None:
                    self._engine = EngineContext(
                        now=self.now,
                        credentials=self._credentials,
                        messages=self._messages,
                        spec=self._spec,
                    )
                engine = self._engine
        return engine

    def use_spec(self, spec: Spec) -> None:
        """Check node configs with a reloaded spec from the next run on."""
        with self._engine_lock:
            self._spec, self._engine = spec, None

    # --- the clock ---------------------------------------------------------------------------

    def now(self) -> datetime:
        if self.store.shared:
            self._restore_clock()  # another worker may have moved it
        return self.clock.now()

    def timestamp(self) -> str:
        return format_utc(self.now())

    def _restore_clock(self) -> None:
        stored = self.store.get_meta(CLOCK_OFFSET_KEY)
        if stored is None:
            return
        try:
            ahead = float(stored) - self.clock.offset.total_seconds()
        except ValueError:
            return
        if math.isfinite(ahead) and ahead > 0:
            self.clock.advance(ahead)

    def move_clock(self, *, advance: float | None = None, to: datetime | None = None) -> RunReport:
        """Move the clock forward (raises ValueError backwards) and fire what became due.

        The store records the new offset and fires in one exclusive write, so another replica's
        background check cannot fire part of it in between: the answer lists every fire.
        """
        self.now()
        if advance is not None:
            self.clock.advance(advance)
        if to is not None:
            self.clock.set(to)
        offset = self.clock.offset.total_seconds()
        return self.scheduler.run_due(self.clock.now(), clock_offset=offset)

    def _run_due(self, report: RunReport, now: datetime, clock_offset: float | None) -> None:
        """The scheduler's check through the store's due index (`Store.fire_due`): only the
        workflows whose next due time has come are read. A background check (no clock move)
        skips a namespace another replica is firing at this moment."""
        planner = FirePlanner(self._execute_scheduled, self.scheduler.limit)
        planned = self.store.fire_due(
            now, planner, clock_offset=clock_offset, wait=clock_offset is not None
        )
        if planned is not None:
            report_planned(report, planned)

    def _execute_scheduled(self, workflow: Mapping[str, Any], fire_time: datetime) -> JSONDict:
        from .engine import execute_scheduled

        return execute_scheduled(workflow, fire_time, context=self.engine)

    # --- workflows ---------------------------------------------------------------------------

    def list_workflows(self, search: str, page: int, limit: int) -> Page:
        return self.store.list_workflows(search, (page - 1) * limit, limit)

    def get_workflow(self, workflow_id: str) -> JSONDict | None:
        return self.store.get_workflow(workflow_id)

    def create_workflow(
        self, body: JSONDict, defaults: Mapping[str, Any] = NO_DEFAULTS
    ) -> JSONDict:
        """POST: the body, with `defaults` (the spec's: `is_active` true) and `description: ""`
        for what it leaves out."""
        workflow = {
            "id": new_workflow_id(),
            **workflow_fields(body, defaults),
            "created_at": self.timestamp(),
            "updated_at": None,
        }
        self.store.insert_workflow(workflow)
        return workflow

    def update_workflow(
        self, workflow_id: str, body: JSONDict, defaults: Mapping[str, Any] = NO_DEFAULTS
    ) -> JSONDict | None:
        """PUT, a full replacement; None when the id is unknown.

        Decision (PUT without `is_active`): the body replaces every field it may carry, and
        what it leaves out becomes what a create would store (`description: ""`), except
        `is_active`: left out, it keeps the workflow's current value (a PUT that forgets the
        flag must not switch a schedule on). The store keeps it (`store.replaced_workflow`),
        inside its write; the create default (`is_active` true) is only for creates.
        """
        fields = workflow_fields(body, defaults, keep=KEPT_WHEN_LEFT_OUT)
        return self.store.replace_workflow(workflow_id, fields, self.timestamp())

    def delete_workflow(self, workflow_id: str) -> bool:
        return self.store.delete_workflow(workflow_id)

    # --- runs --------------------------------------------------------------------------------

    def execute_workflow(self, workflow_id: str, user: str) -> JSONDict | None:
        """Run now, by hand; None when the workflow is unknown (or deleted meanwhile)."""
        from .engine import TRIGGER_MANUAL, execute

        workflow = self.store.get_workflow(workflow_id)
        if workflow is None:
            return None
        execution = execute(
            workflow, context=self.engine, trigger_type=TRIGGER_MANUAL, triggered_by=user
        )
        return execution if self.store.add_execution(execution) else None

    def list_executions(self, workflow_id: str, page: int, limit: int) -> Page | None:
        return self.store.list_executions(workflow_id, (page - 1) * limit, limit)

    # --- whole state -------------------------------------------------------------------------

    def reset(self, *, seed: bool = True) -> None:
        self.store.restore(self.seed if seed else Snapshot(), floor=self.now())

    def export_state(self) -> dict[str, Any]:
        snapshot = self.store.snapshot()
        return {
            "workflows": snapshot.workflows,
            "executions": snapshot.executions,
            "credentials": snapshot.credentials,
            "clock": {
                "now": self.timestamp(),
                "offset_seconds": self.clock.offset / timedelta(seconds=1),
            },
        }

    def import_state(self, snapshot: Snapshot) -> None:
        self.store.restore(snapshot, floor=self.now())
