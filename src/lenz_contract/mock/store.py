"""Where the mock keeps its workflows, executions and credentials: the `Store` protocol and the
in-memory store.

A `Store` is one namespace's state (`namespaces.py`: a header or a token selects one); a
`Backend` is where the namespaces live (memory, a SQLite file, a PostgreSQL database) and opens
each one, seeding it once. Every store also keeps each scheduled workflow's next due time
(`schedule.due_entry`), so the scheduler's check reads only what is due (`fire_due`).

Orders are the ones docs/contract-decisions.md fixes: workflows by `created_at` then `id`, a
workflow's executions newest first. Both stores keep those orders as they write, so a page costs
O(page), never a sort per request, and a search reads an index of name trigrams instead of
every name: the benchmark holds 100,000 workflows and 1,000,000 executions.
"""

from __future__ import annotations

import functools
import heapq
import threading
from abc import ABC, abstractmethod
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from ..spec.timestamps import parse_rfc3339
from .name_index import NameIndex
from .runlog import PLACE_BYTES, RunCodec, RunLog, in_arrival_order, placed, run_key
from .schedule import (
    Planned,
    deferred_due_entry,
    due_entry,
    due_key,
    fire_key,
    from_key,
    is_scheduled,
)

JSONDict = dict[str, Any]
SEARCH_CACHE_SIZE = 32
DENSE_SEARCH = 8
"""A search matching more than 1/DENSE_SEARCH of the names is ordered by one pass over the
list instead of sorting its hits."""
FREE_SLOT = ("", "")
DEFAULT_NAMESPACE = "default"
"""The namespace of requests that name none (and of every state written before namespaces)."""
CLOCK_OFFSET_KEY = "clock_offset_seconds"
"""The meta key of a namespace's clock offset (seconds ahead of real time)."""
INITIALIZED_MARKER = "initialized"
"""The meta key saying a namespace was seeded (a state file keeps what it has)."""

Plan = Callable[[dict[str, Any], datetime | None, datetime], Planned]
"""`plan(workflow, fires due after, now)`: a due workflow's runs and next due time
(`schedule.FirePlanner`); a store calls it inside its exclusive write."""


class StoreError(RuntimeError):
    """The state cannot be opened or used as it is (a schema of a newer version, a database
    refusing the connection at start-up): the mock does not start; the message says why."""


class StoreUnavailable(RuntimeError):
    """The state cannot be reached now (the database is down or too slow); the request may
    be retried. The mock answers 503 with the reason; never raised by the memory store."""


@dataclass(frozen=True)
class Page:
    """One page of a list and how many items the whole (filtered) list has."""

    items: list[JSONDict]
    total: int


@dataclass
class Snapshot:
    """The whole state of the mock, as `/__mock/state` exports and imports it."""

    workflows: list[JSONDict] = field(default_factory=list)
    executions: list[JSONDict] = field(default_factory=list)
    credentials: list[JSONDict] = field(default_factory=list)


class Store(Protocol):
    """One namespace's state, as the mock needs it; every method is atomic on its own."""

    shared: bool
    """True when other processes may write the same state (the clock must then be re-read)."""
    offloaded: bool
    """True when a call may wait on a network (the server then calls it off the event loop)."""
    namespace: str

    def list_workflows(self, search: str, offset: int, limit: int) -> Page: ...

    def get_workflow(self, workflow_id: str) -> JSONDict | None: ...

    def insert_workflow(self, workflow: JSONDict) -> None: ...

    def replace_workflow(
        self, workflow_id: str, fields: JSONDict, updated_at: str
    ) -> JSONDict | None:
        """Full replacement, as `replaced_workflow` builds it; None when the id is unknown."""
        ...

    def delete_workflow(self, workflow_id: str) -> bool:
        """Remove the workflow and its executions; False when the id is unknown."""
        ...

    def add_execution(self, execution: JSONDict, fire_key: str | None = None) -> bool:
        """Record a run; False when its workflow is gone or `fire_key` was already recorded."""
        ...

    def list_executions(self, workflow_id: str, offset: int, limit: int) -> Page | None:
        """A page of the workflow's runs, newest first; None when the workflow is unknown."""
        ...

    def scheduled_workflows(self) -> Iterable[JSONDict]:
        """Active workflows with a `schedule` trigger (the scheduler's work list); a store may
        read them in chunks while the caller iterates, so iterate once."""
        ...

    def credential_ids(self) -> set[str]: ...

    def snapshot(self) -> Snapshot: ...

    def restore(self, snapshot: Snapshot, floor: datetime | None = None) -> None:
        """Replace the whole state at once (the snapshot is already validated); schedules
        fire only after `floor` (the namespace's now: an import replays nothing)."""
        ...

    def fire_due(
        self, now: datetime, plan: Plan, *, clock_offset: float | None = None, wait: bool = True
    ) -> list[Planned] | None:
        """Fire every workflow whose next due time is at or before `now`, alone: one process
        and thread at a time per namespace. For each, `plan` gives its runs (recorded with a
        unique fire key) and its next due time. `clock_offset` (a clock move) is recorded in
        the same write, never moving the clock back. None when `wait` is False and another
        process is firing this namespace at this moment."""
        ...

    def next_due(self) -> str | None:
        """The earliest next due time (`schedule.due_key`), or None: nothing is scheduled."""
        ...

    def raise_floor(self, floor: datetime) -> None:
        """Nothing before `floor` fires any more (a restart does not replay the downtime)."""
        ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class NamespaceInfo:
    name: str
    workflows: int
    clock_offset_seconds: float


class Backend(Protocol):
    """Where the namespaces live; opens each one's `Store`."""

    shared: bool
    offloaded: bool

    def open(self, namespace: str, seed: Snapshot, floor: datetime) -> Store:
        """The namespace's store; a new namespace is created from `seed`, once even when
        several processes open it at the same moment, with its schedules due after `floor`."""
        ...

    def namespaces(self) -> list[NamespaceInfo]: ...

    def names(self) -> set[str]:
        """Every namespace that exists now (another process may have made or dropped some)."""
        ...

    def drop(self, namespace: str) -> bool:
        """Delete the namespace and all it holds, for every process; False if it did not
        exist. The next request that names it starts again from the seed."""
        ...

    def forget(self, namespace: str) -> None:
        """Close this process's store of a namespace another process dropped."""
        ...

    def pending(self) -> dict[str, tuple[float, str]]:
        """Per namespace with a schedule: its clock offset and earliest next due time (the
        scheduler's cheap look before it fires anything)."""
        ...

    def close(self) -> None: ...


S = TypeVar("S")


class OpenedStores(ABC, Generic[S]):
    """The stores a backend has opened in this process, one per namespace.

    A new namespace's store is made (and seeded, which may take a database's time) outside the
    lock; when two requests open it at once the first one registered wins, and the stores'
    own seeding (`restore_once`, or a pure copy of the seed in memory) makes the loser
    harmless.
    """

    def __init__(self) -> None:
        self._stores: dict[str, S] = {}
        self._lock = threading.Lock()

    def open(self, namespace: str, seed: Snapshot, floor: datetime) -> S:
        with self._lock:
            store = self._stores.get(namespace)
        if store is None:
            store = self.make(namespace, seed, floor)
            with self._lock:
                store = self._stores.setdefault(namespace, store)
        return store

    @abstractmethod
    def make(self, namespace: str, seed: Snapshot, floor: datetime) -> S:
        """A store for `namespace`, created from `seed` if it is new (each backend its own)."""

    def forget(self, namespace: str) -> None:
        with self._lock:
            self._stores.pop(namespace, None)

    def opened(self) -> list[tuple[str, S]]:
        with self._lock:
            return sorted(self._stores.items(), key=lambda item: item[0])


DEFERRED_SCHEDULES = 1000
"""A state loaded whole with at most this many workflows (the seed, most resets and imports)
leaves their schedules to the next check (`schedule.deferred_due_entry`): croniter stays off
the path to the first answer, and that check works them out in a few milliseconds. A larger
state's schedules are worked out as it loads (1 s at 100,000, too long for one check to hold
the store)."""


def offset_of(stored: str | None) -> float:
    """A stored clock offset (0 when absent or unreadable)."""
    try:
        return max(float(stored), 0.0) if stored is not None else 0.0
    except ValueError:
        return 0.0


def order_key(timestamp: Any) -> str:
    """A sortable UTC form of an RFC 3339 timestamp (seed data may carry offsets)."""
    return _order_key(timestamp) if isinstance(timestamp, str) else ""


@functools.lru_cache(maxsize=4096)
def _order_key(timestamp: str) -> str:
    """Cached: the mock writes whole seconds, so a burst of creates shares one timestamp."""
    parsed = parse_rfc3339(timestamp)
    if parsed is None:
        return timestamp
    return due_key(parsed)  # one sortable form for the list order and the due index


def fold(name: Any) -> str:
    """The form of a name that case-insensitive search compares."""
    return name.casefold() if isinstance(name, str) else ""


KEPT_WHEN_LEFT_OUT = ("is_active",)
"""Fields a full replacement (PUT) keeps from the stored workflow when `fields` leave them out."""


def replaced_workflow(current: JSONDict, fields: JSONDict, updated_at: str) -> JSONDict:
    """What a full replacement of `current` by `fields` stores (both stores call this).

    Decision (PUT without `is_active`): `fields` replace every field the body may carry, except
    that `is_active` left out keeps `current`'s value, so a PUT that forgets the flag never
    switches a schedule on. `id` and `created_at` are kept; `updated_at` is set. A store calls
    this inside its write, so the kept value is the one being replaced, even under concurrency.
    """
    kept = {key: current[key] for key in KEPT_WHEN_LEFT_OUT if key not in fields and key in current}
    return {
        "id": current["id"],
        **fields,
        **kept,
        "created_at": current["created_at"],
        "updated_at": updated_at,
    }


def keyset_pages(fetch: Callable[[Any], list[Any]], first: Any, size: int) -> Iterator[Any]:
    """Every row of a query read `size` rows at a time: `fetch(after)` gives the rows whose
    key (their first column) follows `after`, in key order. Each read is one short query, so a
    database store never holds its lock, or a transaction, across the whole table."""
    after = first
    while True:
        rows = fetch(after)
        yield from rows
        if len(rows) < size:
            return
        after = rows[-1][0]


def plan_due_row(
    plan: Plan, workflow: JSONDict, due_after: str | None, floor: str | None, now: datetime
) -> Planned:
    """`plan` for a due workflow as every store keeps it: fires are due after the later of its
    `due_after` and its namespace's floor (both `due_key`s)."""
    after = max(key for key in (due_after, floor, "") if key is not None)
    return plan(workflow, from_key(after), now)


def clamp_offset(offset: int) -> int:
    """Page offsets from a huge `page` stay representable (SQLite needs 64-bit)."""
    return min(max(offset, 0), 2**62)


class MemoryStore:
    """Dicts and sorted lists behind one lock (the scheduler and tests may use other threads).

    Workflows stay dicts (the scheduler reads every active one each second); their names are
    indexed by trigram (`name_index`), and their runs are compact bytes (`runlog`), decoded
    when a page of them is read.
    """

    shared = False
    offloaded = False

    def __init__(self, namespace: str = DEFAULT_NAMESPACE, floor: datetime | None = None) -> None:
        self.namespace = namespace
        self._floor = floor
        self._due: dict[str, tuple[str | None, str]] = {}  # id -> (due_after, next_due) keys
        self._due_heap: list[tuple[str, str]] = []  # (next_due, id); stale entries skipped
        self._lock = threading.RLock()
        self._workflows: dict[str, JSONDict] = {}
        self._order: list[tuple[str, str]] = []  # (created key, id), kept sorted
        self._order_slots: list[int] = []  # the name slot of each, parallel to _order
        self._slot_of: dict[str, int] = {}
        self._slot_keys: list[tuple[str, str]] = []  # name slot -> its _order entry (FREE_SLOT)
        self._names = NameIndex()
        self._logs: dict[str, RunLog] = {}
        self._codec = RunCodec()
        self._fire_keys: set[str] = set()
        self._seq = 0
        self._credentials: list[JSONDict] = []
        self._meta: dict[str, str] = {}
        self._search_cache: OrderedDict[str, list[str]] = OrderedDict()

    # --- workflows ---------------------------------------------------------------------------

    def list_workflows(self, search: str, offset: int, limit: int) -> Page:
        offset = clamp_offset(offset)
        with self._lock:
            if search:
                hits = self._search(fold(search))
                ids = hits[offset : offset + limit]
                total = len(hits)
            else:
                ids = [entry[1] for entry in self._order[offset : offset + limit]]
                total = len(self._order)
            return Page([self._workflows[i] for i in ids], total)

    def _search(self, needle: str) -> list[str]:
        """The ids of the names holding `needle`, in list order; kept until the next write.

        The index gives the matching slots (`NameIndex.search`, exact); a few are put in list
        order by sorting their keys, many by one pass over the list. A frontend pages through
        (and polls) the same search: every later page is O(page).
        """
        hits = self._search_cache.get(needle)
        if hits is not None:
            self._search_cache.move_to_end(needle)
            return hits
        slots = self._names.search(needle)
        if len(slots) * DENSE_SEARCH < len(self._order):
            keys = self._slot_keys
            hits = [key[1] for key in sorted(keys[slot] for slot in slots)]
        else:
            chosen = slots if isinstance(slots, set | frozenset) else set(slots)
            hits = [
                entry[1]
                for entry, slot in zip(self._order, self._order_slots, strict=True)
                if slot in chosen
            ]
        self._search_cache[needle] = hits
        if len(self._search_cache) > SEARCH_CACHE_SIZE:
            self._search_cache.popitem(last=False)
        return hits

    def get_workflow(self, workflow_id: str) -> JSONDict | None:
        return self._workflows.get(workflow_id)

    def insert_workflow(self, workflow: JSONDict) -> None:
        with self._lock:
            self._insert(workflow)

    def replace_workflow(
        self, workflow_id: str, fields: JSONDict, updated_at: str
    ) -> JSONDict | None:
        with self._lock:
            current = self._workflows.get(workflow_id)
            if current is None:
                return None
            replaced = replaced_workflow(current, fields, updated_at)
            self._names.rename(self._slot_of[workflow_id], fold(replaced.get("name")))
            self._search_cache.clear()
            self._workflows[workflow_id] = replaced
            self._schedule(workflow_id, replaced)
            return replaced

    def delete_workflow(self, workflow_id: str) -> bool:
        with self._lock:
            if workflow_id not in self._workflows:
                return False
            self._remove(workflow_id)
            self._logs.pop(workflow_id, None)
            return True

    def _insert(self, workflow: JSONDict, *, loading: bool = False) -> None:
        workflow_id = workflow["id"]
        if workflow_id in self._workflows:  # never two list entries for one id
            self._remove(workflow_id)
        key = (order_key(workflow.get("created_at")), workflow_id)
        index = bisect_left(self._order, key)
        slot = self._names.add(fold(workflow.get("name")))
        if slot == len(self._slot_keys):
            self._slot_keys.append(key)
        else:
            self._slot_keys[slot] = key
        self._slot_of[workflow_id] = slot
        self._order.insert(index, key)
        self._order_slots.insert(index, slot)
        self._workflows[workflow_id] = workflow
        self._search_cache.clear()
        if loading:
            self._set_due(workflow_id, *deferred_due_entry(workflow))
        else:
            self._schedule(workflow_id, workflow)

    def _schedule(self, workflow_id: str, workflow: JSONDict) -> None:
        """Keep the workflow's next due time (see `schedule.due_entry`)."""
        after, nxt = due_entry(workflow, self._floor)
        self._set_due(workflow_id, after, nxt)

    def _set_due(self, workflow_id: str, after: str | None, nxt: str | None) -> None:
        if nxt is None:
            self._due.pop(workflow_id, None)
            return
        self._due[workflow_id] = (after, nxt)
        heapq.heappush(self._due_heap, (nxt, workflow_id))
        if len(self._due_heap) > 2 * len(self._due) + 1024:  # stale entries: rebuild
            self._due_heap = [(entry[1], wid) for wid, entry in self._due.items()]
            heapq.heapify(self._due_heap)

    def _remove(self, workflow_id: str) -> None:
        current = self._workflows.pop(workflow_id)
        slot = self._slot_of.pop(workflow_id)
        index = bisect_left(self._order, (order_key(current.get("created_at")), workflow_id))
        del self._order[index]
        del self._order_slots[index]
        self._names.remove(slot)
        self._slot_keys[slot] = FREE_SLOT
        self._search_cache.clear()
        self._due.pop(workflow_id, None)

    # --- executions --------------------------------------------------------------------------

    def add_execution(self, execution: JSONDict, fire_key: str | None = None) -> bool:
        with self._lock:
            workflow_id = execution.get("workflow_id")
            if not isinstance(workflow_id, str) or workflow_id not in self._workflows:
                return False
            if fire_key is not None:
                if fire_key in self._fire_keys:
                    return False
                self._fire_keys.add(fire_key)
            self._append(workflow_id, execution)
            return True

    def _append(self, workflow_id: str, execution: JSONDict) -> None:
        self._seq += 1
        log = self._logs.get(workflow_id)
        if log is None:
            log = self._logs[workflow_id] = RunLog()
        key = run_key(execution.get("started_at"))
        log.add(placed(key, self._seq, self._codec.encode(execution)))

    def list_executions(self, workflow_id: str, offset: int, limit: int) -> Page | None:
        offset = clamp_offset(offset)
        with self._lock:
            if workflow_id not in self._workflows:
                return None
            log = self._logs.get(workflow_id)
            if log is None:
                return Page([], 0)
            blobs, total = log.newest_first(offset, limit), len(log)
            decode = self._codec.decode  # the codec that wrote them (`restore` makes a new one)
        return Page([decode(blob, PLACE_BYTES) for blob in blobs], total)

    def scheduled_workflows(self) -> list[JSONDict]:
        with self._lock:
            return [w for w in self._workflows.values() if is_scheduled(w)]

    # --- credentials, snapshots, meta ----------------------------------------------------------

    def credential_ids(self) -> set[str]:
        return {c["id"] for c in self._credentials if isinstance(c.get("id"), str)}

    def snapshot(self) -> Snapshot:
        with self._lock:
            workflows = [self._workflows[entry[1]] for entry in self._order]
            blobs = in_arrival_order(self._logs.values())
            credentials = list(self._credentials)
            decode = self._codec.decode
        return Snapshot(workflows, [decode(blob, PLACE_BYTES) for blob in blobs], credentials)

    def restore(self, snapshot: Snapshot, floor: datetime | None = None) -> None:
        with self._lock:
            if floor is not None:
                self._floor = floor
            self._due.clear()
            self._due_heap.clear()
            self._workflows.clear()
            self._order.clear()
            self._order_slots.clear()
            self._slot_of.clear()
            self._slot_keys.clear()
            self._names.clear()
            self._search_cache.clear()
            self._logs.clear()
            self._codec = RunCodec()
            self._fire_keys.clear()
            defer = len(snapshot.workflows) <= DEFERRED_SCHEDULES
            for workflow in snapshot.workflows:
                self._insert(workflow, loading=defer)
            self._names.post_pending()  # a seed or an import: its first search stays fast
            for execution in snapshot.executions:
                self._append(execution["workflow_id"], execution)
            self._credentials = list(snapshot.credentials)

    # --- the scheduler's due index --------------------------------------------------------------

    def fire_due(
        self, now: datetime, plan: Plan, *, clock_offset: float | None = None, wait: bool = True
    ) -> list[Planned] | None:
        """Pops the heap while its top is due: O(due × log n), nothing else is read."""
        with self._lock:
            if clock_offset is not None:
                stored = offset_of(self._meta.get(CLOCK_OFFSET_KEY))
                self._meta[CLOCK_OFFSET_KEY] = repr(max(stored, clock_offset))
            now_key, floor_key = due_key(now), due_key(self._floor) if self._floor else None
            done: list[Planned] = []
            heap = self._due_heap
            while heap and heap[0][0] <= now_key:
                nxt, workflow_id = heapq.heappop(heap)
                entry = self._due.get(workflow_id)
                if entry is None or entry[1] != nxt:
                    continue  # stale: rescheduled or deleted since
                planned = plan_due_row(plan, self._workflows[workflow_id], entry[0], floor_key, now)
                for fire_time, execution in planned.fires:
                    key = fire_key(workflow_id, fire_time)
                    if key not in self._fire_keys:
                        self._fire_keys.add(key)
                        self._append(workflow_id, execution)
                self._set_due(workflow_id, now_key, planned.next_due)
                done.append(planned)
            return done

    def next_due(self) -> str | None:
        with self._lock:
            heap = self._due_heap
            while heap and self._due.get(heap[0][1], (None, None))[1] != heap[0][0]:
                heapq.heappop(heap)
            return heap[0][0] if heap else None

    def raise_floor(self, floor: datetime) -> None:
        with self._lock:
            if self._floor is None or floor > self._floor:
                self._floor = floor

    def get_meta(self, key: str) -> str | None:
        return self._meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self._meta[key] = value

    def close(self) -> None:
        pass


class MemoryBackend(OpenedStores[MemoryStore]):
    """Namespaces as memory stores, one per name, in this process only."""

    shared = False
    offloaded = False

    def make(self, namespace: str, seed: Snapshot, floor: datetime) -> MemoryStore:
        store = MemoryStore(namespace, floor)
        store.restore(seed, floor)
        return store

    def names(self) -> set[str]:
        return {name for name, _ in self.opened()}

    def drop(self, namespace: str) -> bool:
        with self._lock:
            return self._stores.pop(namespace, None) is not None

    def namespaces(self) -> list[NamespaceInfo]:
        stores = self.opened()
        return [
            NamespaceInfo(
                name,
                store.list_workflows("", 0, 0).total,
                offset_of(store.get_meta(CLOCK_OFFSET_KEY)),
            )
            for name, store in stores
        ]

    def pending(self) -> dict[str, tuple[float, str]]:
        stores = self.opened()
        out: dict[str, tuple[float, str]] = {}
        for name, store in stores:
            nxt = store.next_due()
            if nxt is not None:
                out[name] = (offset_of(store.get_meta(CLOCK_OFFSET_KEY)), nxt)
        return out

    def close(self) -> None:
        pass
