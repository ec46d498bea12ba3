"""The proxy's HTTP/1.1 client to the upstream: asyncio streams + the httptools parser.

Why: on the 2-core machines this project is measured on, httpx's default transport (httpcore
over anyio, pure-Python h11 parsing) costs about 1.1 ms of CPU per request, which by itself
exceeds the proxy's latency budget; this transport does the same job in roughly a tenth of that.
`upstream.FastClient` binds it to the upstream's origin; `ProxyConfig.transport = "httpcore"`
switches to httpx's stock stack instead. Errors are httpx's exceptions, so both clients fail
the same way.

Scope, on purpose small: HTTP/1.1 (TLS for https), keep-alive pooling per origin with at most
`max_connections` connections (idle ones included), request bodies that are already bytes (the
proxy buffers them), response bodies streamed as they arrive (de-chunked, never content-decoded:
the bytes as sent), 1xx interim answers skipped, bodies delimited by the connection's close, and
httpx's connect / read / write / pool timeouts.

**A request is never sent twice unless that is safe.** A pooled connection the upstream has
closed is noticed before anything is written where possible (the reader at EOF, the transport
closing; for a non-idempotent method also a zero-timeout poll of the socket, since the loop
may not have seen the FIN yet) and replaced by another, which is safe whatever the method.
Once bytes of a request have been written, it is sent again, once, on a fresh connection only if
1. its method is idempotent (RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE),
2. the connection was a reused keep-alive one (the stale-connection race; a fresh connection
   that fails is the upstream failing, and is reported), and
3. not one byte of an answer had arrived.
Anything else (a POST or PATCH whose bytes went, even partly, into a connection that then
closed) fails with `UpstreamClosed`, which says so: the upstream may have acted on it.
"""

from __future__ import annotations

import asyncio
import select
import ssl
import sys
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import httptools
import httpx

MAX_IDLE_PER_ORIGIN = 128
READ_SIZE = 65536
NO_BODY_STATUSES = frozenset({204, 304})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})

Origin = tuple[str, str, int]


class UpstreamClosed(httpx.RemoteProtocolError):
    """The upstream closed (or reset) the connection before the end of its answer's headers.

    `retryable` is True only when sending the request again is safe (see the module docstring).
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reused = False  # it came out of the pool: it may have gone stale there
        sock = writer.get_extra_info("socket")
        self.fd: int = sock.fileno() if sock is not None else -1

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def quiet(self) -> bool:
        """Nothing waiting on an idle socket: no FIN, no reset, no stray bytes (one syscall)."""
        if self.fd < 0:
            return True
        try:
            return not _readable(self.fd)
        except (OSError, ValueError):
            return False

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()


if sys.platform != "win32":

    def _readable(fd: int) -> bool:
        poller = select.poll()  # not select(): descriptors above 1023 are common here
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))

else:

    def _readable(fd: int) -> bool:
        return bool(select.select([fd], [], [], 0)[0])


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
        except httptools.HttpParserUpgrade as exc:
            raise httpx.RemoteProtocolError(
                "the upstream switched protocols (not supported)"
            ) from exc
        except httptools.HttpParserError as exc:
            raise httpx.RemoteProtocolError(f"malformed response from the upstream: {exc}") from exc

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

    def no_body(self) -> None:
        """A HEAD, 204 or 304 answer: complete with its headers; stray bytes forbid reuse."""
        self.complete = True
        if self.chunks:
            self.chunks.clear()
            self.keep_alive = False


class RawResponse:
    """Status, raw headers and the body as it arrives; `aclose` gives the connection back to the
    pool when the answer was read to its end and the upstream keeps the connection alive."""

    def __init__(
        self,
        transport: FastTransport,
        key: Origin,
        conn: _Connection,
        parse: _Parse,
        read_timeout: float | None,
    ) -> None:
        self.status_code = parse.status
        self.headers_raw = parse.headers
        self._transport = transport
        self._key = key
        self._conn: _Connection | None = conn
        self._parse = parse
        self._timeout = read_timeout

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
                    parse.keep_alive = False
                    continue
                raise httpx.RemoteProtocolError("the upstream closed the connection mid-body")
            parse.feed(data)

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        parse = self._parse
        if parse.complete and not parse.chunks and parse.keep_alive:
            self._transport._release(self._key, conn)
        else:
            self._transport._discard(conn)


async def _read(conn: _Connection, timeout: float | None) -> bytes:
    try:
        async with asyncio.timeout(timeout):  # no task per read, unlike wait_for on 3.11
            return await conn.reader.read(READ_SIZE)
    except TimeoutError as exc:
        conn.close()
        raise httpx.ReadTimeout("no data from the upstream within the read timeout") from exc
    except (ConnectionError, OSError) as exc:
        conn.close()
        raise httpx.ReadError(_os_reason(exc)) from exc


class FastTransport:
    """HTTP/1.1 with a keep-alive pool per origin; see the module docstring for the scope and
    the rule on sending a request again."""

    def __init__(
        self, *, max_connections: int = 512, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._max_connections = max_connections
        self._slots: asyncio.Semaphore | None = None
        self._ssl = ssl_context
        self._closed = False

    # -- one request ---------------------------------------------------------------------------
    async def request(
        self,
        method: str,
        origin: Origin,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        timeouts: dict[str, Any],
    ) -> RawResponse:
        """Send one request (headers must include Host); the answer's body is not read yet."""
        head = _serialize(method, target, headers, body)
        idempotent = method in IDEMPOTENT
        conn = await self._acquire(origin, timeouts, careful=not idempotent)
        try:
            parse = await self._exchange(conn, method, head, body, timeouts)
        except UpstreamClosed as exc:
            if not exc.retryable:
                raise
            conn = await self._acquire(origin, timeouts, fresh=True)
            parse = await self._exchange(conn, method, head, body, timeouts)
        if method == "HEAD" or parse.status in NO_BODY_STATUSES:
            parse.no_body()
        return RawResponse(self, origin, conn, parse, timeouts.get("read"))

    async def _exchange(
        self, conn: _Connection, method: str, head: bytes, body: bytes, timeouts: dict[str, Any]
    ) -> _Parse:
        """Write the request, read up to the end of the answer's headers; the connection is
        discarded if anything goes wrong (or the task is cancelled)."""
        try:
            await self._write(conn, method, head, body, timeouts.get("write"))
            return await self._read_head(conn, method, timeouts.get("read"))
        except BaseException:
            self._discard(conn)
            raise

    async def _write(
        self, conn: _Connection, method: str, head: bytes, body: bytes, timeout: float | None
    ) -> None:
        writer = conn.writer
        try:
            if len(body) < READ_SIZE:
                writer.write(head + body)
            else:
                writer.write(head)
                writer.write(body)
            if writer.transport.get_write_buffer_size():
                async with asyncio.timeout(timeout):
                    await writer.drain()
        except TimeoutError as exc:
            raise httpx.WriteTimeout(
                "the upstream did not take the request within the write timeout"
            ) from exc
        except (ConnectionError, OSError) as exc:
            raise _closed(conn, method, 0, "while the request was being sent", exc) from exc

    async def _read_head(self, conn: _Connection, method: str, timeout: float | None) -> _Parse:
        parse = _Parse()
        while not parse.headers_done:
            try:
                async with asyncio.timeout(timeout):
                    data = await conn.reader.read(READ_SIZE)
            except TimeoutError as exc:
                raise httpx.ReadTimeout(
                    "no answer from the upstream within the read timeout"
                ) from exc
            except (ConnectionError, OSError) as exc:
                raise _closed(
                    conn, method, parse.received, "after the request was sent", exc
                ) from exc
            if not data:
                raise _closed(conn, method, parse.received, "after the request was sent", None)
            parse.feed(data)
        return parse

    # -- the pool ------------------------------------------------------------------------------
    async def _acquire(
        self, key: Origin, timeouts: dict[str, Any], *, careful: bool = False, fresh: bool = False
    ) -> _Connection:
        """An idle connection that still looks alive, else a new one. `careful` (for requests
        that must not be sent twice) also polls the idle socket; `fresh` skips the pool."""
        if not fresh:
            conn = self._pooled(key, careful)
            if conn is not None:
                return conn
        await self._take_slot(timeouts.get("pool"))
        try:
            return await self._open(key, timeouts.get("connect"))
        except BaseException:  # refused, timed out, or cancelled (the client went away)
            self._free()
            raise

    def _pooled(self, key: Origin, careful: bool) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if conn.usable() and (not careful or conn.quiet()):
                return conn
            self._discard(conn)  # closed by the upstream while idle: nothing was written to it
        return None

    async def _take_slot(self, timeout: float | None) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._max_connections)
        try:
            async with asyncio.timeout(timeout):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise httpx.PoolTimeout(
                f"no free connection to the upstream within the pool timeout "
                f"({self._max_connections} in use)"
            ) from exc

    async def _open(self, key: Origin, timeout: float | None) -> _Connection:
        scheme, host, port = key
        context = (self._ssl or ssl.create_default_context()) if scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context else None,
                    limit=READ_SIZE * 4,
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(
                f"could not connect to {host}:{port} within the connect timeout"
            ) from exc
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(_os_reason(exc)) from exc
        return _Connection(reader, writer)

    def _release(self, key: Origin, conn: _Connection) -> None:
        idle = self._idle.setdefault(key, deque())
        if self._closed or len(idle) >= MAX_IDLE_PER_ORIGIN or not conn.usable():
            self._discard(conn)
            return
        conn.reused = True
        idle.append(conn)

    def _discard(self, conn: _Connection) -> None:
        conn.close()
        self._free()

    def _free(self) -> None:
        if self._slots is not None:
            self._slots.release()

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            while idle:
                self._discard(idle.pop())
        self._idle.clear()


def _closed(
    conn: _Connection, method: str, received: int, when: str, exc: BaseException | None
) -> UpstreamClosed:
    """The error for a connection that closed before the answer's headers were complete."""
    retryable = conn.reused and received == 0 and method in IDEMPOTENT
    if received:
        message = "the upstream closed the connection in the middle of its answer's headers"
    else:
        message = f"the upstream closed the connection {when}, without answering"
    if exc is not None:
        message += f" ({_os_reason(exc)})"
    if not received and method not in IDEMPOTENT:
        message += f"; not retried: {method} is not idempotent"
    return UpstreamClosed(message, retryable=retryable)


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
