"""One running mock: its config, compiled spec, namespaces and request-side bookkeeping."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from ..spec import Spec
from ..spec.fixtures import SERVED_VIEW, FixtureSet, load_fixtures
from .clock import MockClock
from .config import MockConfig
from .faults import Faults
from .namespaces import MISFIRE_GRACE, Namespace, Namespaces
from .recorder import RequestRecorder
from .runtime import SpecRuntime
from .service import WorkflowService
from .store import (
    DEFAULT_NAMESPACE,
    INITIALIZED_MARKER,
    Backend,
    MemoryBackend,
    Snapshot,
    Store,
    StoreError,
)

logger = logging.getLogger(__name__)

__all__ = ["INITIALIZED_MARKER", "MockState", "open_backend"]
T = TypeVar("T")
MISSING_DRIVER = (
    "--state postgresql://... needs the PostgreSQL driver: "
    "pip install 'lenz-contract[postgres]' (psycopg 3 and psycopg-pool)"
)
OFFLOAD_THREADS = 16
"""Threads that wait on a database for requests (a PostgreSQL store): its pool's size."""


def open_backend(config: MockConfig) -> Backend:
    """Where the configured state lives: memory, a SQLite file, or a PostgreSQL database.

    Raises `StoreUnavailable` or `StoreError` (a database that cannot be reached or used)."""
    if config.database_url is not None:
        try:  # psycopg only when a database is asked for
            from .postgres_store import PostgresBackend
        except ImportError as exc:
            raise StoreError(MISSING_DRIVER + f" ({exc})") from None
        return PostgresBackend(config.database_url, pool_size=OFFLOAD_THREADS)
    if config.state_path is not None:
        from .sqlite_store import SqliteBackend  # sqlite3 only when a state file is asked for

        return SqliteBackend(config.state_path)
    return MemoryBackend()


def load_folder(spec: Spec, config: MockConfig) -> FixtureSet:
    """The fixtures folder: the seed, and the answers recorded from a deployment (`examples/`).

    Loaded in the strict view, because the mock serves what it loads as it is (seed items in
    lists and logs, recorded examples by name) and its self-check asserts the strict view of
    every answer (`runtime.py`): a folder that loaded in a looser view (a run still `running`,
    a timestamp with an offset) would start, then answer 500s. Raises `FixtureError`.
    """
    return load_fixtures(config.fixtures_dir, spec, view=SERVED_VIEW)


class MockState:
    """Shared by the API route, the admin API, the docs page and the lifespan tasks.

    `store`, `service`, `recorder` and `faults` are the default namespace's; a request in
    another namespace uses `namespaces.get(name)`'s.
    """

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.runtime = SpecRuntime.load(config.spec_path)
        spec: Spec = self.runtime.spec
        folder = load_folder(spec, config)
        seed = Snapshot(folder.workflows, folder.executions, folder.credentials)
        self.recorded_examples = folder.examples
        self.seed = seed if config.seed else Snapshot()
        self.clock = config.clock or MockClock()
        self.tokens = dict(config.tokens)
        self.token_namespaces = dict(config.token_namespaces)
        self.failures: list[str] = []
        """Self-check failures and crashes: each one is a bug in the mock."""
        self.backend = open_backend(config)
        self.offloaded = self.backend.offloaded
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        if self.offloaded:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                OFFLOAD_THREADS, thread_name_prefix="lenz-store"
            )
        self.namespaces = Namespaces(self.backend, self._open_namespace, self.clock.source)
        try:
            self.default = self.namespaces.get(DEFAULT_NAMESPACE)
        except BaseException:
            self.close()
            raise

    def _open_namespace(self, name: str) -> Namespace:
        """Open (or create from the seed) one namespace: its store, its own clock (the default
        namespace's is the configured one), service, request log and faults."""
        clock = self.clock if name == DEFAULT_NAMESPACE else MockClock(source=self.clock.source)
        store = self.backend.open(name, self.seed, clock.now())
        service = WorkflowService(self.runtime.spec, store, clock, self.seed)
        if self.backend.shared:  # a restart does not replay what no replica fired meanwhile
            store.raise_floor(service.now() - MISFIRE_GRACE)
        return Namespace(
            name,
            store,
            service,
            RequestRecorder(self.config.request_log_size),
            Faults(latency_ms=self.config.latency_ms),
        )

    @property
    def store(self) -> Store:
        return self.default.store

    @property
    def service(self) -> WorkflowService:
        return self.default.service

    @property
    def recorder(self) -> RequestRecorder:
        return self.default.recorder

    @property
    def faults(self) -> Faults:
        return self.default.faults

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)`: here for the memory and SQLite stores, in a worker thread for a
        database that may make it wait (the event loop keeps serving meanwhile)."""
        if self._executor is None:
            return function(*args)
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def close(self) -> None:
        self.backend.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def note_failure(self, message: str) -> None:
        self.failures.append(message)
        del self.failures[:-100]

    def check_error_envelope(self, body: Any) -> None:
        """Self-check of an answer no operation documents (404, 405): the spec's error envelope."""
        if self.config.self_check:
            for problem in self.runtime.error_check.errors(body, "response"):
                self.note_failure(f"self-check: error envelope: {problem}")

    def swap_runtime(self, runtime: SpecRuntime) -> None:
        """Serve a rebuilt spec from the next request on (one assignment: no request sees half)."""
        self.runtime = runtime
        for namespace in self.namespaces.opened():
            namespace.service.use_spec(runtime.spec)

    def describe(self) -> dict[str, Any]:
        return {
            "spec": str(self.runtime.spec.path),
            "state": describe_state(self.config),
            "seed": self.config.seed,
            "self_check": self.config.self_check,
        }


def describe_state(config: MockConfig) -> str:
    """Where the state is kept, for banners and `/__mock/` (a database password never shown)."""
    if config.database_url is not None:
        from .database_url import redact_url

        return redact_url(config.database_url)
    return str(config.state_path) if config.state_path else "memory"
