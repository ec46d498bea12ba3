"""The proxy's ASGI endpoint: forward a request to the one upstream, stream its answer back.

This module is only the endpoint (`Forwarder` and its helpers); the upstream's URL and the
clients that talk to it are in `upstream.py`, the wire protocol in `transport.py`.

- The upstream origin is fixed at startup. A request only contributes its path and query: an
  absolute-form target (`GET http://elsewhere/x`) is reduced to its path, the client's Host
  header is replaced by the upstream's, and the upstream client connects to that one origin
  only: it never follows redirects and never reads proxy settings from the environment.
- Requests are forwarded with every end-to-end header (Authorization included) and the body as
  received (buffered, up to `max_body_bytes`: it is needed to check it, and to send it again
  when `transport.py`'s rule says that is safe); hop-by-hop headers (RFC 9110 §7.6.1, those
  named in `Connection`, and `Expect`) are not.
- Answers are streamed back chunk by chunk as raw bytes (Content-Encoding untouched), with the
  upstream's status and headers minus hop-by-hop ones. A copy of the body is kept (up to
  `capture_limit`) so the exchange can be checked after the client has it.
- With `fail_on_violation` the answer is buffered, checked by the fast engine, and replaced by a
  502 naming the violation when it breaks the contract.
- Upstream down or failing → 502, upstream too slow → 504, both with the error envelope
  `{ok: false, message}`, so a client's error handling keeps working. The request is still
  checked: a request that broke the contract is reported even when the upstream then failed.
- The monitor never costs the client its answer: its failures are noted (on the monitor's own
  error path, else in `logging`) and the answer goes through.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import httpx

from ..wire import BodyTooLarge, ClientGone, read_body
from .checks import ResponseCheck, Route
from .exchange import Exchange
from .monitor import Monitor
from .upstream import FastClient, HttpxClient, UpstreamAnswer, UpstreamURL
from .violations import Violation

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
NOT_FORWARDED = HOP_BY_HOP | {b"host", b"expect"}


def origin_form(scope: Scope) -> bytes | None:
    """The request target as a path (`/api/x`), whatever form the client sent; None if none."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    if raw.startswith(b"/"):
        return raw
    if raw == b"*":
        return None
    parts = urlsplit(raw.decode("latin-1"))  # absolute-form: keep only the path
    if parts.scheme and parts.netloc:
        return (parts.path or "/").encode("latin-1")
    return None


def forwarded_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    named = _connection_tokens(raw)
    return [(k, v) for k, v in raw if k not in NOT_FORWARDED and k not in named]


def returned_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    named = _connection_tokens(raw)
    return [(k, v) for k, v in raw if (low := k.lower()) not in HOP_BY_HOP and low not in named]


def _connection_tokens(raw: list[tuple[bytes, bytes]]) -> set[bytes]:
    tokens: set[bytes] = set()
    for key, value in raw:
        if key.lower() == b"connection":
            tokens |= {t.strip().lower() for t in value.split(b",") if t.strip()}
    return tokens


def envelope(message: str, **extra: Any) -> bytes:
    return json.dumps({"ok": False, "message": message, **extra}, ensure_ascii=False).encode()


async def send_json(send: Send, status: int, body: bytes, kind: bytes = b"1") -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-lenz-proxy", kind),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Forwarder:
    """The ASGI endpoint for everything outside `/__proxy/`."""

    def __init__(
        self,
        upstream: UpstreamURL,
        monitor: Monitor,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        fail_on_violation: bool = False,
        max_body_bytes: int = 16 * 1024 * 1024,
        capture_limit: int = 8 * 1024 * 1024,
        transport: Literal["fast", "httpcore"] = "fast",
    ) -> None:
        self.upstream = upstream
        self.monitor = monitor
        self.timeout = timeout
        self.fail_on_violation = fail_on_violation
        self.max_body_bytes = max_body_bytes
        self.capture_limit = capture_limit
        self._timeouts = httpx.Timeout(timeout, connect=min(connect_timeout, timeout))
        self.transport = transport
        self.client: FastClient | HttpxClient | None = None

    async def start(self) -> None:
        client_class = FastClient if self.transport == "fast" else HttpxClient
        self.client = client_class(self.upstream, self._timeouts)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        target = origin_form(scope)
        if target is None:
            await send_json(send, 400, envelope("invalid request target"))
            return
        try:
            body = await read_body(receive, self.max_body_bytes)
        except BodyTooLarge:
            await send_json(send, 413, envelope(f"request body over {self.max_body_bytes} bytes"))
            return
        except ClientGone:
            return
        method: str = scope["method"]
        query_string: bytes = scope.get("query_string", b"")
        assert self.client is not None, "the proxy was not started (lifespan)"
        started = time.time()
        try:
            response = await self.client.send(
                method,
                self.upstream.target(target, query_string),
                forwarded_headers(scope["headers"]),
                body,
            )
        except httpx.TimeoutException as exc:
            message = f"upstream timed out: no answer within {self.timeout:g} s ({_kind(exc)})"
            await self._failed(scope, body, started, 504, message, b"upstream-timeout", send)
            return
        except (httpx.HTTPError, OSError, ValueError) as exc:
            message = f"{_failure(exc)}: {_reason(exc)} ({self.upstream.text})"
            await self._failed(scope, body, started, 502, message, b"upstream-unreachable", send)
            return
        try:
            if self.fail_on_violation:
                await self._buffered(scope, body, started, response, send)
            else:
                await self._streamed(scope, body, started, response, send)
        finally:
            await response.aclose()

    async def _failed(
        self,
        scope: Scope,
        body: bytes,
        started: float,
        status: int,
        message: str,
        kind: bytes,
        send: Send,
    ) -> None:
        """No (whole) answer from the upstream: the client gets `status` and the envelope; the
        request is still checked, so its own violations are reported all the same."""
        self._upstream_error(scope, message)
        try:
            await send_json(send, status, envelope(message), kind)
        finally:
            self._observe(self._exchange(scope, body, started, status, [], None, False))

    async def _streamed(
        self, scope: Scope, body: bytes, started: float, response: UpstreamAnswer, send: Send
    ) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": returned_headers(response.headers_raw),
            }
        )
        captured: list[bytes] | None = []
        size = 0
        complete = False
        try:
            async for chunk in response.aiter_raw():  # each chunk goes on as soon as it arrives
                if captured is not None:
                    size += len(chunk)
                    if size > self.capture_limit:
                        captured = None
                    else:
                        captured.append(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            complete = True
        except httpx.HTTPError as exc:
            self._upstream_error(scope, f"upstream broke off its answer: {_reason(exc)}")
            raise
        finally:
            raw = b"".join(captured) if captured is not None else None
            status, headers = response.status_code, response.headers_raw
            self._observe(self._exchange(scope, body, started, status, headers, raw, complete))

    async def _buffered(
        self, scope: Scope, body: bytes, started: float, response: UpstreamAnswer, send: Send
    ) -> None:
        try:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
        except httpx.HTTPError as exc:
            message = f"upstream broke off its answer: {_reason(exc)}"
            await self._failed(scope, body, started, 502, message, b"upstream-unreachable", send)
            return
        status, headers = response.status_code, response.headers_raw
        exchange = self._exchange(scope, body, started, status, headers, raw, True)
        judged = self._judge(exchange)
        if judged is None:  # the monitor failed (and said so): the answer goes through
            await _send_answer(send, response, raw)
            return
        route, verdict = judged
        if not verdict.findings:
            await _send_answer(send, response, raw)
            self._observe(exchange, route, verdict)
            return
        violations = self._observe(exchange, route, verdict)
        shown = [v for v in violations if v.direction == "response"]
        if shown:
            await send_json(send, 502, _violation_envelope(exchange, shown), b"contract-violation")
        else:  # nothing to show (the monitor failed): the client still gets its answer
            await _send_answer(send, response, raw)

    # -- the monitor, which must never cost the client its answer --------------------------------
    def _judge(self, exchange: Exchange) -> tuple[Route, ResponseCheck] | None:
        try:
            route = self.monitor.route(exchange)
            return route, self.monitor.inspect_response(exchange, route)
        except Exception as exc:
            self._internal_error(exchange, exc)
            return None

    def _observe(
        self, exchange: Exchange, route: Route | None = None, verdict: ResponseCheck | None = None
    ) -> list[Violation]:
        try:
            return self.monitor.observe(exchange, route, verdict)
        except Exception as exc:  # observe notes its own failures; this is in case that fails
            self._internal_error(exchange, exc)
            return []

    def _internal_error(self, exchange: Exchange, exc: Exception) -> None:
        try:
            self.monitor.internal_error(exchange, exc)
        except Exception:
            log.exception("the monitor failed on %s %s", exchange.method, exchange.path)

    def _upstream_error(self, scope: Scope, message: str) -> None:
        try:
            self.monitor.upstream_error(f"{scope['method']} {scope['path']}", message)
        except Exception:
            log.exception("the monitor failed to note an upstream error: %s", message)

    def _exchange(
        self,
        scope: Scope,
        body: bytes,
        started: float,
        status: int,
        headers: list[tuple[bytes, bytes]],
        raw: bytes | None,
        complete: bool,
    ) -> Exchange:
        query_string = scope.get("query_string", b"").decode("latin-1")
        return Exchange(
            id=self.monitor.next_id(),
            time=started,
            method=scope["method"],
            path=scope["path"] if scope["path"].startswith("/") else _path_only(scope["path"]),
            query_string=query_string,
            query=parse_qsl(query_string, keep_blank_values=True),
            request_headers=[
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
            ],
            request_body=body,
            status=status,
            response_headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
            response_body=raw,
            response_complete=complete,
        )


async def _send_answer(send: Send, response: UpstreamAnswer, raw: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": returned_headers(response.headers_raw),
        }
    )
    await send({"type": "http.response.body", "body": raw, "more_body": False})


def _violation_envelope(exchange: Exchange, shown: list[Violation]) -> bytes:
    first = shown[0]
    message = (
        f"contract violation in the upstream's answer to {first.operation} "
        f"(status {exchange.status}): {first.message}"
    )
    return envelope(
        message,
        errors=[
            {"path": v.path, "reason": f"expected {v.expected}, got {v.actual}"} for v in shown
        ],
        violations=[v.to_json() for v in shown],
    )


def _failure(exc: Exception) -> str:
    """How a 502 begins: the upstream could not be reached, or it failed once reached."""
    if isinstance(exc, httpx.HTTPError) and not isinstance(exc, httpx.ConnectError):
        return "upstream failed"
    return "upstream unreachable"


def _path_only(target: str) -> str:
    return urlsplit(target).path or "/"


def _kind(exc: httpx.TimeoutException) -> str:
    return {
        httpx.ConnectTimeout: "connect timeout",
        httpx.ReadTimeout: "read timeout",
        httpx.WriteTimeout: "write timeout",
        httpx.PoolTimeout: "pool timeout",
    }.get(type(exc), "timeout")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    lowered = text.lower()
    if "connection refused" in lowered or "connect call failed" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        return "unknown host"
    return text or type(exc).__name__
