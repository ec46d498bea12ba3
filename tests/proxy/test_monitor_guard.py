"""The monitor never costs the client its answer, and a request is checked even when the
upstream fails to answer it."""

from __future__ import annotations

import logging

import httpx
import pytest

from lenz_contract.proxy.monitor import Monitor

from ..support.live import free_port
from .conftest import AUTH, ProxyFactory, issues
from .raw_upstream import RawConnection, RawUpstream
from .upstreams import WORKFLOW, Upstream

MISSING_ID = "/api/workflows/missing-id"  # the broken upstream leaves out `data.id`


def explode(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom")


def test_a_verdict_with_no_violation_to_show_passes_the_answer_through(
    proxy: ProxyFactory, broken: tuple[str, Upstream], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast verdict has findings but `observe` returns none (it failed and said so): the
    client gets the upstream's answer, not an IndexError."""
    url, _ = broken
    monkeypatch.setattr(Monitor, "observe", lambda self, *args: [])
    with proxy(url, fail_on_violation=True, reference="off") as p:
        answer = p.client.get(MISSING_ID, headers=AUTH)
    assert answer.status_code == 200
    assert answer.json()["data"]["name"] == WORKFLOW["name"]
    assert "id" not in answer.json()["data"]


@pytest.mark.parametrize("fail_on_violation", [False, True])
@pytest.mark.parametrize("broken_part", ["route", "observe"])
def test_a_monitor_that_raises_never_costs_the_client_its_answer(
    proxy: ProxyFactory,
    broken: tuple[str, Upstream],
    monkeypatch: pytest.MonkeyPatch,
    broken_part: str,
    fail_on_violation: bool,
) -> None:
    url, _ = broken
    monkeypatch.setattr(Monitor, broken_part, explode)
    with proxy(url, fail_on_violation=fail_on_violation, reference="off") as p:
        answer = p.client.get(MISSING_ID, headers=AUTH)
        assert answer.status_code == 200
        assert answer.json()["data"]["name"] == WORKFLOW["name"]
        assert p.client.get("/api/workflows/ok", headers=AUTH).status_code == 200
    assert (
        f"PROXY ERROR while checking GET {MISSING_ID}: RuntimeError: boom" in p.console.getvalue()
    )


def test_when_the_monitors_own_error_path_fails_logging_has_it(
    proxy: ProxyFactory,
    broken: tuple[str, Upstream],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, _ = broken
    for name in ("observe", "internal_error", "upstream_error"):
        monkeypatch.setattr(Monitor, name, explode)
    dead = f"http://127.0.0.1:{free_port()}"
    with caplog.at_level(logging.ERROR, logger="lenz_contract.proxy.forward"):
        with proxy(url, fail_on_violation=True, reference="off") as p:
            answered = p.client.get(MISSING_ID, headers=AUTH)
        with proxy(dead, reference="off") as p:
            unreachable = p.client.get("/api/workflows", headers=AUTH)
    assert answered.status_code == 200
    assert unreachable.status_code == 502
    assert unreachable.json()["message"].startswith("upstream unreachable: connection refused")
    messages = [record.getMessage() for record in caplog.records]
    assert f"the monitor failed on GET {MISSING_ID}" in messages
    assert any(m.startswith("the monitor failed to note an upstream error: ") for m in messages)


# -- the upstream fails: the request's own violations are still reported -------------------------
def test_bad_requests_are_reported_when_the_upstream_is_down(proxy: ProxyFactory) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with proxy(dead, reference="off") as p:
        listed = p.client.get("/api/workflows", params={"limit": 0}, headers=AUTH)
        created = p.client.post(
            "/api/workflows",
            content=b"name=x",
            headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
        )
        report = p.flush()
    assert listed.status_code == created.status_code == 502
    assert sorted(issues(report)) == [
        ("createWorkflow", "request", "header.Content-Type", 1),
        ("listWorkflows", "request", "query.limit", 1),
    ]
    assert report["totals"]["upstream_errors"] == 2
    assert report["totals"]["exchanges"] == 2


def test_a_bad_request_is_reported_when_the_upstream_times_out(
    proxy: ProxyFactory, broken: tuple[str, Upstream]
) -> None:
    url, _ = broken
    with proxy(url, timeout=0.3, reference="off") as p:
        answer = p.client.get("/api/workflows/slow")  # no token
        report = p.flush()
    assert answer.status_code == 504
    assert issues(report) == [("getWorkflow", "request", "header.Authorization", 1)]
    assert report["totals"]["upstream_errors"] == 1


@pytest.mark.parametrize("fail_on_violation", [False, True])
def test_a_bad_request_is_reported_when_the_upstream_breaks_off_its_answer(
    proxy: ProxyFactory, fail_on_violation: bool
) -> None:
    def truncated(conn: RawConnection) -> None:
        if conn.read_request() is not None:
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b'{"ok": tru')
        conn.close()

    with (
        RawUpstream(truncated) as up,
        proxy(up.url, fail_on_violation=fail_on_violation, reference="off") as p,
    ):
        if fail_on_violation:
            answer = p.client.get("/api/workflows", params={"limit": 0}, headers=AUTH)
            assert answer.status_code == 502
            assert answer.json()["message"].startswith("upstream broke off its answer: ")
        else:  # the status went out already: the client sees the answer break off
            with pytest.raises(httpx.RemoteProtocolError):
                p.client.get("/api/workflows", params={"limit": 0}, headers=AUTH)
        report = p.flush()
    assert issues(report) == [("listWorkflows", "request", "query.limit", 1)]
    assert report["totals"]["upstream_errors"] == 1
