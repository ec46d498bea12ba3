"""Hostile and broken clients against a real uvicorn server: clear 4xx answers, never a 5xx or a hang.

Risk covered: input a fuzzer does not produce (megabyte bodies, 100,000 nesting levels, 60 KB
query strings, bytes that are not UTF-8, NULs, a client that trickles its body or vanishes
half-way) crashes a request, blocks the event loop for everyone else, answers a plain-text or
HTML error a frontend cannot parse, or leaves the server unable to answer the next request.
`tests/mock/test_api.py` checks the same refusals in-process (no sockets); here they go through
uvicorn's HTTP parser and real connections, against both stores. Every client has a timeout.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from lenz_contract.mock import create_app

from ..support.live import serve
from ..support.processes import MOCK_AUTH as AUTH
from .conftest import CREATE

JSON_AUTH = {**AUTH, "Content-Type": "application/json"}
MIB = 1024 * 1024
TIMEOUT = 10.0


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def base_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    state = None
    if request.param == "sqlite":
        state = tmp_path_factory.mktemp("hostile") / "state.sqlite"
    app = create_app(state_path=state, self_check=True, scheduler=False)
    with serve(app) as url:
        yield url
        # Whatever came before, the server still answers normally.
        with httpx.Client(base_url=url, headers=AUTH, timeout=TIMEOUT) as http:
            assert http.get("/api/workflows").status_code == 200
            assert http.post("/api/workflows", json=CREATE).status_code == 201
    assert not app.state.mock.failures, app.state.mock.failures


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=TIMEOUT) as client:
        yield client


def assert_refused(response: httpx.Response, status: int, path: str) -> None:
    """A clear refusal: the status, JSON, the documented envelope and a located reason."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["ok"] is False and isinstance(body["message"], str)
    assert any(e["path"].startswith(path) for e in body["errors"]), body


def address(base_url: str) -> tuple[str, int]:
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def raw_exchange(base_url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client library fixing them) and read one HTTP answer."""
    with socket.create_connection(address(base_url), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        return read_answer(sock)


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed without an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed in the middle of the answer"
        body += chunk
    return status, headers, body


def request_head(method: str, target: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {target} HTTP/1.1",
        "Host: mock.test",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# --- size --------------------------------------------------------------------------------------


def test_a_body_over_one_mib_is_413_with_content_length(http: httpx.Client) -> None:
    """A declared oversized body is refused by its length (memory stays bounded)."""
    big = json.dumps({**CREATE, "description": "x" * MIB}).encode()
    assert_refused(http.post("/api/workflows", content=big, headers=JSON_AUTH), 413, "body")
    assert_refused(http.put("/api/workflows/any", content=big, headers=JSON_AUTH), 413, "body")


def test_a_chunked_body_over_one_mib_is_413(http: httpx.Client) -> None:
    """Without a length the mock must count while streaming, not buffer the whole upload."""

    def chunks() -> Iterator[bytes]:  # no Content-Length: the mock counts while it streams
        for _ in range(30):
            yield b" " * 100_000

    assert_refused(http.post("/api/workflows", content=chunks(), headers=JSON_AUTH), 413, "body")


def test_a_huge_declared_length_is_refused_before_any_body_arrives(base_url: str) -> None:
    """A client announcing 10 GB gets its 413 at once; the mock does not wait for the bytes."""
    head = request_head(
        "POST", "/api/workflows", {**JSON_AUTH, "Content-Length": str(10 * 1024**3)}
    )
    status, headers, body = raw_exchange(base_url, head)
    assert status == 413 and headers["content-type"] == "application/json"
    assert json.loads(body)["errors"][0]["path"] == "body"


def test_deeply_nested_json_is_400_not_a_recursion_error(http: httpx.Client) -> None:
    """100,000 levels would blow a recursive parser's stack: a 500 or a dead worker."""
    for raw in (b"[" * 100_000, b'{"a": ' * 100_000, b"[" * 100_000 + b"]" * 100_000):
        assert_refused(http.post("/api/workflows", content=raw, headers=JSON_AUTH), 400, "body")


def test_huge_query_strings(http: httpx.Client) -> None:
    """60 KB: a search that long is a valid (if useless) string (the spec sets no maxLength);
    a 60 KB number is refused (Python's int() refuses over 4,300 digits: a 400, not a 500)."""
    found = http.get("/api/workflows", params={"search": "a" * 60_000}, headers=AUTH)
    assert found.status_code == 200 and found.json()["total_data"] == 0
    assert_refused(
        http.get("/api/workflows", params={"limit": "9" * 60_000}, headers=AUTH), 400, "query.limit"
    )
    assert_refused(
        http.get("/api/workflows/none/logs", params={"page": "1" * 60_000}, headers=AUTH),
        400,
        "query.page",
    )


def test_repeated_query_parameters_are_400(http: httpx.Client) -> None:
    """`?page=1&page=2`: the mock must not silently pick one (the frontend has a bug)."""
    for query, where in (("page=1&page=2", "query.page"), ("search=a&search=b", "query.search")):
        assert_refused(http.get(f"/api/workflows?{query}", headers=AUTH), 400, where)


# --- bytes and types -----------------------------------------------------------------------------


def test_non_utf8_bytes_are_400(http: httpx.Client) -> None:
    """Bytes that are not UTF-8 must be refused where they are, not decoded into something else."""
    assert_refused(
        http.post("/api/workflows", content=b'{"name": "\xff\xfe"}', headers=JSON_AUTH), 400, "body"
    )
    # Percent-encoded bytes that do not spell UTF-8: refused, not searched for as U+FFFD.
    assert_refused(http.get("/api/workflows?search=%FF%FE", headers=AUTH), 400, "query")
    assert_refused(http.get("/api/workflows?limit=%C0", headers=AUTH), 400, "query")


def test_raw_bytes_in_the_request_line_are_refused_by_the_http_parser(base_url: str) -> None:
    """Unencoded non-ASCII or NUL in the target never reaches the mock: uvicorn answers a plain
    400 and closes (the one refusal without the JSON envelope, it happens before the app)."""
    for target in (b"/api/workflows?search=\xff\xfe", b"/api/workflows?search=a\x00b"):
        request = b"GET " + target + b" HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer x\r\n\r\n"
        status, headers, _ = raw_exchange(base_url, request)
        assert status == 400 and headers.get("connection") == "close"


@pytest.mark.parametrize(
    ("content_type", "status", "where"),
    [
        ("text/plain", 415, "header.Content-Type"),
        ("application/x-www-form-urlencoded", 415, "header.Content-Type"),
        (None, 415, "header.Content-Type"),
        ("application/json", 201, ""),
    ],
)
def test_content_types(
    http: httpx.Client, content_type: str | None, status: int, where: str
) -> None:
    """Only JSON is taken: a form or plain text is a 415 naming the header."""
    headers = dict(AUTH) if content_type is None else {**AUTH, "Content-Type": content_type}
    answer = http.post("/api/workflows", content=json.dumps(CREATE).encode(), headers=headers)
    if status == 201:
        assert answer.status_code == 201
    else:
        assert_refused(answer, status, where)


@pytest.mark.parametrize(
    "raw", [b"{", b'{"name": }', b"[]", b"[1, 2]", b"42", b'"a string"', b"null", b"true", b""]
)
def test_invalid_json_and_non_object_bodies_are_400(http: httpx.Client, raw: bytes) -> None:
    """Broken JSON and JSON that is not an object: a located 400, never a handler crash."""
    assert_refused(http.post("/api/workflows", content=raw, headers=JSON_AUTH), 400, "body")
    assert_refused(
        http.put("/api/workflows/wf-uuid-001", content=raw, headers=JSON_AUTH), 400, "body"
    )


def test_nul_bytes(http: httpx.Client) -> None:
    """A raw NUL is not JSON (400); an escaped one is a valid string, stored and searched as such."""
    raw = json.dumps(CREATE).encode().replace(b"Laporan", b"Lap\x00oran")
    assert_refused(http.post("/api/workflows", content=raw, headers=JSON_AUTH), 400, "body")
    name = f"nul\x00name {time.monotonic_ns()}"
    created = http.post("/api/workflows", json={**CREATE, "name": name}, headers=AUTH)
    assert created.status_code == 201
    assert created.json()["data"]["name"] == name
    found = http.get("/api/workflows", params={"search": name}, headers=AUTH).json()
    assert [w["name"] for w in found["data"]] == [name]
    assert_refused(http.get("/api/workflows/%00", headers=AUTH), 404, "path.id")


# --- slow and vanishing clients ------------------------------------------------------------------


def test_a_slow_client_does_not_block_the_others(base_url: str, http: httpx.Client) -> None:
    """Headers, then the body's last 25 bytes one every 100 ms: meanwhile others are served."""
    body = json.dumps({**CREATE, "name": "slow client"}).encode()
    head = request_head("POST", "/api/workflows", {**JSON_AUTH, "Content-Length": str(len(body))})
    sending = threading.Event()
    done = threading.Event()
    answer: list[int] = []

    def trickle() -> None:
        with socket.create_connection(address(base_url), timeout=TIMEOUT) as sock:
            sock.sendall(head + body[:-25])
            sending.set()
            for byte in body[-25:]:
                time.sleep(0.1)
                sock.sendall(bytes([byte]))
            done.set()
            answer.append(read_answer(sock)[0])

    slow = threading.Thread(target=trickle)
    slow.start()
    try:
        assert sending.wait(TIMEOUT)
        served = [http.get("/api/workflows", headers=AUTH).status_code for _ in range(5)]
        # The slow body is not complete yet, and five other requests were already answered:
        # the event loop is not blocked by a request waiting for its body.
        assert not done.is_set()
        assert served == [200] * 5
    finally:
        slow.join(TIMEOUT)
    assert answer == [201]


def test_a_client_vanishing_mid_body_breaks_nothing(base_url: str, http: httpx.Client) -> None:
    """A client gone half-way (under and over the limit, chunked too): no write, no crash."""
    before = http.get("/api/workflows", headers=AUTH).json()["total_data"]
    body = json.dumps(CREATE).encode()
    for declared in (len(body), 2 * MIB):  # under and over the limit
        head = request_head(
            "POST", "/api/workflows", {**JSON_AUTH, "Content-Length": str(declared)}
        )
        with socket.create_connection(address(base_url), timeout=TIMEOUT) as sock:
            sock.sendall(head + body[: len(body) // 2])
    chunked_head = request_head(
        "POST", "/api/workflows", {**JSON_AUTH, "Transfer-Encoding": "chunked"}
    )
    with socket.create_connection(address(base_url), timeout=TIMEOUT) as sock:
        sock.sendall(chunked_head + b"100\r\n" + b" " * 0x100 + b"\r\n")  # then gone, no last chunk
    time.sleep(0.2)  # let the server notice the disconnects (the assertions below do not time)
    after = http.get("/api/workflows", headers=AUTH)
    assert after.status_code == 200
    assert after.json()["total_data"] == before, "half a body must never create a workflow"
