"""The Lenz checks: rules of the API that no schema can express, one small function each.

A check is registered with `@lenz_check(...)`: its name, its family (the module), the profile
that asserts it (`docs` rules run in both profiles, `strict` ones in strict only), the one-line
rule, the operations it speaks about, and where the rule lives in the spec (its provenance,
`documented` or `inferred`, is read from the spec's `x-lenz-source` there, unless the check
states it). A check talks to the target through `CheckRun`, which creates only run-named,
inactive workflows and records failures with the exchange that shows them.

Exchange checks (`@exchange_check`) look at every answer the run received instead.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from ...spec import Operation, Provenance, Source, Spec, provenance_at
from ..client import LenzClient, Reply
from ..context import Profile, RunContext
from ..results import Exchange, Failure, Rule

if TYPE_CHECKING:
    from ..session import Session

FAMILIES = ("pagination", "search", "crud", "execution", "auth", "errors", "responses")
DORMANT_CRON = "0 0 0 30 2 *"  # 30 February: a schedule that can never fire
T = TypeVar("T")


class CheckSkipped(Exception):
    """The check cannot run here (read-only run, execution not allowed, ...)."""


class CheckAborted(Exception):
    """The check recorded a failure and cannot go on."""


class SetupFailed(Exception):
    """A shared fixture could not be built; checks that need it cannot run."""


@dataclass(frozen=True)
class LenzCheck:
    """A registered check and what it rests on."""

    name: str
    family: str
    profile: Profile
    rule: str
    operations: tuple[str, ...]
    func: Callable[[CheckRun], None]
    pointer: str | None = None
    source: Source | None = None
    reason: str | None = None
    needs: frozenset[str] = frozenset()  # "write", "execute"
    read_only: bool = False  # has a read-only variant (GET requests only)

    def rule_for(self, spec: Spec) -> Rule:
        return make_rule(
            spec,
            self.name,
            self.family,
            self.profile,
            self.rule,
            self.pointer,
            self.source,
            self.reason,
        )


@dataclass(frozen=True)
class ExchangeCheck:
    """A rule every answer must keep; `func` returns why an exchange breaks it, or None."""

    name: str
    family: str
    profile: Profile
    rule: str
    func: Callable[[Spec, Operation, Exchange], str | None]
    phases: frozenset[str]  # the exchanges it looks at
    pointer: str | None = None
    source: Source | None = None
    reason: str | None = None

    def rule_for(self, spec: Spec) -> Rule:
        return make_rule(
            spec,
            self.name,
            self.family,
            self.profile,
            self.rule,
            self.pointer,
            self.source,
            self.reason,
        )


def make_rule(
    spec: Spec,
    name: str,
    family: str,
    profile: Profile,
    text: str,
    pointer: str | None,
    source: Source | None,
    reason: str | None,
) -> Rule:
    """The rule a check enforces, with what it rests on.

    A check that states its source keeps it (with its reason); otherwise the spec says, at the
    check's pointer (`spec.provenance_at`; a stale pointer raises). A documented rule's "why" is
    the docs' own words.
    """
    if source is None and pointer is not None:
        found = provenance_at(spec.document, pointer)
        source = found.source
        if reason is None:
            reason = found.reason if found.source is not Source.DOCUMENTED else _quoted(found)
    return Rule(
        check=name,
        family=family,
        profile=profile.value,
        source=source or Source.UNIVERSAL,
        text=text,
        reason=reason,
        pointer=pointer,
    )


def _quoted(found: Provenance) -> str | None:
    if not found.quote:
        return None
    shown = [
        f"the {q.removeprefix('example: ')} example" if q.startswith("example: ") else f"«{q}»"
        for q in found.quote
    ]
    return "the docs: " + "; ".join(shown)


REGISTRY: dict[str, LenzCheck] = {}
EXCHANGE_CHECKS: dict[str, ExchangeCheck] = {}


def lenz_check(
    *,
    family: str,
    profile: Profile,
    rule: str,
    operations: tuple[str, ...],
    pointer: str | None = None,
    source: Source | None = None,
    reason: str | None = None,
    needs: tuple[str, ...] = ("write",),
    read_only: bool = False,
) -> Callable[[Callable[[CheckRun], None]], Callable[[CheckRun], None]]:
    """Register a check under its function's name."""

    def register(func: Callable[[CheckRun], None]) -> Callable[[CheckRun], None]:
        name = func.__name__
        if name in REGISTRY and REGISTRY[name].func.__module__ != func.__module__:
            raise ValueError(f"a Lenz check named {name!r} is already registered")
        REGISTRY[name] = LenzCheck(
            name,
            family,
            profile,
            rule,
            operations,
            func,
            pointer,
            source,
            reason,
            frozenset(needs),
            read_only,
        )
        return func

    return register


def exchange_check(
    *,
    family: str,
    profile: Profile,
    rule: str,
    phases: tuple[str, ...],
    pointer: str | None = None,
    source: Source | None = None,
    reason: str | None = None,
) -> Callable[
    [Callable[[Spec, Operation, Exchange], str | None]],
    Callable[[Spec, Operation, Exchange], str | None],
]:
    def register(
        func: Callable[[Spec, Operation, Exchange], str | None],
    ) -> Callable[[Spec, Operation, Exchange], str | None]:
        EXCHANGE_CHECKS[func.__name__] = ExchangeCheck(
            func.__name__, family, profile, rule, func, frozenset(phases), pointer, source, reason
        )
        return func

    return register


def load_all() -> dict[str, LenzCheck]:
    """Import every family module (registration happens at import)."""
    for family in FAMILIES:
        importlib.import_module(f"{__name__}.{family}")
    return REGISTRY


@dataclass
class CheckRun:
    """What a check sees: the client, the run, and a place to put its failures."""

    session: Session
    check: LenzCheck
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
        body = self.workflow_body(name, **changes)
        reply = self.client.create(body)
        data = reply.data
        if not reply.ok or not isinstance(data, dict) or not isinstance(data.get("id"), str):
            self.abort(
                "createWorkflow",
                "creating a valid workflow did not answer 2xx with data.id",
                expected="2xx with data.id",
                reply=reply,
            )
        return reply, data

    def create_dormant(self, name: str) -> tuple[Reply, dict[str, Any]]:
        """Create a run-named workflow that is active but can never fire (30 February), for a
        deployment that refuses to execute inactive workflows; aborts unless it answers 2xx."""
        body = self.workflow_body(
            name,
            is_active=True,
            trigger_node={"type": "schedule", "config": {"cron": DORMANT_CRON}},
        )
        reply = self.client.create(body, dormant=True)
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
