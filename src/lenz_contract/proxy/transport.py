"""A lean HTTP/1.1 transport for `httpx.AsyncClient`: asyncio streams + the httptools parser.

Why: on the 2-core machines this project is measured on, httpx's default transport (httpcore
over anyio, pure-Python h11 parsing) costs about 1.1 ms of CPU per request, which by itself
exceeds the proxy's latency budget; this transport does the same job in roughly a tenth of that.
The proxy keeps `httpx.AsyncClient` for everything else (timeouts, the request/response model,
streaming); `ProxyConfig.transport = "httpcore"` switches back to the stock transport.

Scope, on purpose small: HTTP/1.1 (TLS for https), keep-alive pooling per origin, request
bodies that are already bytes (the proxy buffers them), response bodies streamed as they arrive
(de-chunked, never content-decoded: the same bytes `aiter_raw` gives), httpx's connect / read /
write / pool timeouts, and one retry on a fresh connection when a pooled one turns out to have
been closed by the upstream before it answered a single byte.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import httptools
import httpx

MAX_IDLE_PER_ORIGIN = 128
READ_SIZE = 65536
NO_BODY_STATUSES = frozenset({204, 304})


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reused = False

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()


class _Parse:
    """httptools callbacks for one response; 1xx interim answers are skipped."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.headers_done = False
        self.complete = False
        self.chunks: deque[bytes] = deque()
        self.length_known = False
        self.keep_alive = False
        self.received = 0

    def feed(self, data: bytes) -> None:
        self.received += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            raise httpx.RemoteProtocolError(
                "the upstream switched protocols (not supported)"
            ) from None
        except httptools.HttpParserError as exc:
            raise httpx.RemoteProtocolError(
                f"malformed response from the upstream: {exc}"
            ) from None

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self.headers = []
            return
        self.status = status
        self.headers_done = True
        self.keep_alive = self.parser.should_keep_alive()  # llhttp forgets it once complete
        for name, value in self.headers:
            low = name.lower()
            if low == b"content-length" or (
                low == b"transfer-encoding" and b"chunked" in value.lower()
            ):
                self.length_known = True

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self.headers_done:
            self.complete = True


class RawResponse(httpx.AsyncByteStream):
    """Status, raw headers and the body as it arrives; `aclose` gives the connection back to the
    pool (or closes it). Also usable as an httpx response stream."""

    def __init__(
        self,
        transport: FastTransport,
        key: tuple[str, str, int],
        conn: _Connection,
        parse: _Parse,
        read_timeout: float | None,
        reusable: bool,
    ) -> None:
        self.status_code = parse.status
        self.headers_raw = parse.headers
        self._transport = transport
        self._key = key
        self._conn: _Connection | None = conn
        self._parse = parse
        self._timeout = read_timeout
        self._reusable = reusable

    def aiter_raw(self) -> AsyncIterator[bytes]:
        return self.__aiter__()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        parse = self._parse
        while True:
            while parse.chunks:
                yield parse.chunks.popleft()
            if parse.complete or self._conn is None:
                return
            data = await _read(self._conn, self._timeout)
            if not data:
                if not parse.length_known:  # the body ran until the connection closed
                    parse.complete = True
                    self._reusable = False
                    continue
                raise httpx.RemoteProtocolError("the upstream closed the connection mid-body")
            parse.feed(data)

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        parse = self._parse
        if self._reusable and parse.complete and not parse.chunks and parse.keep_alive:
            self._transport._release(self._key, conn)
        else:
            self._transport._discard(conn)


async def _read(conn: _Connection, timeout: float | None) -> bytes:
    try:
        async with asyncio.timeout(timeout):  # no task per read, unlike wait_for on 3.11
            return await conn.reader.read(READ_SIZE)
    except TimeoutError:
        conn.close()
        raise httpx.ReadTimeout("no data from the upstream within the read timeout") from None
    except (ConnectionError, OSError) as exc:
        conn.close()
        raise httpx.ReadError(str(exc) or type(exc).__name__) from None


class FastTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with a keep-alive pool per origin; see the module docstring for the scope."""

    def __init__(
        self, *, max_connections: int = 512, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._max_connections = max_connections
        self._slots: asyncio.Semaphore | None = None
        self._ssl = ssl_context
        self._closed = False

    # -- the pool ------------------------------------------------------------------------------
    async def _acquire(self, key: tuple[str, str, int], timeouts: dict[str, Any]) -> _Connection:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if conn.usable():
                conn.reused = True
                return conn
            conn.close()
            self._free()
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._max_connections)
        try:
            await asyncio.wait_for(self._slots.acquire(), timeouts.get("pool"))
        except TimeoutError:
            raise httpx.PoolTimeout(
                "no free connection to the upstream within the pool timeout"
            ) from None
        scheme, host, port = key
        context = None
        if scheme == "https":
            context = self._ssl or ssl.create_default_context()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context else None,
                    limit=READ_SIZE * 4,
                ),
                timeouts.get("connect"),
            )
        except TimeoutError:
            self._free()
            raise httpx.ConnectTimeout(
                f"could not connect to {host}:{port} within the connect timeout"
            ) from None
        except (OSError, ssl.SSLError) as exc:
            self._free()
            raise httpx.ConnectError(_os_reason(exc)) from None
        return _Connection(reader, writer)

    def _release(self, key: tuple[str, str, int], conn: _Connection) -> None:
        idle = self._idle.setdefault(key, deque())
        if self._closed or len(idle) >= MAX_IDLE_PER_ORIGIN or not conn.usable():
            conn.close()
            self._free()
            return
        idle.append(conn)

    def _discard(self, conn: _Connection) -> None:
        conn.close()
        self._free()

    def _free(self) -> None:
        if self._slots is not None:
            self._slots.release()

    # -- one request ---------------------------------------------------------------------------
    async def request(
        self,
        method: str,
        origin: tuple[str, str, int],
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        timeouts: dict[str, Any],
    ) -> RawResponse:
        """Send one request (headers must include Host); the answer's body is not read yet."""
        head = _serialize(method, target, headers, body)
        for attempt in (1, 2):
            conn = await self._acquire(origin, timeouts)
            try:
                parse = await self._exchange(conn, head, body, timeouts)
            except _StaleConnection:
                self._discard(conn)
                if attempt == 2:
                    raise httpx.RemoteProtocolError(
                        "the upstream closed the connection without answering"
                    ) from None
                continue
            except BaseException:
                self._discard(conn)
                raise
            reusable = method != "HEAD"
            if not reusable or parse.status in NO_BODY_STATUSES:
                parse.complete = True
            return RawResponse(self, origin, conn, parse, timeouts.get("read"), reusable)
        raise AssertionError("unreachable")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """The same, behind `httpx.AsyncClient(transport=FastTransport())`."""
        url = request.url
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        body = b"".join([part async for part in request.stream])  # type: ignore[union-attr]
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        raw = await self.request(
            request.method, origin, url.raw_path or b"/", list(request.headers.raw), body, timeouts
        )
        return httpx.Response(
            raw.status_code,
            headers=raw.headers_raw,
            stream=raw,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def _exchange(
        self, conn: _Connection, head: bytes, body: bytes, timeouts: dict[str, Any]
    ) -> _Parse:
        try:
            conn.writer.write(head + body if len(body) < 65536 else head)
            if len(body) >= 65536:
                conn.writer.write(body)
            if conn.writer.transport.get_write_buffer_size():
                async with asyncio.timeout(timeouts.get("write")):
                    await conn.writer.drain()
        except TimeoutError:
            raise httpx.WriteTimeout(
                "the upstream did not take the request within the write timeout"
            ) from None
        except (ConnectionError, OSError) as exc:
            if conn.reused:
                raise _StaleConnection from None
            raise httpx.WriteError(_os_reason(exc)) from None
        parse = _Parse()
        while not parse.headers_done:
            try:
                async with asyncio.timeout(timeouts.get("read")):
                    data = await conn.reader.read(READ_SIZE)
            except TimeoutError:
                raise httpx.ReadTimeout(
                    "no answer from the upstream within the read timeout"
                ) from None
            except (ConnectionError, OSError) as exc:
                if conn.reused and parse.received == 0:
                    raise _StaleConnection from None
                raise httpx.ReadError(_os_reason(exc)) from None
            if not data:
                if conn.reused and parse.received == 0:
                    raise _StaleConnection
                raise httpx.RemoteProtocolError(
                    "the upstream closed the connection before answering"
                )
            parse.feed(data)
        return parse

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            while idle:
                idle.pop().close()
        self._idle.clear()


class _StaleConnection(Exception):
    """A pooled connection the upstream had closed: retried once on a fresh one."""


def _serialize(
    method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
) -> bytes:
    if b" " in target or b"\r" in target or b"\n" in target:
        raise httpx.LocalProtocolError("the request target contains a space or a line break")
    lines = [method.encode("ascii") + b" " + target + b" HTTP/1.1"]
    has_length = False
    for name, value in headers:
        if b"\r" in name or b"\n" in name or b"\r" in value or b"\n" in value:
            raise httpx.LocalProtocolError("a header contains a line break")
        if name.lower() == b"content-length":
            has_length = True
        lines.append(name + b": " + value)
    if body and not has_length:
        lines.append(b"content-length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _os_reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)
