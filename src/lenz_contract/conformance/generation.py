"""The generated phases, run by schemathesis from the shipped spec.

Examples (the docs' own payloads), coverage (boundaries and every kind of invalid value),
positive and negative fuzzing, and stateful sequences through the spec's links (create → get,
update, execute, logs, delete), with schemathesis's checks configured per profile (`profiles`).

schemathesis only ever talks to `guard.Gateway`: it is not told the target's URL, so the guard
sees every request it makes. Link inference and reusing ids seen in answers are off: the spec's
own links are enough, and the guard would only send such writes to an absent id anyway.
"""

from __future__ import annotations

import time
from typing import Any

from .context import Profile, RunContext
from .guard import EXCHANGE_HEADER, Gateway
from .profiles import (
    BUILTIN,
    builtin_cells,
    builtin_names,
    examples_phase_checks,
    generation_document,
    operation_overrides,
    schemathesis_checks,
)
from .results import Exchange, Failure, RunResult, Status
from .session import Session
from .token import PLACEHOLDER

READ_ONLY_METHODS = ("GET",)
TOKEN_REFUSALS = (400, 401, 403)
SHAPE_CHECKS = frozenset(
    {"response_schema_conformance", "content_type_conformance", "status_code_conformance"}
)
STATEFUL_STEPS = 6
RETRY_BUDGET = 120.0


def schemathesis_config(ctx: RunContext) -> dict[str, Any]:
    """The run as a schemathesis config table (the same keys as `schemathesis.toml`).

    No `max-time`: schemathesis treats it as time to fill (fuzzing and stateful cycle until it
    is spent), while `--time-budget` is a ceiling; `Generation` stops the engine at the deadline.
    """
    timeout = ctx.options.request_timeout + RETRY_BUDGET
    table: dict[str, Any] = {
        "seed": ctx.seed,
        "cache": {"enabled": False},
        "headers": {"Authorization": f"Bearer {PLACEHOLDER}"},  # filled in by the guard
        "workers": ctx.options.workers,
        "continue-on-failure": True,
        "request-timeout": timeout,
        "generation": {
            "max-examples": ctx.options.max_examples,
            "database": "none",
            "mode": "all",
        },
        "checks": schemathesis_checks(ctx),
        "phases": {
            "examples": {"enabled": True, "extra-data-sources": {"responses": False}},
            "coverage": {
                "enabled": True,
                "unexpected-methods": [],
                "extra-data-sources": {"responses": False},
            },
            "fuzzing": {"enabled": True, "extra-data-sources": {"responses": False}},
            "stateful": {
                "enabled": ctx.may_write,
                "max-steps": STATEFUL_STEPS,
                "inference": {"algorithms": []},
            },
        },
    }
    if ctx.profile is Profile.DOCS:
        table["phases"]["examples"]["checks"] = examples_phase_checks(ctx)
        table["operations"] = operation_overrides(ctx)
    return table


def selected_operations(ctx: RunContext) -> list[str]:
    ops = ctx.operations()
    if not ctx.execute_allowed:
        ops = [op for op in ops if op != "executeWorkflow"]
    if ctx.options.read_only:
        ops = [op for op in ops if ctx.spec.operations[op].method in READ_ONLY_METHODS]
    return ops


def build_schema(session: Session) -> Any:
    import schemathesis

    ctx = session.ctx
    config = schemathesis.Config.from_dict(schemathesis_config(ctx))
    document = generation_document(ctx, selected_operations(ctx))
    schema = schemathesis.openapi.from_dict(document, config=config)
    schema.app = Gateway(session.http)
    return schema


class Generation:
    """Runs the engine and turns its events into outcomes of `result`."""

    def __init__(self, session: Session, result: RunResult, reporter: Any) -> None:
        self.session = session
        self.ctx = session.ctx
        self.result = result
        self.reporter = reporter
        self.labels = {
            f"{op.method} {op.path}": op.operation_id for op in self.ctx.spec.operations.values()
        }
        self.enabled = builtin_names(self.ctx)

    def run(self, time_budget: float | None) -> None:
        from schemathesis.engine import events, from_schema

        operations = selected_operations(self.ctx)
        if not operations or not self.enabled:
            self.result.notes.append("no operation or check left for the generated phases")
            return
        for op, name in builtin_cells(self.ctx, operations, self.enabled):
            self.result.outcome(op, name, BUILTIN[name].rule(self.ctx.profile))
        schema = build_schema(self.session)
        stream = from_schema(schema).execute()
        deadline = time.monotonic() + time_budget if time_budget is not None else None
        try:
            self._consume(stream, events, deadline)
        finally:
            _forget_app(schema.app)
        for (_, name), outcome in self.result.outcomes.items():
            if name in BUILTIN and outcome.runs == 0 and outcome.status is Status.PASSED:
                outcome.status = Status.SKIPPED
                outcome.detail = "no generated request exercised it"

    def _consume(self, stream: Any, events: Any, deadline: float | None) -> None:
        spent = False
        try:
            for event in stream:
                if deadline is not None and not spent and time.monotonic() > deadline:
                    spent = True
                    stream.stop()
                    self.result.notes.append("the time budget ran out: generation stopped early")
                if isinstance(event, events.PhaseStarted):
                    self.reporter.phase(f"generation: {event.phase.name.value}")
                elif isinstance(event, events.ScenarioFinished):
                    try:
                        self._collect(event.recorder, event.phase.value)
                    except Exception as exc:  # a report bug must not lose the run (or its cleanup)
                        self.result.errors.append(f"reading {event.recorder.label}: {exc!r}")
                    self.reporter.scenario(event.phase.value, event.recorder.label, self.result)
                elif isinstance(event, events.NonFatalError):
                    if self.result.target_lost:
                        continue  # the consequence, already said once
                    text = f"{event.label}: {event.info.title}: {event.info.message}"
                    if _looks_like_network(text) and (why := self.session.unreachable()):
                        self.result.target_lost = why
                        stream.stop()
                        continue
                    self.result.errors.append(self.ctx.redact(text))
                elif isinstance(event, events.FatalError):
                    self.result.errors.append(self.ctx.redact(f"schemathesis: {event.exception}"))
                elif isinstance(event, events.Interrupted) and not spent:
                    # our own stop (a lost target) is not the user's Ctrl-C
                    self.result.interrupted = not self.result.target_lost
        except KeyboardInterrupt:
            stream.stop()
            self.result.interrupted = True

    # -- from a recorder to outcomes ------------------------------------------------------------

    def _collect(self, recorder: Any, phase: str) -> None:
        from schemathesis.engine import Status as EngineStatus

        for case_id, nodes in recorder.checks.items():
            node = recorder.cases.get(case_id)
            if node is None:
                continue
            operation = self.labels.get(node.value.operation.label)
            if operation is None:
                continue
            for check in nodes:
                if check.name not in self.enabled:
                    continue
                outcome = self.result.outcome(
                    operation, check.name, BUILTIN[check.name].rule(self.ctx.profile)
                )
                outcome.runs += 1
                if check.status == EngineStatus.FAILURE and check.failure_info is not None:
                    failure = self._failure(recorder, case_id, operation, check, phase)
                    if not self._token_refusal_in_docs(failure):
                        outcome.add_failure(failure)
                elif check.status == EngineStatus.ERROR and outcome.status is Status.PASSED:
                    outcome.status = Status.ERROR
                    outcome.detail = "the check crashed (see the run errors)"

    def _token_refusal_in_docs(self, failure: Failure) -> bool:
        """In the docs profile, the answer to a request sent without the run's token is a
        token refusal in the middleware's own words: its body and its status (400, 401 or 403)
        are the auth checks' to judge, not the schema's (docs/contract-decisions.md)."""
        exchange = failure.exchange
        return (
            self.ctx.profile is Profile.DOCS
            and exchange is not None
            and not exchange.sent_token()
            and exchange.status in TOKEN_REFUSALS
            and failure.check in SHAPE_CHECKS
        )

    def _failure(
        self, recorder: Any, case_id: str, operation: str, check: Any, phase: str
    ) -> Failure:
        failure = check.failure_info.failure
        failing_case = failure.case_id or case_id
        exchange = self._exchange(recorder, failing_case) or self._exchange(recorder, case_id)
        steps = [
            found
            for step in check.failure_info.steps[:-1]
            if (found := self._exchange(recorder, step.case_id)) is not None
        ]
        message = self.ctx.redact(f"{failure.title}\n{failure.message}".strip())
        expected = next(
            (
                line.partition(":")[2].strip()
                for line in message.splitlines()
                if line.startswith("Expected") and ":" in line
            ),
            "",
        )
        actual = f"{exchange.status} {exchange.body_excerpt(200)}" if exchange is not None else ""
        return Failure(
            check=check.name,
            operation=operation,
            rule=BUILTIN[check.name].rule(self.ctx.profile),
            message=message,
            expected=expected or BUILTIN[check.name].rule(self.ctx.profile).text,
            actual=actual,
            exchange=exchange,
            phase=phase,
            seed=self.ctx.seed,
            steps=steps,
        )

    def _exchange(self, recorder: Any, case_id: str) -> Exchange | None:
        interaction = recorder.interactions.get(case_id)
        if interaction is None or interaction.response is None:
            return None
        values = interaction.response.headers.get(EXCHANGE_HEADER) or []
        value = values[0] if isinstance(values, list) and values else values
        try:
            return self.session.transport.exchange(int(value))
        except (TypeError, ValueError):
            return None


def _looks_like_network(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in ("connect", "network", "timeout", "timed out"))


def _forget_app(app: Any) -> None:
    """schemathesis keeps every ASGI app it started for the life of the process; let ours go.

    Without this, each run's gateway (with its client and its exchange log) stays in memory,
    which adds up in a pytest session or a test suite with many runs. Private API: best effort.
    """
    try:
        from schemathesis.python import asgi

        with asgi._LOCK:
            lifespan = asgi._LIFESPANS.pop(id(app), None)
            asgi._STARTUP_LOCKS.pop(id(app), None)
        if lifespan is not None:
            lifespan.stop()
    except Exception:  # pragma: no cover - a newer schemathesis may keep this differently
        pass


def run_generation(
    session: Session, result: RunResult, reporter: Any, time_budget: float | None = None
) -> None:
    started = time.monotonic()
    Generation(session, result, reporter).run(time_budget)
    result.notes.append(f"generation took {time.monotonic() - started:.1f}s")
