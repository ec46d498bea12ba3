"""The proxy forwards unchanged, answers for a dead or slow upstream, and talks to no other host."""

from __future__ import annotations

import socket
from collections import Counter

import httpx
import pytest

from ..support.live import free_port, serve
from .conftest import AUTH, ProxyFactory
from .upstreams import Upstream, counting_app

VOLATILE = {"date"}


def fingerprint(
    response: httpx.Response, raw: bytes
) -> tuple[int, bytes, Counter[tuple[str, str]]]:
    headers = Counter(
        (k.decode().lower(), v.decode())
        for k, v in response.headers.raw
        if k.decode().lower() not in VOLATILE
    )
    return response.status_code, raw, headers


def fetch(
    client: httpx.Client, method: str, url: str, **kwargs: object
) -> tuple[int, bytes, Counter[tuple[str, str]]]:
    with client.stream(method, url, **kwargs) as response:  # type: ignore[arg-type]
        raw = b"".join(response.iter_raw())
        return fingerprint(response, raw)


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/api/workflows", AUTH),
        ("GET", "/api/workflows?search=laporan&limit=5", AUTH),
        ("GET", "/api/workflows/wf-uuid-001", AUTH),
        ("GET", "/api/workflows/wf-uuid-001/logs", AUTH),
        ("GET", "/api/workflows/no-such-id", AUTH),
        ("GET", "/api/workflows", {}),
        ("GET", "/api/workflows?limit=abc", AUTH),
        ("GET", "/openapi.json", {}),
        ("HEAD", "/api/workflows/wf-uuid-001", AUTH),
        ("DELETE", "/api/workflows/no-such-id", AUTH),
    ],
)
def test_mock_answers_pass_through_byte_for_byte(
    proxy: ProxyFactory, mock_url: str, method: str, path: str, headers: dict[str, str]
) -> None:
    with proxy(mock_url) as p, httpx.Client(base_url=mock_url) as direct:
        assert fetch(p.client, method, path, headers=headers) == fetch(
            direct, method, path, headers=headers
        )


@pytest.mark.parametrize("path", ["/raw/cookies", "/raw/gzip", "/raw/stream"])
def test_unusual_answers_pass_through_byte_for_byte(
    proxy: ProxyFactory, broken: tuple[str, Upstream], path: str
) -> None:
    """Several Set-Cookie headers, a gzip body (not decoded), a chunked stream."""
    url, _ = broken
    headers = {"Accept-Encoding": "gzip"}
    with proxy(url) as p, httpx.Client(base_url=url) as direct:
        proxied = fetch(p.client, "GET", path, headers=headers)
        assert proxied == fetch(direct, "GET", path, headers=headers)
    if path == "/raw/cookies":
        assert [v for k, v in proxied[2].elements() if k == "set-cookie"] == [
            "a=1; Path=/",
            "b=2; Path=/; HttpOnly",
        ]
    if path == "/raw/gzip":
        assert proxied[1][:2] == b"\x1f\x8b"  # still compressed: the body went through as bytes


def test_request_is_forwarded_unchanged_without_hop_by_hop_headers(
    proxy: ProxyFactory, broken: tuple[str, Upstream]
) -> None:
    url, state = broken
    body = b'{"a": 1,   "b": [true]}\n'
    headers = {
        "Authorization": "Bearer the-real-token-123456",
        "Content-Type": "application/json; charset=utf-8",
        "X-Trace-Id": "abc-123",
        "Connection": "keep-alive, X-Drop-Me",
        "X-Drop-Me": "1",
        "Keep-Alive": "timeout=5",
        "TE": "trailers",
    }
    with proxy(url) as p:
        answer = p.client.post("/raw/echo?b=2&a=1&a=3&sp=%20x", content=body, headers=headers)
    assert answer.status_code == 200
    got = state.received[-1]
    seen = {k.lower(): v for k, v in got.headers}
    assert (got.method, got.path, got.query, got.body) == (
        "POST",
        "/raw/echo",
        "b=2&a=1&a=3&sp=%20x",
        body,
    )
    assert seen["authorization"] == "Bearer the-real-token-123456"
    assert seen["content-type"] == "application/json; charset=utf-8"
    assert seen["x-trace-id"] == "abc-123"
    assert seen["host"] == url.removeprefix("http://")
    assert not {"x-drop-me", "keep-alive", "te"} & set(seen)


@pytest.mark.parametrize("transport", ["fast", "httpcore"])
def test_binary_bodies_and_both_transports(
    proxy: ProxyFactory, broken: tuple[str, Upstream], transport: str
) -> None:
    url, state = broken
    body = bytes(range(256)) * 3
    with proxy(url, transport=transport) as p, httpx.Client(base_url=url) as direct:
        answer = p.client.put(
            "/raw/echo", content=body, headers={"Content-Type": "application/octet-stream"}
        )
        assert state.received[-1].body == body
        assert answer.status_code == 200
        assert fetch(p.client, "GET", "/raw/gzip") == fetch(direct, "GET", "/raw/gzip")


def test_a_bug_in_a_check_never_costs_the_client_its_answer(
    proxy: ProxyFactory, broken: tuple[str, Upstream], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lenz_contract.proxy.checks import FastChecker

    def explode(*args: object) -> None:
        raise RuntimeError("boom")

    url, _ = broken
    monkeypatch.setattr(FastChecker, "check_response", explode)
    for fail_on_violation in (False, True):
        with proxy(url, fail_on_violation=fail_on_violation) as p:
            answer = p.client.get("/api/workflows/missing-id", headers=AUTH)
            assert answer.status_code == 200 and "data" in answer.json()
            assert (
                "PROXY ERROR while checking GET /api/workflows/missing-id: RuntimeError: boom"
                in p.console.getvalue()
            )


def test_upstream_down_is_502_with_the_envelope(proxy: ProxyFactory) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with proxy(dead) as p:
        answer = p.client.get("/api/workflows", headers=AUTH)
        report = p.flush()
    assert answer.status_code == 502
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["ok"] is False
    assert body["message"].startswith("upstream unreachable: connection refused")
    assert report["totals"]["upstream_errors"] == 1
    assert "UPSTREAM ERROR" in p.console.getvalue()


def test_upstream_timeout_is_504_with_the_envelope(
    proxy: ProxyFactory, broken: tuple[str, Upstream]
) -> None:
    url, _ = broken
    with proxy(url, timeout=0.3) as p:
        answer = p.client.get("/api/workflows/slow", headers=AUTH)
        assert p.client.get("/api/workflows/ok", headers=AUTH).status_code == 200  # still serving
    assert answer.status_code == 504
    assert answer.json() == {
        "ok": False,
        "message": "upstream timed out: no answer within 0.3 s (read timeout)",
    }


def _raw_request(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_absolute_uri_and_host_tricks_never_reach_another_host(
    proxy: ProxyFactory, broken: tuple[str, Upstream], http: str
) -> None:
    url, state = broken
    evil = Upstream()
    with serve(counting_app(evil)) as evil_url, proxy(url, http=http) as p:
        evil_host = evil_url.removeprefix("http://")
        before = len(state.received)
        answer = _raw_request(
            p.url,
            f"GET {evil_url}/raw/echo?via=absolute HTTP/1.1\r\nHost: {evil_host}\r\nConnection: close\r\n\r\n".encode(),
        )
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert p.client.get("/raw/echo?via=host", headers={"Host": evil_host}).status_code == 200
        p.client.get(f"//{evil_host}/raw/echo?via=scheme-relative")
        p.client.get(
            "/raw/echo?via=forwarded",
            headers={"X-Forwarded-Host": evil_host, "Forwarded": f"host={evil_host}"},
        )
    assert evil.received == []
    paths = [(r.path, r.query) for r in state.received[before:]]
    assert ("/raw/echo", "via=absolute") in paths
    assert ("/raw/echo", "via=host") in paths
    assert all(
        r.headers
        and dict((k.lower(), v) for k, v in r.headers)["host"] == url.removeprefix("http://")
        for r in state.received[before:]
    )


def test_proxy_paths_are_its_own(proxy: ProxyFactory, broken: tuple[str, Upstream]) -> None:
    url, state = broken
    before = len(state.received)
    with proxy(url) as p:
        missing = p.client.get("/__proxy/nothing-here")
        wrong_method = p.client.post("/__proxy/report")
        health = p.client.get("/__proxy/health")
    assert missing.status_code == 404
    assert missing.json() == {"ok": False, "message": "no such proxy endpoint"}
    assert wrong_method.status_code == 405
    assert health.json() == {"ok": True, "upstream": url}
    assert len(state.received) == before


def test_cors_preflight_is_answered_by_the_proxy(
    proxy: ProxyFactory, broken: tuple[str, Upstream]
) -> None:
    url, state = broken
    origin = "http://localhost:5173"
    with proxy(url, cors_origins=(origin,)) as p:
        before = len(state.received)
        preflight = p.client.options(
            "/api/workflows",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        simple = p.client.get("/api/workflows/ok", headers={"Origin": origin, **AUTH})
        refused = p.client.get(
            "/api/workflows/ok", headers={"Origin": "http://evil.example", **AUTH}
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert [r.method for r in state.received[before:]] == [
        "GET",
        "GET",
    ]  # the preflight stayed here
    assert simple.headers["access-control-allow-origin"] == origin
    assert "access-control-allow-origin" not in refused.headers
