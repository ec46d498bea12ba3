"""The upstream connection, byte by byte: a request is never sent twice unless that is safe.

Each test scripts a `RawUpstream` (real sockets on 127.0.0.1) and counts what it received.
Tests about the client's answer go through the proxy (uvicorn on a loopback port); tests about
the pool talk to `FastTransport` directly.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest

from lenz_contract.proxy.forward import _kind
from lenz_contract.proxy.transport import FastTransport, RawResponse

from .conftest import ProxyFactory
from .raw_upstream import RawConnection, RawUpstream, answer, serve_all

OK = b'{"ok": true}'
TIMEOUTS: dict[str, Any] = {"connect": 2.0, "read": 5.0, "write": 5.0, "pool": 2.0}
NOT_RETRIED = "; not retried: POST is not idempotent"


def origin(up: RawUpstream) -> tuple[str, str, int]:
    return ("http", "127.0.0.1", up.port)


async def send(
    transport: FastTransport, up: RawUpstream, method: str, target: bytes, **timeouts: float
) -> RawResponse:
    headers = [(b"host", f"127.0.0.1:{up.port}".encode())]
    return await transport.request(
        method,
        origin(up),
        target,
        headers,
        b"{}" if method == "POST" else b"",
        {**TIMEOUTS, **timeouts},
    )


async def read_all(answer: RawResponse) -> tuple[int, bytes]:
    try:
        return answer.status_code, b"".join([chunk async for chunk in answer.aiter_raw()])
    finally:
        await answer.aclose()


async def fetch(
    transport: FastTransport, up: RawUpstream, method: str, target: bytes, **timeouts: float
) -> tuple[int, bytes]:
    return await read_all(await send(transport, up, method, target, **timeouts))


def stale_after_first(conn: RawConnection) -> None:
    """Connection 1 answers one request, then reads the next and closes without answering
    (the upstream's idle close crossing the proxy's next request); later ones answer all."""
    if conn.number > 1:
        serve_all(conn, b'{"conn": %d}' % conn.number)
        return
    if conn.read_request() is not None:
        conn.send(answer(b'{"conn": 1}'))
        conn.read_request()
    conn.close()


# -- a connection that goes stale in the pool ------------------------------------------------------
def test_a_get_on_a_stale_keepalive_connection_is_sent_again_once_on_a_fresh_one(
    proxy: ProxyFactory,
) -> None:
    with RawUpstream(stale_after_first) as up, proxy(up.url, reference="off") as p:
        first = p.client.get("/raw/a")
        second = p.client.get("/raw/b")
    assert (first.status_code, first.content) == (200, b'{"conn": 1}')
    assert (second.status_code, second.content) == (200, b'{"conn": 2}')
    assert up.lines() == [(1, "GET", "/raw/a"), (1, "GET", "/raw/b"), (2, "GET", "/raw/b")]
    assert up.errors == []


def test_a_post_on_a_stale_keepalive_connection_is_never_sent_again(
    proxy: ProxyFactory,
) -> None:
    with RawUpstream(stale_after_first) as up, proxy(up.url, reference="off") as p:
        assert p.client.get("/raw/a").status_code == 200
        post = p.client.post("/api/workflows/wf-1/execute", json={})
    assert post.status_code == 502
    assert post.headers["x-lenz-proxy"] == "upstream-unreachable"
    assert post.json() == {
        "ok": False,
        "message": "upstream failed: the upstream closed the connection after the request was "
        f"sent, without answering{NOT_RETRIED} ({up.url})",
    }
    assert up.lines() == [(1, "GET", "/raw/a"), (1, "POST", "/api/workflows/wf-1/execute")]
    assert up.connections == 1
    assert "UPSTREAM ERROR POST /api/workflows/wf-1/execute: upstream failed" in (
        p.console.getvalue()
    )


def test_a_post_to_an_idle_connection_the_upstream_closed_goes_on_a_fresh_one(
    proxy: ProxyFactory,
) -> None:
    """Seen closed before anything was written: a new connection is safe for any method."""

    def close_when_idle(conn: RawConnection) -> None:
        if conn.read_request() is not None:
            conn.send(answer(b'{"conn": %d}' % conn.number))
        conn.close()

    with RawUpstream(close_when_idle) as up, proxy(up.url, reference="off") as p:
        assert p.client.get("/raw/a").content == b'{"conn": 1}'
        time.sleep(0.3)  # the proxy's loop sees the upstream's FIN on the idle connection
        post = p.client.post("/api/workflows/wf-1/execute", json={})
    assert (post.status_code, post.content) == (200, b'{"conn": 2}')
    assert up.lines() == [(1, "GET", "/raw/a"), (2, "POST", "/api/workflows/wf-1/execute")]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_stale_connection_the_loop_has_not_noticed_yet(method: str) -> None:
    """The upstream's FIN is in this host's kernel but the event loop has not read it yet.

    A POST polls the idle socket before writing, sees it and takes a new connection; a GET
    (no poll: it may be resent) writes into the dead connection, gets EOF, and is sent again on
    a fresh one. Either way the upstream receives the second request exactly once.
    """
    go_close, closed = threading.Event(), threading.Event()

    def script(conn: RawConnection) -> None:
        if conn.number > 1:
            serve_all(conn, b'{"conn": %d}' % conn.number)
            return
        conn.read_request()
        conn.send(answer(b'{"conn": 1}'))
        go_close.wait(5)
        conn.close()
        closed.set()

    async def scenario(up: RawUpstream) -> tuple[int, bytes]:
        transport = FastTransport()
        try:
            assert await fetch(transport, up, "GET", b"/a") == (200, b'{"conn": 1}')
            go_close.set()
            assert closed.wait(5)  # blocks the loop: it cannot see the FIN arrive
            time.sleep(0.1)
            assert not transport._idle[origin(up)][0].reader.at_eof()  # the racy case indeed
            return await fetch(transport, up, method, b"/b")
        finally:
            await transport.aclose()

    with RawUpstream(script) as up:
        assert asyncio.run(scenario(up)) == (200, b'{"conn": 2}')
    assert up.lines() == [(1, "GET", "/a"), (2, method, "/b")]
    assert up.errors == []


def test_an_upstream_closing_mid_post_is_a_502_and_the_post_is_sent_once(
    proxy: ProxyFactory,
) -> None:
    def read_part_then_close(conn: RawConnection) -> None:
        if conn.read_head() is not None:
            conn.read_body(1000)
        conn.close()  # unread bytes left: the kernel resets the connection

    body = b"x" * (4 * 1024 * 1024)
    with RawUpstream(read_part_then_close) as up, proxy(up.url, reference="off") as p:
        post = p.client.post(
            "/api/workflows/wf-1/execute",
            content=body,
            headers={"Content-Type": "application/octet-stream"},
        )
    assert post.status_code == 502
    message = post.json()["message"]
    assert message.startswith("upstream failed: the upstream closed the connection ")
    assert message.endswith(f"{NOT_RETRIED} ({up.url})")
    assert up.lines() == [(1, "POST", "/api/workflows/wf-1/execute")]
    assert up.connections == 1


# -- answers of unusual shapes ---------------------------------------------------------------------
@pytest.mark.parametrize("fail_on_violation", [False, True])
def test_a_close_delimited_body_is_passed_through_whole(
    proxy: ProxyFactory, fail_on_violation: bool
) -> None:
    """No Content-Length, no chunking: the body ends when the upstream closes the connection,
    which is then never reused."""

    def close_delimited(conn: RawConnection) -> None:
        if conn.read_request() is None:
            return
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart one;")
        time.sleep(0.05)
        conn.send(b"part two;")
        conn.close()

    with (
        RawUpstream(close_delimited) as up,
        proxy(up.url, reference="off", fail_on_violation=fail_on_violation) as p,
    ):
        answers = [p.client.get("/raw/a"), p.client.get("/raw/b")]
    assert [(a.status_code, a.content) for a in answers] == [(200, b"part one;part two;")] * 2
    assert up.lines() == [(1, "GET", "/raw/a"), (2, "GET", "/raw/b")]


def test_interim_1xx_answers_are_skipped(proxy: ProxyFactory) -> None:
    def interim_first(conn: RawConnection) -> None:
        while conn.read_request() is not None:
            conn.send(
                b"HTTP/1.1 100 Continue\r\n\r\n"
                b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
            )
            time.sleep(0.02)
            conn.send(answer(OK, headers=["X-Final: yes"]))

    with RawUpstream(interim_first) as up, proxy(up.url, reference="off") as p:
        answers = [p.client.post("/raw/a", content=b"{}"), p.client.get("/raw/b")]
    for got in answers:
        assert (got.status_code, got.content, got.headers["x-final"]) == (200, OK, "yes")
        assert "link" not in got.headers
    assert up.lines() == [(1, "POST", "/raw/a"), (1, "GET", "/raw/b")]  # the connection was kept


def test_204_and_head_answers_read_no_body_and_keep_the_connection(proxy: ProxyFactory) -> None:
    def by_method(conn: RawConnection) -> None:
        while (request := conn.read_request()) is not None:
            if request[0].method == "DELETE":
                conn.send(b"HTTP/1.1 204 No Content\r\n\r\n")
            elif request[0].method == "HEAD":  # announces a body it (rightly) does not send
                conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
            else:
                conn.send(answer(OK))

    with RawUpstream(by_method) as up, proxy(up.url, reference="off", timeout=2) as p:
        deleted = p.client.delete("/raw/a")
        head = p.client.head("/raw/a")
        got = p.client.get("/raw/a")
        head_again = p.client.head("/raw/a")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "1234")
    assert (got.status_code, got.content) == (200, OK)
    assert head_again.status_code == 200
    assert up.lines() == [
        (1, "DELETE", "/raw/a"),
        (1, "HEAD", "/raw/a"),
        (1, "GET", "/raw/a"),
        (1, "HEAD", "/raw/a"),
    ]


# -- the pool ----------------------------------------------------------------------------------
def test_pool_exhaustion_times_out_and_slots_come_back() -> None:
    async def scenario(up: RawUpstream) -> None:
        transport = FastTransport(max_connections=2)
        try:
            held = [await send(transport, up, "GET", b"/1") for _ in range(2)]
            with pytest.raises(httpx.PoolTimeout) as caught:
                await send(transport, up, "GET", b"/3", pool=0.1)
            assert str(caught.value) == (
                "no free connection to the upstream within the pool timeout (2 in use)"
            )
            assert _kind(caught.value) == "pool timeout"  # the proxy's 504 says so
            assert await read_all(held[0]) == (200, OK)  # read to its end: back to the pool
            assert await fetch(transport, up, "GET", b"/4", pool=0.1) == (200, OK)
            await held[1].aclose()  # unread: its connection is closed and its slot freed
            both = await asyncio.gather(
                *(send(transport, up, "GET", b"/5", pool=0.5) for _ in range(2))
            )
            assert [await read_all(a) for a in both] == [(200, OK)] * 2
        finally:
            await transport.aclose()

    with RawUpstream(serve_all) as up:
        asyncio.run(scenario(up))
    lines = up.lines()
    assert lines[:3] == [(1, "GET", "/1"), (2, "GET", "/1"), (1, "GET", "/4")]
    assert sorted(lines[3:]) == [(1, "GET", "/5"), (3, "GET", "/5")]


@pytest.mark.parametrize("ending", ["cancelled", "timed out"])
def test_a_connect_that_never_finishes_frees_its_slot(
    monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    """With one slot: a connect that hangs until the client goes away (its task is cancelled)
    or the connect timeout fires must leave that slot to the next request."""
    real_open = asyncio.open_connection

    async def scenario(up: RawUpstream) -> tuple[int, bytes]:
        transport = FastTransport(max_connections=1)
        entered = asyncio.Event()

        async def never(*args: Any, **kwargs: Any) -> Any:
            entered.set()
            await asyncio.Event().wait()

        monkeypatch.setattr(asyncio, "open_connection", never)
        task = asyncio.create_task(
            send(transport, up, "GET", b"/hang", connect=0.1 if ending == "timed out" else 30)
        )
        await entered.wait()
        try:
            if ending == "cancelled":
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            else:
                with pytest.raises(httpx.ConnectTimeout) as caught:
                    await task
                assert isinstance(caught.value.__cause__, TimeoutError)  # the cause is kept
            monkeypatch.setattr(asyncio, "open_connection", real_open)
            return await fetch(transport, up, "GET", b"/next", pool=0.2)
        finally:
            await transport.aclose()

    with RawUpstream(serve_all) as up:
        assert asyncio.run(scenario(up)) == (200, OK)
    assert up.lines() == [(1, "GET", "/next")]
