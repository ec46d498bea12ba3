"""The guard on its own: what it lets through, what it rewrites, what it refuses, what it learns."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from lenz_contract.conformance import Profile, RunContext, RunOptions, Target
from lenz_contract.conformance.guard import (
    EXCHANGE_EXTENSION,
    GUARD_HEADER,
    Guard,
    GuardRefused,
    GuardTransport,
    never_fires,
    retry_after,
)
from lenz_contract.spec import Spec

CREATE = "/api/workflows"


SPEC = Spec.load()


def guard(**options: object) -> Guard:
    ctx = RunContext(
        Target.http("https://lenz.example/base"),
        "secret-token",
        RunOptions(**options),  # type: ignore[arg-type]
        spec=SPEC,
    )
    ctx.run_id = "run1"
    return Guard(ctx)


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_reads_pass_untouched() -> None:
    g = guard()
    for method in ("GET", "HEAD", "OPTIONS"):
        decision = g.vet(method, "/api/workflows/wf-foreign", b"")
        assert decision.raw_path == "/api/workflows/wf-foreign" and not decision.notes


def test_a_create_is_named_after_the_run_and_inactive() -> None:
    decision = guard().vet("POST", CREATE, body(name="Daily", is_active=True, nodes=[]))
    sent = json.loads(decision.body)
    assert sent["name"] == "lenz-contract-run1-Daily" and sent["is_active"] is False
    missing = json.loads(guard().vet("POST", CREATE, body(name="x")).body)
    assert missing["is_active"] is False  # the server's default is true


@pytest.mark.parametrize(
    "payload",
    [
        body(name="", is_active=False),  # empty name: negative data, left alone
        body(name=42, is_active="true"),  # wrong types: negative data, left alone
        b'{"name": "broken',  # not JSON
        b"[1, 2]",  # not an object
        body(name="lenz-contract-run1-already", is_active=False),
    ],
)
def test_negative_data_is_left_intact(payload: bytes) -> None:
    assert guard().vet("POST", CREATE, payload).body == payload


def test_writes_reach_only_ids_this_run_created() -> None:
    g = guard(allow_execute=True)
    g.observe("POST", CREATE, 201, json.dumps({"ok": True, "data": {"id": "wf-mine"}}).encode())
    for method, path in (
        ("PUT", "/api/workflows/wf-foreign"),
        ("DELETE", "/api/workflows/wf-foreign"),
        ("POST", "/api/workflows/wf-foreign/execute"),
        ("PATCH", "/api/workflows/wf%2Dforeign"),
    ):
        decision = g.vet(method, path, b"{}")
        assert decision.raw_path.startswith("/api/workflows/lenz-contract-run1-absent"), path
        assert "not created by this run" in decision.notes[0]
    assert g.vet("DELETE", "/api/workflows/wf-mine", b"").raw_path == "/api/workflows/wf-mine"
    assert g.vet("POST", "/api/workflows/wf-mine/execute", b"").raw_path.endswith("wf-mine/execute")
    update = json.loads(g.vet("PUT", "/api/workflows/wf-mine", body(name="n", is_active=True)).body)
    assert update == {"name": "lenz-contract-run1-n", "is_active": False}


def test_execute_needs_permission_even_on_own_ids() -> None:
    g = guard()
    g.adopt("wf-mine")
    decision = g.vet("POST", "/api/workflows/wf-mine/execute", b"")
    assert "absent" in decision.raw_path and "execution is not allowed" in decision.notes[0]


def test_read_only_sends_get_only() -> None:
    g = guard(read_only=True)
    assert g.vet("GET", "/api/workflows", b"").raw_path == "/api/workflows"
    for method in ("POST", "PUT", "DELETE", "HEAD"):
        with pytest.raises(GuardRefused):
            g.vet(method, "/api/workflows", b"{}")
    assert g.refusals == 4


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/workflows"),
        ("PUT", "/api/workflows"),
        ("POST", "/admin/reset"),
        ("POST", "/"),
    ],
)
def test_writes_it_cannot_place_are_refused(method: str, path: str) -> None:
    with pytest.raises(GuardRefused):
        guard().vet(method, path, b"")


def test_only_successful_creates_are_adopted() -> None:
    g = guard()
    g.observe("POST", CREATE, 400, body(ok=False))
    g.observe("GET", CREATE, 200, json.dumps({"data": {"id": "listed"}}).encode())
    g.observe("POST", CREATE, 200, json.dumps({"data": {"id": "wf-1"}}).encode())
    g.observe("POST", CREATE, 201, b"not json")
    assert g.owned == ["wf-1"] and g.unparsed_creates == 1


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after("3") == 3.0 and retry_after("0.5") == 0.5
    assert retry_after(None) is None and retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < (retry_after(later) or 0) <= 30


def _transport(
    handler: Callable[[httpx.Request], httpx.Response], **options: object
) -> tuple[GuardTransport, list[float]]:
    slept: list[float] = []
    g = guard(**options)
    transport = GuardTransport(
        httpx.MockTransport(handler), g, base_path="/base", sleep=slept.append
    )
    return transport, slept


def test_429_is_waited_out_and_the_exchange_is_logged_redacted() -> None:
    answers = iter([429, 429, 201])
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = next(answers)
        if status == 429:
            return httpx.Response(
                429, headers={"Retry-After": "2"}, json={"ok": False, "message": "slow"}
            )
        return httpx.Response(201, json={"ok": True, "data": {"id": "wf-9"}})

    transport, slept = _transport(handler)
    with httpx.Client(transport=transport, base_url="https://lenz.example/base") as client:
        response = client.post(
            "/api/workflows",
            json={"name": "x", "is_active": True},
            headers={"Authorization": "Bearer secret-token"},
        )
    assert response.status_code == 201 and slept == [2.0, 2.0] and transport.rate_limit_waits == 2
    assert json.loads(seen[-1].content) == {"name": "lenz-contract-run1-x", "is_active": False}
    assert seen[-1].url.path == "/base/api/workflows"
    exchange = response.extensions[EXCHANGE_EXTENSION]
    assert ("authorization", "Bearer $LENZ_TOKEN") in exchange.request_headers
    assert (
        "secret-token" not in exchange.curl()
        and '"Authorization: Bearer $LENZ_TOKEN"' in exchange.curl()
    )
    assert response.headers[GUARD_HEADER].startswith("is_active set to false")
    assert transport.guard.owned == ["wf-9"]


def test_rate_limit_spaces_requests() -> None:
    transport, slept = _transport(lambda request: httpx.Response(200, json={}), rate_limit=4.0)
    with httpx.Client(transport=transport, base_url="https://lenz.example/base") as client:
        for _ in range(3):
            client.get("/api/workflows")
    # a fake clock that does not move: the second and third request wait one and two slots
    assert len(slept) == 2 and slept[0] == pytest.approx(0.25, abs=0.05)
    assert slept[1] == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize(
    ("cron", "never"),
    [
        ("0 0 0 30 2 *", True),
        ("0 0 0 31 FEB ?", True),
        ("5 4 3 31 4 *", True),  # 31 April
        ("0 0 0 31 11 *", True),
        ("0 0 0 29 2 *", False),  # leap years have it
        ("0 0 0 30 2 MON", False),  # a restricted weekday fires on its own in most crons
        ("0 0 0 30 */2 *", False),
        ("0 0 0 30-31 2 *", False),
        ("0 0 7 * * *", False),
        ("0 0 0 30 2", False),  # five fields: another grammar
        ("0 0 0 30 2 * 2030", False),
        ("0 0 0 30 2 *\n", False),
    ],
)
def test_never_fires_admits_only_days_that_do_not_exist(cron: str, never: bool) -> None:
    assert never_fires(cron) is never


def test_a_dormant_create_may_stay_active_only_with_a_cron_that_never_fires() -> None:
    g = guard()
    dormant = {"type": "schedule", "config": {"cron": "0 0 0 30 2 *"}}
    daily = {"type": "schedule", "config": {"cron": "0 0 7 * * *"}}
    name = "lenz-contract-run1-active"
    kept = g.vet(
        "POST", CREATE, body(name=name, is_active=True, trigger_node=dormant), dormant=True
    )
    assert kept.dormant and json.loads(kept.body)["is_active"] is True
    for trigger, flag, named in ((daily, True, name), (dormant, False, name), (dormant, True, "x")):
        decision = g.vet(
            "POST", CREATE, body(name=named, is_active=True, trigger_node=trigger), dormant=flag
        )
        assert not decision.dormant and json.loads(decision.body)["is_active"] is False


def test_null_is_active_goes_as_false_in_the_docs_profile_only() -> None:
    docs = json.loads(guard().vet("POST", CREATE, body(name="x", is_active=None)).body)
    assert docs["is_active"] is False
    strict = guard(profile=Profile.STRICT).vet("POST", CREATE, body(name="x", is_active=None))
    assert json.loads(strict.body)["is_active"] is None  # negative data there


def test_a_workflow_of_the_run_answered_active_is_switched_off_at_once() -> None:
    stored: dict[str, dict[str, object]] = {}
    sent: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((request.method, request.url.path))
        if request.method == "POST":
            stored["wf-1"] = {"id": "wf-1", **json.loads(request.content), "is_active": True}
        elif request.method == "PUT":
            stored["wf-1"] = {"id": "wf-1", **json.loads(request.content)}
        return httpx.Response(201, json={"ok": True, "data": stored["wf-1"]})

    transport, _ = _transport(handler)
    with httpx.Client(transport=transport, base_url="https://lenz.example/base") as client:
        client.post("/api/workflows", json={"name": "x", "is_active": False})
    assert sent == [("POST", "/base/api/workflows"), ("PUT", "/base/api/workflows/wf-1")]
    assert stored["wf-1"]["is_active"] is False
    [event] = transport.guard.safety_events
    assert event.workflow_id == "wf-1" and event.action.startswith("switched off")


def test_a_workflow_that_stays_active_after_the_put_is_deleted() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        if request.method == "DELETE":
            return httpx.Response(200, json={"ok": True, "message": "deleted"})
        return httpx.Response(200, json={"ok": True, "data": {"id": "wf-2", "is_active": True}})

    transport, _ = _transport(handler)
    with httpx.Client(transport=transport, base_url="https://lenz.example/base") as client:
        client.post("/api/workflows", json={"name": "x"})
    assert sent == ["POST", "PUT", "DELETE"]
    assert transport.guard.safety_events[0].action.startswith("deleted")
    phases = [e.phase for e in transport.exchanges]
    assert phases == ["semantic", "safety", "safety"]


def test_the_hand_written_fence_matches_the_spec() -> None:
    """The guard's fence is written by hand on purpose (a safety fence must not move when a
    spec does); the spec must still fit inside it."""
    from lenz_contract.conformance.guard import COLLECTION, SAFE_METHODS

    collection = "/" + "/".join(COLLECTION)
    for op in SPEC.operations.values():
        segments = op.path.split("/")
        assert op.path.startswith(collection), op
        if op.method not in SAFE_METHODS:
            # writes are a create on the collection, or on one workflow: `{id}` right after it
            assert op.path == collection or segments[3] == "{id}", op
        if "{id}" in op.path:
            assert segments.index("{id}") == len(COLLECTION) + 1, op
    assert [op.method for op in SPEC.operations.values() if op.path == collection] == [
        "GET",
        "POST",
    ]
