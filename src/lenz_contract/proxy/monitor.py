"""Everything that happens to an exchange after it has been forwarded.

`observe` runs on the event loop once the client has its answer: the fast engine checks the
exchange (microseconds), its violations go to the console, the log and the report at once, the
recorder takes the conforming answers, and a job goes to openapi-core in the background. When
openapi-core's findings come back, only those the fast engine did not already report (same
direction and JSON path) are added, so each fault is reported once.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from ..spec import Spec
from .checks import FastChecker, ResponseCheck, Route
from .curl import curl_for
from .exchange import Exchange
from .observations import ExchangeLog, exchange_record
from .recorder import Recorder
from .redact import REDACTED, Redactor
from .reference import ReferenceEngine, ReferenceJob
from .report import ReportState
from .semantics import SemanticChecker, json_body
from .violations import Finding, Violation


class Sink(Protocol):
    def write(self, violation: Violation) -> None: ...
    def note(self, line: str) -> None: ...
    def close(self) -> None: ...


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Monitor:
    def __init__(
        self,
        spec: Spec,
        *,
        upstream: str,
        report: ReportState,
        sinks: Sequence[Sink],
        redactor: Redactor,
        reference: ReferenceEngine | None = None,
        recorder: Recorder | None = None,
        semantics: SemanticChecker | None = None,
    ) -> None:
        self.spec = spec
        self.upstream = upstream
        self.checker = FastChecker(spec)
        self.report = report
        self.sinks = list(sinks)
        self.redactor = redactor
        self.reference = reference
        self.recorder = recorder
        self.semantics = semantics
        self.observations: ExchangeLog | None = None  # opened by the app's lifespan
        self._ids = itertools.count(1)
        self.internal_errors = 0

    def next_id(self) -> int:
        return next(self._ids)

    # -- the fast path -------------------------------------------------------------------------
    def route(self, exchange: Exchange) -> Route:
        return self.checker.route(exchange.method, exchange.path)

    def inspect_response(self, exchange: Exchange, route: Route) -> ResponseCheck:
        """The fast verdict on the response (`--fail-on-violation` calls it before answering).

        A bug in a check must never cost the client its answer: it is noted, and the answer
        passes as if it conformed.
        """
        try:
            return self.checker.check_response(exchange, route)
        except Exception as exc:
            self.internal_error(exchange, exc)
            return ResponseCheck((), None, False, None)

    def observe(
        self, exchange: Exchange, route: Route | None = None, response: ResponseCheck | None = None
    ) -> list[Violation]:
        """Check, report, record and hand off one exchange; returns its fast violations.

        Runs after the client has its answer; whatever goes wrong here is noted, never raised.
        """
        try:
            return self._observe(exchange, route, response)
        except Exception as exc:
            self.internal_error(exchange, exc)
            return []

    def internal_error(self, exchange: Exchange, exc: BaseException) -> None:
        self.internal_errors += 1
        for sink in self.sinks:
            sink.note(
                f"PROXY ERROR while checking {exchange.method} {exchange.path}: "
                f"{type(exc).__name__}: {self.redactor.text(str(exc))[:300]}"
            )

    def _observe(
        self, exchange: Exchange, route: Route | None, response: ResponseCheck | None
    ) -> list[Violation]:
        route = route or self.route(exchange)
        self.redactor.learn_headers(exchange.request_headers)
        op = route.operation
        self.report.count_exchange(
            op.operation_id if op else route.label if route.template else None,
            exchange.method,
            exchange.path,
        )
        findings = self.checker.check_request(exchange, route)
        if op is None:
            violations = self.emit(exchange, route, findings, "fast")
            self._log_exchange(exchange, route, None)
            return violations
        response = response or self.checker.check_response(exchange, route)
        findings += response.findings
        violations = self.emit(exchange, route, findings, "fast")
        if self.recorder is not None and response.parsed:
            self.recorder.observe(
                exchange, op, route.path_params, response.body, not response.findings
            )
        if self.semantics is not None and exchange.response_complete:
            body = json_body(exchange, response.parsed, response.body)
            semantic = self.semantics.check(exchange, op, route.path_params, body)
            violations += self.emit(exchange, route, semantic, "semantic")
        if self.reference is not None and exchange.response_complete:
            self._submit(exchange, route, response, findings)
        self._log_exchange(exchange, route, response)
        return violations

    def _log_exchange(
        self, exchange: Exchange, route: Route, response: ResponseCheck | None
    ) -> None:
        """One record in `--log-exchanges` (redacted); a full disk must not break forwarding."""
        if self.observations is None:
            return
        record = exchange_record(
            exchange,
            operation=route.label if route.template else None,
            template=route.template,
            redactor=self.redactor,
            response_json=response.body if response is not None else None,
            response_parsed=response is not None and response.parsed,
        )
        try:
            self.observations.write(record)
        except (OSError, ValueError) as exc:
            self.internal_error(exchange, exc)

    # -- the reference engine ------------------------------------------------------------------
    def _submit(
        self, exchange: Exchange, route: Route, response: ResponseCheck, found: list[Finding]
    ) -> None:
        assert self.reference is not None and route.operation is not None
        op = route.operation
        answer = op.response_for(exchange.status)
        job = ReferenceJob.of(
            exchange,
            response.decoded if response.decoded is not None else exchange.decoded_response_body(),
            op.source,
            answer.source if answer else None,
        )
        known: set[tuple[str, str]] = {(f.direction, f.path) for f in found}

        def done(findings: list[Finding]) -> None:
            extra = [f for f in findings if (f.direction, f.path) not in known]
            try:
                self.emit(exchange, route, extra, "reference")
            except Exception as exc:
                self.internal_error(exchange, exc)

        self.reference.submit(job, done)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until openapi-core has answered every job submitted so far."""
        if self.reference is not None:
            await self.reference.drain(timeout)

    # -- output --------------------------------------------------------------------------------
    def emit(
        self, exchange: Exchange, route: Route, findings: list[Finding], engine: str
    ) -> list[Violation]:
        if not findings:
            return []
        curl = curl_for(exchange, self.upstream, self.redactor)
        time = iso_now()
        url = exchange.path
        if exchange.query:
            url += "?" + "&".join(f"{k}={v}" for k, v in self.redactor.query(exchange.query))
        out = []
        for finding in findings:
            violation = Violation(
                time=time,
                exchange=exchange.id,
                operation=route.label,
                method=exchange.method,
                url=url,
                status=exchange.status,
                direction=finding.direction,
                path=finding.path,
                rule=finding.rule,
                expected=finding.expected,
                actual=self._actual(finding),
                source=finding.source or "unknown",
                spec=finding.spec,
                engine=engine,
                curl=curl,
                rests_on=finding.rests_on,
                basis=finding.basis,
            )
            out.append(violation)
            self.report.add(violation)
            for sink in self.sinks:
                try:
                    sink.write(violation)
                except (OSError, ValueError) as exc:  # a full disk must not break forwarding
                    self.internal_error(exchange, exc)
        return out

    def _actual(self, finding: Finding) -> str:
        """Values under a secret-named key are never shown; header findings hold no values."""
        if not finding.path.startswith("header.") and self.redactor.path_is_secret(finding.path):
            return REDACTED
        return self.redactor.text(finding.actual)

    def upstream_error(self, exchange_line: str, message: str) -> None:
        self.report.count_upstream_error(message)
        for sink in self.sinks:
            sink.note(f"UPSTREAM ERROR {exchange_line}: {message}")

    def stats(self) -> dict[str, Any]:
        stats = self.reference.stats() if self.reference else {"engine": "off"}
        return {**stats, "internal_errors": self.internal_errors}

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()
        if self.observations is not None:
            self.observations.close()
