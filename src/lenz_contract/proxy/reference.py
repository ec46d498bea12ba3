"""The reference engine: openapi-core re-checks every exchange, away from the event loop.

openapi-core costs 2–5 ms of pure-Python CPU per exchange. Run on the event loop, or even in a
thread (the GIL), it would stall the proxy for every client; so by default it runs in its own
process (`spawn`, one worker) and the proxy only pickles a small job to it. `thread` is for
low-traffic use and tests (no process start), `off` disables it. The queue is bounded: when
openapi-core cannot keep up, jobs are skipped and counted (the fast engine has already checked
every exchange), never queued without limit.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal

from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import (
    MissingRequiredParameter,
    MissingRequiredRequestBody,
    ParameterValidationError,
    RequestBodyValidationError,
    SecurityValidationError,
)
from openapi_core.validation.response.exceptions import DataValidationError, MissingData
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

from ..spec import Spec
from ..spec.provenance import keyword_source
from ..spec.reference import PlainRequest, PlainResponse, ReferenceValidator, error_details
from .exchange import Exchange
from .violations import Direction, Finding, schema_findings, short_json

EngineMode = Literal["process", "thread", "off"]
ENGINE_MODES: tuple[EngineMode, ...] = ("process", "thread", "off")


@dataclass(frozen=True)
class ReferenceJob:
    """One exchange as plain, picklable data, and the provenance its findings fall back to.

    Build it with `of`: the exchange that leaves the proxy has no cookie and no bearer token,
    and its answer's body is decoded (openapi-core reads the JSON, not the wire bytes).
    """

    exchange: Exchange
    operation_source: str | None
    response_source: str | None

    @classmethod
    def of(
        cls,
        exchange: Exchange,
        decoded_body: bytes | None,
        operation_source: str | None,
        response_source: str | None,
    ) -> ReferenceJob:
        headers = [
            (key, "Bearer redacted" if _is_bearer(key, value) else value)
            for key, value in exchange.request_headers
            if key.lower() != "cookie"
        ]
        shown = replace(exchange, request_headers=headers, response_body=decoded_body)
        return cls(shown, operation_source, response_source)


def _is_bearer(key: str, value: str) -> bool:
    return key.lower() == "authorization" and value.lower().startswith("bearer ")


class ReferenceChecker:
    """openapi-core errors → `Finding`s with the same paths and words as the fast engine."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.validator = ReferenceValidator(Spec(document))

    def warm(self) -> bool:
        return self.validator.openapi is not None

    def check_all(self, jobs: list[ReferenceJob]) -> list[list[Finding]]:
        """Each job's findings; a job that makes openapi-core crash gets none (counted upstream
        as checked: the fast engine's verdict stands)."""
        out: list[list[Finding]] = []
        for job in jobs:
            try:
                out.append(self.check(job))
            except Exception:
                out.append([])
        return out

    def check(self, job: ReferenceJob) -> list[Finding]:
        openapi = self.validator.openapi
        out: list[Finding] = []
        exchange = job.exchange
        for exc in openapi.iter_request_errors(self._request(exchange)):
            out += self.convert(exc, "request", job)
        if exchange.response_body is not None:
            response = PlainResponse(
                exchange.status, exchange.response_body, exchange.response_headers
            )
            for exc in openapi.iter_response_errors(self._request(exchange), response):
                out += self.convert(exc, "response", job)
        return out

    @staticmethod
    def _request(exchange: Exchange) -> PlainRequest:  # a fresh one per call: validation mutates it
        return PlainRequest(
            exchange.method,
            exchange.path,
            list(exchange.query),
            exchange.request_headers,
            exchange.request_body or None,
        )

    def convert(self, exc: Exception, direction: Direction, job: ReferenceJob) -> list[Finding]:
        cause = exc.__cause__
        fallback = job.response_source if direction == "response" else job.operation_source
        if isinstance(exc, ParameterValidationError):
            where = f"{exc.location}.{exc.name}"
            if isinstance(exc, MissingRequiredParameter):
                return [Finding(direction, where, "required", "present", "missing", fallback)]
            if isinstance(cause, CastError):
                return [
                    Finding(
                        direction, where, "type", str(cause.type), short_json(cause.value), fallback
                    )
                ]
            if isinstance(cause, InvalidSchemaValue):
                return self._schema(cause, direction, where, fallback)
        if isinstance(exc, RequestBodyValidationError | DataValidationError):
            if isinstance(exc, MissingRequiredRequestBody | MissingData):
                return [Finding(direction, "body", "required", "a body", "empty", fallback)]
            if isinstance(cause, InvalidSchemaValue):
                return self._schema(cause, direction, "body", fallback)
            if isinstance(cause, MediaTypeNotFound):
                wanted = " or ".join(cause.availableMimetypes)
                given = str(cause.mimetype or "") or "missing"
                return [
                    Finding(
                        direction,
                        "header.Content-Type",
                        "content-type",
                        wanted,
                        given,
                        job.operation_source,
                    )
                ]
            if isinstance(cause, MediaTypeDeserializeError):
                return [
                    Finding(
                        direction,
                        "body",
                        "json",
                        "a JSON document",
                        "not parseable",
                        job.operation_source,
                    )
                ]
        if isinstance(exc, SecurityValidationError):
            return [
                Finding(
                    direction,
                    "header.Authorization",
                    "security",
                    "Bearer <token>",
                    "missing or not a bearer token",
                    job.operation_source,
                )
            ]
        if isinstance(exc, ResponseNotFound):
            statuses = ", ".join(str(s) for s in exc.availableresponses)
            return [
                Finding(
                    direction,
                    "status",
                    "status",
                    f"status in [{statuses}]",
                    str(exc.http_status),
                    "inferred",
                )
            ]
        _, errors = error_details(exc, "body")
        return [
            Finding(direction, e.path, type(exc).__name__, e.reason, "", fallback) for e in errors
        ]

    def _schema(
        self, cause: InvalidSchemaValue, direction: Direction, prefix: str, fallback: str | None
    ) -> list[Finding]:
        out: list[Finding] = []
        error: Any
        for error in cause.schema_errors:
            schema = error.schema if isinstance(error.schema, dict) else {}
            source = keyword_source(schema, str(error.validator), fallback)
            instance = error.instance
            missing = (
                [
                    key
                    for key in error.validator_value
                    if isinstance(instance, dict)
                    and key not in instance
                    and error.message.startswith(repr(key))
                ]
                if error.validator == "required"
                else []
            )
            known = set(schema.get("properties", {})) if isinstance(schema, dict) else set()
            unexpected = (
                [k for k in instance if k not in known]
                if error.validator == "additionalProperties" and isinstance(instance, dict)
                else []
            )
            out += schema_findings(
                self.document,
                direction=direction,
                prefix=prefix,
                instance_path=list(error.path),
                keyword=str(error.validator),
                value=error.validator_value,
                instance=instance,
                source=source,
                spec_pointer=None,
                missing=missing,
                unexpected=unexpected,
            )
        return out


# --- the worker side (module globals: one checker per worker process) -------------------------

_WORKER: ReferenceChecker | None = None


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ctrl-C in a terminal reaches the whole process group: the worker must leave it to the
    proxy, which stops the worker itself. An ignored signal survives the worker's exec, so the
    worker ignores Ctrl-C even while it is still importing (before `_worker_init` runs)."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: the worker's own init still ignores it
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _worker_init(document: dict[str, Any]) -> None:
    """Build the checker; lower the worker's priority so the proxy and its upstream always get
    the CPU first (openapi-core catching up later is fine; a slow proxy is not)."""
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):
        os.nice(19)
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    _WORKER = ReferenceChecker(document)
    _WORKER.warm()


def _exit_with_parent(parent: int) -> None:
    """A worker whose proxy died (SIGKILL, crash) must not linger: exit when orphaned."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _worker_check_all(jobs: list[ReferenceJob]) -> list[list[Finding]]:
    assert _WORKER is not None, "the reference worker was not initialised"
    return _WORKER.check_all(jobs)


def _worker_ping() -> bool:
    return _WORKER is not None


Done = Callable[[list[Finding]], None]


class ReferenceEngine:
    """Sends jobs to openapi-core in a worker process or thread, in batches; bounded, counted.

    Jobs are batched (up to `BATCH_SIZE`, or whatever arrived within `BATCH_DELAY` seconds):
    one hand-off to the worker costs thread wake-ups and pipe writes, which under load would
    cost the event loop more than the checks themselves. Each job's `done` callback runs on the
    event loop with that job's findings.
    """

    BATCH_SIZE = 64
    BATCH_DELAY = 0.02

    def __init__(
        self, document: dict[str, Any], mode: EngineMode = "process", *, max_pending: int = 1024
    ) -> None:
        if mode not in ENGINE_MODES:
            raise ValueError(f"reference engine must be one of {', '.join(ENGINE_MODES)}")
        self.document = document
        self.mode = mode
        self.max_pending = max_pending
        self.pending = 0
        self.checked = 0
        self.skipped = 0
        self.failed = 0
        self._executor: concurrent.futures.Executor | None = None
        self._checker: ReferenceChecker | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._batch: list[tuple[ReferenceJob, Done]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._in_flight: set[concurrent.futures.Future[list[list[Finding]]]] = set()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        if self.mode == "process":
            self._executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init,
                initargs=(self.document,),
            )
            with _sigint_ignored():  # the worker inherits it from its first instruction on
                self._executor.submit(_worker_ping)  # start it now, not on the first exchange
        elif self.mode == "thread":
            self._checker = ReferenceChecker(self.document)
            self._executor = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="lenz-reference"
            )
            self._executor.submit(self._checker.warm)

    def submit(self, job: ReferenceJob, done: Done) -> bool:
        """Queue a job (event loop only); False when the engine is off or saturated."""
        if self._executor is None or self._loop is None:
            return False
        if self.pending >= self.max_pending:
            self.skipped += 1
            return False
        self.pending += 1
        self._batch.append((job, done))
        if len(self._batch) >= self.BATCH_SIZE:
            self._send_batch()
        elif self._timer is None:
            self._timer = self._loop.call_later(self.BATCH_DELAY, self._send_batch)
        return True

    def _send_batch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._batch = self._batch, []
        if not batch or self._executor is None:
            return
        jobs = [job for job, _ in batch]
        try:
            if self._checker is not None:
                future = self._executor.submit(self._checker.check_all, jobs)
            else:
                future = self._executor.submit(_worker_check_all, jobs)
        except RuntimeError:  # shut down, or a broken worker process
            self._finish(batch, None)
            return
        self._in_flight.add(future)
        loop = self._loop

        def finished(result: concurrent.futures.Future[list[list[Finding]]]) -> None:
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._finish, batch, result)

        future.add_done_callback(finished)

    def _finish(
        self,
        batch: list[tuple[ReferenceJob, Done]],
        future: concurrent.futures.Future[list[list[Finding]]] | None,
    ) -> None:
        self.pending -= len(batch)
        results: list[list[Finding]] | None = None
        if future is not None:
            self._in_flight.discard(future)
            with contextlib.suppress(Exception):
                results = future.result()
        if results is None or len(results) != len(batch):
            self.failed += len(batch)
            return
        self.checked += len(batch)
        for (_, done), findings in zip(batch, results, strict=True):
            done(findings)

    async def drain(self, timeout: float) -> None:
        """Send what is queued and wait until every batch has been answered and merged."""
        self._send_batch()
        in_flight = list(self._in_flight)
        if in_flight:
            await asyncio.wait([asyncio.wrap_future(f) for f in in_flight], timeout=timeout)
        for _ in range(3):  # let the merge callbacks queued from the worker threads run
            await asyncio.sleep(0)

    def stats(self) -> dict[str, Any]:
        return {
            "engine": "openapi-core",
            "mode": self.mode,
            "checked": self.checked,
            "pending": self.pending,
            "skipped": self.skipped,
            "failed": self.failed,
        }

    def close(self) -> None:
        """Cancel queued jobs and wait for the worker to finish its current one and exit."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
