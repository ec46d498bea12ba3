"""One running mock: its config, compiled spec, service and request-side bookkeeping."""

from __future__ import annotations

import logging
from typing import Any

from ..spec import Spec
from ..spec.fixtures import SERVED_VIEW, FixtureSet, load_fixtures
from .clock import MockClock
from .config import MockConfig
from .faults import Faults
from .recorder import RequestRecorder
from .runtime import SpecRuntime
from .service import WorkflowService
from .store import MemoryStore, Snapshot, Store

logger = logging.getLogger(__name__)

INITIALIZED_MARKER = "initialized"


def open_store(config: MockConfig, seed: Snapshot) -> Store:
    """The configured store, seeded once (a state file keeps what it has across restarts)."""
    start = seed if config.seed else Snapshot()
    if config.state_path is None:
        memory = MemoryStore()
        memory.restore(start)
        return memory
    from .sqlite_store import SqliteStore  # sqlite3 only when a state file is asked for

    sqlite = SqliteStore(config.state_path)
    sqlite.restore_once(start, INITIALIZED_MARKER)
    return sqlite


def load_folder(spec: Spec, config: MockConfig) -> FixtureSet:
    """The fixtures folder: the seed, and the answers recorded from a deployment (`examples/`).

    Loaded in the strict view, because the mock serves what it loads as it is (seed items in
    lists and logs, recorded examples by name) and its self-check asserts the strict view of
    every answer (`runtime.py`): a folder that loaded in a looser view (a run still `running`,
    a timestamp with an offset) would start, then answer 500s. Raises `FixtureError`.
    """
    return load_fixtures(config.fixtures_dir, spec, view=SERVED_VIEW)


class MockState:
    """Shared by the API route, the admin API, the docs page and the lifespan tasks."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.runtime = SpecRuntime.load(config.spec_path)
        spec: Spec = self.runtime.spec
        folder = load_folder(spec, config)
        seed = Snapshot(folder.workflows, folder.executions, folder.credentials)
        self.recorded_examples = folder.examples
        self.store = open_store(config, seed)
        self.service = WorkflowService(
            spec, self.store, config.clock or MockClock(), seed if config.seed else Snapshot()
        )
        self.tokens = dict(config.tokens)
        self.faults = Faults(latency_ms=config.latency_ms)
        self.recorder = RequestRecorder(config.request_log_size)
        self.failures: list[str] = []
        """Self-check failures and crashes: each one is a bug in the mock."""

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
        self.service.use_spec(runtime.spec)

    def describe(self) -> dict[str, Any]:
        return {
            "spec": str(self.runtime.spec.path),
            "state": str(self.config.state_path) if self.config.state_path else "memory",
            "seed": self.config.seed,
            "self_check": self.config.self_check,
        }
