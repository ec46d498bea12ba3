"""The hot path: forward a request to the one upstream and stream its answer back unchanged.

- The upstream origin is fixed at startup. A request only contributes its path and query: an
  absolute-form target (`GET http://elsewhere/x`) is reduced to its path, the client's Host
  header is replaced by the upstream's, and the upstream client connects to that one origin
  only: it never follows redirects and never reads proxy settings from the environment.
- Requests are forwarded with every end-to-end header (Authorization included) and the body as
  received (buffered, up to `max_body_bytes`: it is needed to check and to replay it);
  hop-by-hop headers (RFC 9110 §7.6.1, those named in `Connection`, and `Expect`) are not.
- Answers are streamed back chunk by chunk as raw bytes (Content-Encoding untouched), with the
  upstream's status and headers minus hop-by-hop ones. A copy of the body is kept (up to
  `capture_limit`) so the exchange can be checked after the client has it.
- The upstream client is `FastClient` (see `transport.py`: httpx's stock transport costs ~1 ms
  of CPU a request here) or `HttpxClient` (`httpx.AsyncClient` with httpcore); both raise
  httpx's exceptions, so the error handling below is one.
- With `fail_on_violation` the answer is buffered, checked by the fast engine, and replaced by a
  502 naming the violation when it breaks the contract.
- Upstream down → 502, upstream too slow → 504, both with the error envelope
  `{ok: false, message}`, so a client's error handling keeps working.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, urlsplit

import httpx

from .exchange import Exchange
from .monitor import Monitor
from .transport import FastTransport

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


class UpstreamURL:
    """The one place the proxy sends requests: `http(s)://host[:port][/prefix]`."""

    def __init__(self, url: str) -> None:
        parsed = urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"the upstream must be an http(s) URL with a host, got {url!r}")
        if parsed.username or parsed.password:
            raise ValueError("the upstream URL must not carry credentials (they would be logged)")
        if parsed.query or parsed.fragment:
            raise ValueError("the upstream URL must not have a query or a fragment")
        self.text = url.rstrip("/")
        base = httpx.URL(self.text)
        self.scheme = base.scheme
        self.host = base.host
        self.port = base.port or (443 if base.scheme == "https" else 80)
        self.host_header = base.netloc  # host[:port] as the upstream expects it in Host
        self.prefix = base.raw_path.rstrip(b"/")

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    def target(self, raw_path: bytes, query_string: bytes) -> bytes:
        """The request target sent upstream: the upstream's prefix, the path, the query."""
        return self.prefix + raw_path + (b"?" + query_string if query_string else b"")


class UpstreamAnswer(Protocol):
    status_code: int
    headers_raw: list[tuple[bytes, bytes]]

    def aiter_raw(self) -> AsyncIterator[bytes]: ...
    async def aclose(self) -> None: ...


class FastClient:
    """`FastTransport` bound to the upstream's origin and the proxy's timeouts (the default)."""

    def __init__(self, upstream: UpstreamURL, timeout: httpx.Timeout) -> None:
        self.upstream = upstream
        self.timeouts = timeout.as_dict()
        self.transport = FastTransport()

    async def send(
        self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> UpstreamAnswer:
        headers = [(b"host", self.upstream.host_header), *headers]
        return await self.transport.request(
            method, self.upstream.origin, target, headers, body, self.timeouts
        )

    async def aclose(self) -> None:
        await self.transport.aclose()


class _HttpxAnswer:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self.headers_raw = response.headers.raw

    def aiter_raw(self) -> AsyncIterator[bytes]:
        return self.response.aiter_raw()

    async def aclose(self) -> None:
        await self.response.aclose()


class HttpxClient:
    """httpx's own stack (httpcore): about 1 ms more CPU a request, for when `fast` won't do."""

    def __init__(self, upstream: UpstreamURL, timeout: httpx.Timeout) -> None:
        self.upstream = upstream
        self.client = httpx.AsyncClient(
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=256, max_keepalive_connections=128, keepalive_expiry=30
            ),
            follow_redirects=False,
            trust_env=False,  # never an HTTP(S)_PROXY from the environment: only the upstream
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),  # keep none
        )
        self.base = httpx.URL(upstream.text)

    async def send(
        self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> UpstreamAnswer:
        url = self.base.copy_with(raw_path=target)
        if (url.scheme, url.host, url.port) != (self.base.scheme, self.base.host, self.base.port):
            raise ValueError("request target would leave the upstream")  # defence in depth
        request = httpx.Request(method, url, headers=headers, content=body)
        return _HttpxAnswer(await self.client.send(request, stream=True))

    async def aclose(self) -> None:
        await self.client.aclose()


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


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


async def read_body(receive: Receive, limit: int) -> bytes:
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientGone
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > limit:
            raise BodyTooLarge
        return body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


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
            self.monitor.upstream_error(f"{method} {scope['path']}", message)
            await send_json(send, 504, envelope(message), b"upstream-timeout")
            return
        except (httpx.HTTPError, OSError, ValueError) as exc:
            message = f"upstream unreachable: {_reason(exc)} ({self.upstream.text})"
            self.monitor.upstream_error(f"{method} {scope['path']}", message)
            await send_json(send, 502, envelope(message), b"upstream-unreachable")
            return
        try:
            if self.fail_on_violation:
                await self._buffered(scope, body, started, response, send)
            else:
                await self._streamed(scope, body, started, response, send)
        finally:
            await response.aclose()

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
            message = f"upstream broke off its answer: {_reason(exc)}"
            self.monitor.upstream_error(f"{scope['method']} {scope['path']}", message)
            raise
        finally:
            raw = b"".join(captured) if captured is not None else None
            self.monitor.observe(self._exchange(scope, body, started, response, raw, complete))

    async def _buffered(
        self, scope: Scope, body: bytes, started: float, response: UpstreamAnswer, send: Send
    ) -> None:
        try:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
        except httpx.HTTPError as exc:
            message = f"upstream broke off its answer: {_reason(exc)}"
            self.monitor.upstream_error(f"{scope['method']} {scope['path']}", message)
            await send_json(send, 502, envelope(message), b"upstream-unreachable")
            return
        exchange = self._exchange(scope, body, started, response, raw, True)
        route = self.monitor.route(exchange)
        verdict = self.monitor.inspect_response(exchange, route)
        if verdict.findings:
            violations = self.monitor.observe(exchange, route, verdict)
            shown = [v for v in violations if v.direction == "response"]
            first = shown[0]
            message = (
                f"contract violation in the upstream's answer to {first.operation} "
                f"(status {exchange.status}): {first.message}"
            )
            await send_json(
                send,
                502,
                envelope(
                    message,
                    errors=[
                        {"path": v.path, "reason": f"expected {v.expected}, got {v.actual}"}
                        for v in shown
                    ],
                    violations=[v.to_json() for v in shown],
                ),
                b"contract-violation",
            )
            return
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": returned_headers(response.headers_raw),
            }
        )
        await send({"type": "http.response.body", "body": raw, "more_body": False})
        self.monitor.observe(exchange, route, verdict)

    def _exchange(
        self,
        scope: Scope,
        body: bytes,
        started: float,
        response: UpstreamAnswer,
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
            status=response.status_code,
            response_headers=[
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers_raw
            ],
            response_body=raw,
            response_complete=complete,
        )


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
