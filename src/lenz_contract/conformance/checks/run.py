"""What a Lenz check sees while it runs: the client, the run, shared fixtures, its verdicts.

`CheckRun` creates only run-named, inactive workflows (the guard under it sees to that too) and
records failures with the exchange that shows them; `shared` builds a fixture once per run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from ...spec import Spec
from ..client import LenzClient, Reply
from ..context import Profile, RunContext
from ..results import Failure, Rule
from .registry import Check

if TYPE_CHECKING:
    from ..session import Session

DORMANT_CRON = "0 0 0 30 2 *"  # 30 February: a schedule that can never fire
T = TypeVar("T")


class CheckSkipped(Exception):
    """The check cannot run here (read-only run, execution not allowed, ...)."""


class CheckAborted(Exception):
    """The check recorded a failure and cannot go on."""


class SetupFailed(Exception):
    """A shared fixture could not be built; checks that need it cannot run."""


@dataclass
class CheckRun:
    """What a check sees: the client, the run, and a place to put its failures."""

    session: Session
    check: Check
    rule: Rule
    failures: list[Failure] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)  # operations this check sent requests to
    collectors: list[set[str]] = field(default_factory=list)  # fixtures being built

    def __post_init__(self) -> None:
        self._client = LenzClient(self.session.ctx, self.session.http, observer=self._observe)

    def _observe(self, reply: Reply) -> None:
        self.touched.add(reply.operation)
        for collector in self.collectors:
            collector.add(reply.operation)

    @property
    def ctx(self) -> RunContext:
        return self.session.ctx

    @property
    def client(self) -> LenzClient:
        return self._client

    @property
    def spec(self) -> Spec:
        return self.session.ctx.spec

    @property
    def strict(self) -> bool:
        return self.ctx.profile is Profile.STRICT

    @property
    def read_only(self) -> bool:
        return self.ctx.options.read_only

    # -- verdicts ------------------------------------------------------------------------------

    def fail(
        self,
        operation: str,
        message: str,
        *,
        expected: str = "",
        actual: str = "",
        reply: Reply | None = None,
        steps: list[Reply] | None = None,
    ) -> None:
        if reply is not None and not actual:
            actual = reply.describe()
        self.failures.append(
            Failure(
                check=self.check.name,
                operation=operation,
                rule=self.rule,
                message=message,
                expected=expected,
                actual=actual,
                exchange=reply.exchange if reply is not None else None,
                phase="semantic",
                seed=self.ctx.seed,
                steps=[r.exchange for r in steps or []],
            )
        )

    def abort(self, operation: str, message: str, **details: Any) -> NoReturn:
        self.fail(operation, message, **details)
        raise CheckAborted(message)

    @staticmethod
    def skip(reason: str) -> NoReturn:
        raise CheckSkipped(reason)

    # -- building blocks -----------------------------------------------------------------------

    def shared(self, key: str, factory: Callable[[CheckRun], T]) -> T:
        """A fixture built once per run (by the first check that needs it)."""
        return self.session.fixture(key, self, factory)

    def unique(self, label: str) -> str:
        """A fresh name of this run: `lenz-contract-<run id>-<label>-<random>`."""
        return f"{self.ctx.name_prefix}{label}-{self.session.random.getrandbits(24):06x}"

    def workflow_body(self, name: str, **changes: Any) -> dict[str, Any]:
        """A harmless, inactive workflow body (three export nodes, never a message sender)."""
        body: dict[str, Any] = {
            "name": name,
            "description": "created by lenz-contract conform; deleted at the end of the run",
            "is_active": False,
            "trigger_node": {"type": "schedule", "config": {"cron": "0 0 7 * * *"}},
            "nodes": [
                _export_node("step-b", "Export B", "csv"),
                _export_node("step-c", "Export C", "xlsx"),
                _export_node("step-a", "Export A", "json"),
            ],
        }
        body.update(changes)
        return body

    def create(self, name: str, **changes: Any) -> tuple[Reply, dict[str, Any]]:
        """Create a run-named workflow; the check aborts unless it answers 2xx with `data.id`."""
        return self._created(self.client.create(self.workflow_body(name, **changes)))

    def create_dormant(self, name: str) -> tuple[Reply, dict[str, Any]]:
        """Create a run-named workflow that is active but can never fire (30 February), for a
        deployment that refuses to execute inactive workflows; aborts unless it answers 2xx."""
        trigger = {"type": "schedule", "config": {"cron": DORMANT_CRON}}
        body = self.workflow_body(name, is_active=True, trigger_node=trigger)
        return self._created(self.client.create(body, dormant=True))

    def _created(self, reply: Reply) -> tuple[Reply, dict[str, Any]]:
        data = reply.data
        if not reply.ok or not isinstance(data, dict) or not isinstance(data.get("id"), str):
            self.abort(
                "createWorkflow",
                "creating a valid workflow did not answer 2xx with data.id",
                expected="2xx with data.id",
                reply=reply,
            )
        return reply, data

    def require_data(self, reply: Reply, what: str, *, kind: type = dict) -> Any:
        """`data` of a 2xx answer, or abort the check."""
        data = reply.data
        if not reply.ok or not isinstance(data, kind):
            self.abort(
                reply.operation,
                f"{what} did not answer 2xx with a `data` {kind.__name__}",
                expected=f"2xx with data ({kind.__name__})",
                reply=reply,
            )
        return data

    def find_listed(
        self, workflow_id: str, *, search: str | None, max_pages: int = 20
    ) -> Reply | None:
        """The list page that holds `workflow_id` (walking pages of 100), or None."""
        for page in range(1, max_pages + 1):
            reply = self.client.list_workflows(page=page, limit=100, search=search)
            items = reply.data if isinstance(reply.data, list) else []
            if any(isinstance(i, dict) and i.get("id") == workflow_id for i in items):
                return reply
            total = reply.field("total_page")
            if not reply.ok or not items or not isinstance(total, int) or page >= total:
                return None
        return None


def _export_node(node_id: str, name: str, fmt: str) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "event_history_export",
        "name": name,
        "config": {"analytic_type": "FR", "date_range": "yesterday", "format": fmt},
    }


def as_json(value: Any) -> str:
    """A value as the target sent it (`null`, `true`, `"text"`), for failure texts."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def items_of(reply: Reply) -> list[dict[str, Any]]:
    data = reply.data
    return [i for i in data if isinstance(i, dict)] if isinstance(data, list) else []


def ids_of(reply: Reply) -> list[Any]:
    return [i.get("id") for i in items_of(reply)]
