"""Namespaces: isolated copies of the whole mock state on one server, one per team or CI job.

Why: a team runs one shared mock (a staging frontend, parallel CI jobs); each job must see only
its own workflows, runs, schedules, clock and request log, and start from the seed. A request
chooses its namespace with the `X-Lenz-Mock-Namespace` header, or with a token bound to one
(`--token TOKEN=USER@NAMESPACE`); without either it is in `default`, the namespace every state
written before namespaces existed became. A namespace is created, from the seed, by the first
request that names it, in every store (memory, SQLite, PostgreSQL), and once only, even when
several replicas see its first request at the same moment.

Names: 1 to 63 characters of lowercase ASCII letters, digits, `-` and `_`, starting with a
letter or a digit (`team-a`, `ci-4711`, `pr_12`): safe in a header, a URL and a log line, and
`user@example.com` stays a user id (a dot is not allowed). Anything else is a 400 with the
reason. At most `MAX_NAMESPACES` are open in one process: past that a shared store closes the
least recently used (its data stays in the store), the memory store refuses new ones.

The scheduler: one background check per process looks at every namespace's earliest due time
(`Backend.pending`, one query for a shared store) and fires only those whose time has come.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .schedule import due_key
from .store import DEFAULT_NAMESPACE, Backend, Store, StoreUnavailable

if TYPE_CHECKING:
    from .faults import Faults
    from .recorder import RequestRecorder
    from .service import WorkflowService

logger = logging.getLogger(__name__)

NAMESPACE_HEADER = "X-Lenz-Mock-Namespace"
NAMESPACE_HEADER_RAW = NAMESPACE_HEADER.lower().encode()
NAME_RULE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}\Z")
NAME_RULE_TEXT = (
    "1-63 characters: lowercase letters a-z, digits, '-' and '_', starting with a letter or a digit"
)
MAX_NAMESPACES = 1000
MISFIRE_GRACE = timedelta(seconds=60)
"""When a process opens a namespace of a shared store, schedules stop replaying anything older
than this: fires missed while no replica ran are dropped (as real schedulers drop misfires),
while a live replica (which checks every second) has fired everything older already."""


class NamespaceError(ValueError):
    """A namespace name or choice the mock refuses; `status` is 400 or 403."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


def check_name(name: str) -> str:
    """`name`, or `NamespaceError` saying what a name may hold."""
    if NAME_RULE.match(name) is None:
        shown = name if len(name) <= 80 else name[:77] + "..."
        raise NamespaceError(f"{shown!r} is not a namespace name ({NAME_RULE_TEXT})")
    return name


def is_name(name: str) -> bool:
    return NAME_RULE.match(name) is not None


def chosen_namespace(header: str | None, bound: str | None) -> str:
    """The namespace of a request: its header, else its token's, else `default`.

    A token bound to a namespace is confined to it: a header naming another one is a 403.
    """
    if header is None:
        return bound or DEFAULT_NAMESPACE
    name = check_name(header.strip())
    if bound is not None and name != bound:
        raise NamespaceError(f"this token is bound to namespace {bound!r}, not {name!r}", 403)
    return name


@dataclass
class Namespace:
    """One namespace as a process serves it."""

    name: str
    store: Store
    service: WorkflowService
    recorder: RequestRecorder
    faults: Faults
    used: float = 0.0
    """When a request last chose it (`time.monotonic()`): on a shared store the least recently
    used is closed first when the process holds `MAX_NAMESPACES`."""


class Namespaces:
    """The namespaces this process has opened, by name; opens one on first use (thread-safe)."""

    def __init__(
        self,
        backend: Backend,
        make: Callable[[str], Namespace],
        source: Callable[[], datetime],
        limit: int = MAX_NAMESPACES,
    ) -> None:
        self.backend = backend
        self._make = make
        self._source = source
        self.limit = limit
        self._open: dict[str, Namespace] = {}
        self._lock = threading.Lock()
        self._down_logged = False

    def known(self, name: str) -> Namespace | None:
        """The namespace if this process has it open already (no I/O)."""
        found = self._open.get(name)
        if found is not None:
            found.used = time.monotonic()
        return found

    def get(self, name: str) -> Namespace:
        """The namespace, opened (and, when new, created from the seed) on first use.

        At `limit` open namespaces, a process on a shared store closes the least recently used
        one (its data stays in the store; only this process's request log and fault settings
        of it go); on the memory store, where closing would lose the data, it refuses."""
        found = self.known(name)
        if found is not None:
            return found
        check_name(name)
        with self._lock:
            found = self._open.get(name)
            if found is None:
                if len(self._open) >= self.limit:
                    self._make_room()
                found = self._make(name)
                found.used = time.monotonic()
                self._open[name] = found
        return found

    def _make_room(self) -> None:
        if not self.backend.shared:
            raise NamespaceError(
                f"this mock holds {self.limit} namespaces already; reuse one "
                "(POST /__mock/reset empties it) or delete one "
                "(DELETE /__mock/namespaces/NAME) before making a new one"
            )
        closable = [n for n in self._open.values() if n.name != DEFAULT_NAMESPACE]
        if not closable:
            raise NamespaceError(f"this mock holds {self.limit} namespaces already")
        idle = min(closable, key=lambda namespace: namespace.used)
        del self._open[idle.name]
        self.backend.forget(idle.name)
        logger.info("closed namespace %s, the least recently used (%d open)", idle.name, self.limit)

    def opened(self) -> list[Namespace]:
        return list(self._open.values())

    def drop(self, name: str) -> bool:
        """Delete a namespace and everything in it, in every process (see `forget_dropped`
        for the others); False if it did not exist.

        The default namespace stays open for the process's life (the mock's own `store`,
        `recorder` and `faults` are its, and requests without a namespace use them): it is
        reset, never deleted, and never closed to make room."""
        check_name(name)
        if name == DEFAULT_NAMESPACE:
            raise NamespaceError(
                "the default namespace cannot be deleted; POST /__mock/reset empties it "
                "or brings the seed back"
            )
        with self._lock:
            self._open.pop(name, None)
            return self.backend.drop(name)

    def forget_dropped(self) -> list[str]:
        """Close the namespaces this process has open that another process dropped (a shared
        store); returns their names. Only those open before the look are judged: one being
        opened meanwhile is not mistaken for a dropped one."""
        before = set(self._open)
        if not before:
            return []
        gone = sorted(before - self.backend.names() - {DEFAULT_NAMESPACE})
        with self._lock:
            for name in gone:
                self._open.pop(name, None)
                self.backend.forget(name)
        return gone

    # --- the scheduler's background check --------------------------------------------------------

    def run_due(self) -> int:
        """Fire what is due in every namespace; returns how many namespaces were fired.

        A shared store is asked once for every namespace's earliest due time (another replica
        may have created namespaces this one never served); the memory store's are read here.
        """
        fired = 0
        if self.backend.shared:
            source_now = self._source()
            for name, (offset, earliest) in sorted(self.backend.pending().items()):
                if earliest > due_key(source_now + timedelta(seconds=offset)):
                    continue
                fired += self._fire(name)
        else:
            for namespace in self.opened():
                soonest = namespace.store.next_due()
                if soonest is not None and soonest <= due_key(namespace.service.now()):
                    fired += self._fire(namespace.name)
        return fired

    def _fire(self, name: str) -> int:
        try:
            self.get(name).service.scheduler.run_due()
        except (StoreUnavailable, NamespaceError):
            raise
        except Exception:
            logger.exception("the scheduled runs of namespace %s failed", name)
            return 0
        return 1

    def tick(self, fire: bool = True) -> None:
        """One background check: namespaces other processes dropped are closed (a shared
        store), then what is due fires (`fire`: the scheduler is on)."""
        if self.backend.shared:
            self.forget_dropped()
        if fire:
            self.run_due()

    async def run(self, interval: float = 1.0, fire: bool = True) -> None:
        """`tick` about every `interval` seconds until cancelled, in a worker thread. The first
        check comes one interval after the start; a database outage is logged once, not every
        second, and checking goes on when it is back."""
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.tick, fire)
            except StoreUnavailable as exc:
                if not self._down_logged:
                    logger.warning("scheduler paused: %s", exc)
                    self._down_logged = True
                continue
            except Exception:
                logger.exception("scheduler check failed")
                continue
            if self._down_logged:
                logger.warning("scheduler resumed")
                self._down_logged = False
