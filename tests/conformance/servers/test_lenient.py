"""The lenient test server does what its brief says, over real HTTP, one probe per behaviour.

The server only proves the docs profile lenient enough if it really takes the lenient side of
each open point, so each test pins one of those answers (exact statuses and bodies).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from ...support.live import serve
from .lenient import MAX_BODY, Clock, instant, make_lenient_app, stamp

JSON = dict[str, Any]
AUTH = {"Authorization": "Bearer good-token"}
INVALID = {"ok": False, "message": "invalid request"}
NOT_FOUND = {"message": "Not Found"}
RFC3339_JAKARTA = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?\+07:00")
Start = Callable[..., AbstractContextManager[tuple[httpx.Client, Starlette]]]


class Plug:
    """One live server for the module; each test plugs a fresh app in (no start and stop each)."""

    def __init__(self) -> None:
        self.app: Starlette = make_lenient_app()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[Plug, str]]:
    plug = Plug()
    with serve(plug) as base:
        yield plug, base


@pytest.fixture
def start(live: tuple[Plug, str]) -> Start:
    """`start(**options)`: a fresh lenient app, and a client with a good token on it."""
    plug, base = live

    @contextmanager
    def running(**options: Any) -> Iterator[tuple[httpx.Client, Starlette]]:
        plug.app = make_lenient_app(**options)
        with httpx.Client(base_url=base, headers=AUTH, verify=False) as client:
            yield client, plug.app
        assert plug.app.state.server.bugs == []  # no request hit the "never a 500" safety net

    return running


def body(response: httpx.Response) -> JSON:
    """The answer without its `request_id`, after checking what every answer carries."""
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    assert response.text.endswith("}\n")  # echo's encoder ends with a newline
    payload: JSON = response.json()
    assert re.fullmatch(r"[1-9][0-9]*", payload.pop("request_id"))
    return payload


def answer(response: httpx.Response) -> tuple[int, JSON]:
    return response.status_code, body(response)


def workflow_body(name: str = "Daily Report", active: bool = True) -> JSON:
    return {
        "name": name,
        "description": "every morning",
        "is_active": active,
        "trigger_node": {"type": "schedule", "config": {"cron": "0 0 7 30 2 *"}},
        "nodes": [
            {"id": "n-export", "type": "event_history_export", "name": "Export", "config": {}},
            {"id": "n-tg", "type": "telegram_send_attachment", "name": "Send", "config": {}},
            {"id": "n-other", "type": "webhook", "name": "Other", "config": {"url": "x"}},
        ],
    }


def create(c: httpx.Client, payload: Any = None, **fields: Any) -> JSON:
    response = c.post("/api/workflows", json={**(payload or workflow_body()), **fields})
    assert response.status_code == 200, response.text
    data: JSON = body(response)["data"]
    return data


def listing(c: httpx.Client, path: str = "/api/workflows", **params: Any) -> JSON:
    response = c.get(path, params=params)
    assert response.status_code == 200, response.text
    return body(response)


def paging(page: JSON) -> tuple[int, int, int, int]:
    return page["limit"], page["current_page"], page["total_data"], page["total_page"]


def anonymous(c: httpx.Client, method: str, path: str) -> httpx.Response:
    """A request with no Authorization header at all."""
    request = c.build_request(method, path)
    del request.headers["Authorization"]
    return c.send(request)


def send_raw(c: httpx.Client, method: str, path: str, content: bytes) -> tuple[int, JSON]:
    return answer(c.request(method, path, content=content))


# -- every answer --------------------------------------------------------------------------------


def test_every_answer_is_echo_json_with_a_request_id_counter(start: Start) -> None:
    with start() as (c, _):
        ids = [c.get(path).json()["request_id"] for path in ("/api/workflows", "/nope", "/x")]
        assert ids == ["1", "2", "3"]
        assert answer(c.get("/nope")) == (404, NOT_FOUND)  # error answers carry it too
        created = create(c, name="<b>&")
        assert created["owner_id"] == "user-qa"
        raw = c.get(f"/api/workflows/{created['id']}").text
        assert '"name":"\\u003cb\\u003e\\u0026"' in raw  # encoding/json's HTML escaping


# -- routing and auth ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/api/workflowsx"),
        ("GET", "/api/workflows/"),
        ("GET", "/api/workflows/a/b"),
        ("PATCH", "/api/workflows"),
        ("DELETE", "/api/workflows"),
        ("POST", "/api/workflows/some-id"),
        ("GET", "/api/workflows/some-id/execute"),
        ("DELETE", "/api/workflows/some-id/logs"),
        ("GET", "/api/workflows/a%0Ab/logs/x"),
    ],
)
def test_unknown_paths_and_methods_are_echo_404s(start: Start, method: str, path: str) -> None:
    with start() as (c, _):
        response = anonymous(c, method, path)  # routing comes before auth
        assert answer(response) == (404, NOT_FOUND)
        assert "allow" not in response.headers


@pytest.mark.parametrize(
    ("header", "status", "message"),
    [
        (None, 400, "missing or malformed jwt"),
        ("good-token", 400, "missing or malformed jwt"),
        ("Basic good-token", 400, "missing or malformed jwt"),
        ("Bearer", 400, "missing or malformed jwt"),
        ("Bearer nope", 401, "invalid or expired jwt"),
        ("Bearer  good-token", 401, "invalid or expired jwt"),
    ],
)
def test_auth_refusals_are_echo_jwt_ones(
    start: Start, header: str | None, status: int, message: str
) -> None:
    with start() as (c, _):
        request = c.build_request("GET", "/api/workflows")
        del request.headers["Authorization"]
        if header is not None:
            request.headers["Authorization"] = header
        assert answer(c.send(request)) == (status, {"message": message})


def test_each_token_acts_as_its_user(start: Start) -> None:
    with start(tokens={"t-alfin": "user-alfin", "t-qa": "user-qa"}) as (c, _):
        alfin = {"Authorization": "bearer t-alfin"}  # the scheme is matched in any case
        response = c.post("/api/workflows", json=workflow_body(), headers=alfin)
        workflow = body(response)["data"]
        assert workflow["owner_id"] == "user-alfin"
        run = body(c.post(f"/api/workflows/{workflow['id']}/execute", headers=alfin))["data"]
        assert run["triggered_by"] == "user-alfin"


def test_every_nth_request_is_rate_limited_before_anything_else(start: Start) -> None:
    with start(rate_limit_every=3, retry_after="7") as (c, app):
        statuses = []
        for i in range(1, 8):
            path = "/nope" if i == 3 else "/api/workflows"
            response = anonymous(c, "GET", path) if i == 6 else c.get(path)  # 429 before auth
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert response.headers["Retry-After"] == "7"
                assert response.json() == {"message": "rate limit exceeded", "request_id": str(i)}
        assert statuses == [200, 200, 429, 200, 200, 429, 200]
        assert [r.status for r in app.state.request_log] == statuses


def test_a_body_over_1_mib_is_413_and_up_to_1_mib_is_fine(start: Start) -> None:
    with start() as (c, _):
        template = b'{"name":"big","x":"%s"}'
        exact = template % (b"a" * (MAX_BODY - len(template) + 2))
        assert len(exact) == MAX_BODY
        assert send_raw(c, "POST", "/api/workflows", exact)[0] == 200
        too_big = {"message": "Request Entity Too Large"}
        assert send_raw(c, "POST", "/api/workflows", exact + b" ") == (413, too_big)


# -- binding bodies as encoding/json does ---------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"{'name': 1}",
        b"[]",
        b'"x"',
        b"null",
        b"5",
        b"{} x",
        b'{"a": NaN}',
        b"\xef\xbb\xbf{}",
    ],
)
def test_malformed_or_non_object_bodies_are_400(start: Start, raw: bytes) -> None:
    with start() as (c, _):
        assert send_raw(c, "POST", "/api/workflows", raw) == (400, INVALID)


@pytest.mark.parametrize(
    "fields",
    [
        {"name": 5},
        {"name": ["x"]},
        {"description": 5},
        {"is_active": "true"},
        {"is_active": 1},
        {"trigger_node": "x"},
        {"trigger_node": {"type": 1}},
        {"trigger_node": {"config": []}},
        {"trigger_node": {"config": "0 0 7 * * *"}},
        {"nodes": "x"},
        {"nodes": {}},
        {"nodes": [5]},
        {"nodes": [{"id": 1}]},
        {"nodes": [{"type": True}]},
        {"nodes": [{"name": {}}]},
        {"nodes": [{"config": "x"}]},
        {"NAME": 5},  # encoding/json matches keys case-insensitively
    ],
)
def test_a_documented_field_of_the_wrong_type_is_400(start: Start, fields: JSON) -> None:
    with start() as (c, app):
        assert answer(c.post("/api/workflows", json={**workflow_body(), **fields})) == (
            400,
            INVALID,
        )
        seeded = create(c)
        put = c.put(f"/api/workflows/{seeded['id']}", json=fields)
        assert answer(put) == (400, INVALID)
        assert app.state.workflows[seeded["id"]]["name"] == "Daily Report"


def test_missing_fields_get_go_zero_values(start: Start) -> None:
    with start() as (c, _):
        created = create(c, {"x": 1})
        assert {k: v for k, v in created.items() if k not in ("id", "created_at")} == {
            "name": "",
            "description": None,
            "is_active": False,
            "trigger_node": {"type": "", "config": None},
            "nodes": [],
            "updated_at": None,
            "owner_id": "user-qa",
        }
        assert create(c, {"name": "x"})["is_active"] is False  # a create without is_active


def test_null_means_absent(start: Start) -> None:
    nulls = dict.fromkeys(("name", "description", "is_active", "trigger_node", "nodes"))
    with start() as (c, _):
        created = create(c, nulls)
        assert (created["name"], created["is_active"], created["nodes"]) == ("", False, [])
        nested = {"trigger_node": {"type": None, "config": None}, "nodes": [None, {"id": None}]}
        got = create(c, nested)
        assert got["trigger_node"] == {"type": "", "config": None}
        zero_node = {"id": "", "type": "", "name": "", "config": None}
        assert got["nodes"] == [zero_node, zero_node]


def test_unknown_fields_are_dropped_and_configs_echoed_exactly(start: Start) -> None:
    config = {"z": 2**70, "a": [1.5, None, {"deep": {"x": True}}], "caption": "— {{prev}}"}
    sent = {
        "name": "N",
        "owner_id": "someone-else",
        "extra": {"k": 1},
        "trigger_node": {"type": "schedule", "config": {"cron": "not a cron"}, "extra": 1},
        "nodes": [{"id": "n", "type": "x", "name": "", "config": config, "extra": 1}],
    }
    with start() as (c, app):
        created = create(c, sent)
        assert "extra" not in created
        assert created["owner_id"] == "user-qa"
        assert created["trigger_node"] == {"type": "schedule", "config": {"cron": "not a cron"}}
        assert created["nodes"] == [{"id": "n", "type": "x", "name": "", "config": config}]
        stored = app.state.workflows[created["id"]]
        assert stored["nodes"][0]["config"]["z"] == 2**70
        assert "extra" not in stored
        got = c.get(f"/api/workflows/{created['id']}")
        assert '"z":1180591620717411303424' in got.text  # the big integer survives exactly
        assert body(got)["data"] == created


def test_keys_match_case_insensitively_and_odd_content_is_accepted(start: Start) -> None:
    sent = {
        "NAME": "",
        "Is_Active": True,
        "nodes": [
            {"ID": "dup", "TYPE": "made_up", "Name": ""},
            {"id": "dup", "type": "", "name": ""},
        ],
    }
    with start() as (c, _):
        created = create(c, sent)
        assert (created["name"], created["is_active"]) == ("", True)
        assert [n["id"] for n in created["nodes"]] == ["dup", "dup"]
        assert created["nodes"][0]["type"] == "made_up"


def test_odd_json_never_answers_a_5xx(start: Start) -> None:
    deep = b'{"nodes":[{"config":{"a":' + b"[" * 5000 + b"]" * 5000 + b"}}]}"
    with start() as (c, _):
        for raw in (b'{"name":"\\ud800"}', b'{"name":"\xff"}'):  # as Go: U+FFFD
            assert send_raw(c, "POST", "/api/workflows", raw)[1]["data"]["name"] == "\ufffd"
        assert send_raw(c, "POST", "/api/workflows", deep) == (400, INVALID)
        huge = b'{"nodes":[{"config":{"a":1e400}}]}'
        assert send_raw(c, "POST", "/api/workflows", huge) == (400, INVALID)


# -- create, get, timestamps ---------------------------------------------------------------------


def test_create_answers_200_with_the_stored_workflow(start: Start) -> None:
    with start() as (c, app):
        response = c.post("/api/workflows", json=workflow_body())
        assert response.status_code == 200
        payload = body(response)
        assert (payload["ok"], payload["message"]) == (True, "Workflow created")
        data = payload["data"]
        assert uuid.UUID(data["id"]).version == 4
        assert data["updated_at"] is None
        assert {k: data[k] for k in workflow_body()} == workflow_body()
        assert app.state.workflows[data["id"]] == data


def test_get_answers_success_and_unknown_ids_are_400(start: Start) -> None:
    with start() as (c, _):
        created = create(c)
        got = c.get(f"/api/workflows/{created['id']}")
        assert answer(got) == (200, {"ok": True, "message": "Success", "data": created})
        not_found = (400, {"ok": False, "message": "workflow not found"})
        missing = "/api/workflows/no-such-id"
        assert answer(c.get(missing)) == not_found
        assert answer(c.put(missing, json={"name": "x"})) == not_found
        assert answer(c.delete(missing)) == not_found
        assert answer(c.post(f"{missing}/execute")) == not_found


def test_timestamps_are_rfc3339nano_in_jakarta_and_strictly_increase(start: Start) -> None:
    with start() as (c, _):
        stamps = [create(c)["created_at"] for _ in range(5)]
        workflow_id = create(c)["id"]
        stamps.append(body(c.put(f"/api/workflows/{workflow_id}", json={}))["data"]["updated_at"])
        stamps.append(body(c.post(f"/api/workflows/{workflow_id}/execute"))["data"]["started_at"])
    for text in stamps:
        assert RFC3339_JAKARTA.fullmatch(text), text
    instants = [instant(text) for text in stamps]
    assert instants == sorted(set(instants))


def test_stamps_trim_zeros_like_go_and_the_clock_never_repeats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert stamp(1_748_761_200_123_456_789) == "2025-06-01T14:00:00.123456789+07:00"
    assert stamp(1_748_761_200_120_000_000) == "2025-06-01T14:00:00.12+07:00"
    assert stamp(1_748_761_200_000_000_000) == "2025-06-01T14:00:00+07:00"
    assert instant("2025-06-01T07:00:00.12Z") == 1_748_761_200_120_000_000
    monkeypatch.setattr(time, "time_ns", lambda: 1_000)  # a clock that stands still
    clock = Clock()
    assert [clock.now() for _ in range(3)] == [1_000, 1_001, 1_002]


def test_seeds_are_stored_as_given(start: Start) -> None:
    seed = {"id": "wf-uuid-001", "name": "Seeded", "is_active": True, "nodes": []}
    with start(seed=[seed]) as (c, app):
        stored = app.state.workflows["wf-uuid-001"]
        assert stored == {**seed, "created_at": stored["created_at"], "updated_at": None}
        assert RFC3339_JAKARTA.fullmatch(stored["created_at"])
        got = body(c.get("/api/workflows/wf-uuid-001"))["data"]
        assert got == {**stored, "owner_id": ""}


# -- list ----------------------------------------------------------------------------------------


def test_list_is_newest_first_with_case_insensitive_search(start: Start) -> None:
    with start() as (c, _):
        for name in ("Daily Report", "Weekly AUDIT", "Monthly Summary"):
            create(c, name=name)
        page = listing(c)
        assert (page["ok"], page["message"]) == (True, "Success")
        assert [w["name"] for w in page["data"]] == [
            "Monthly Summary",
            "Weekly AUDIT",
            "Daily Report",
        ]
        assert paging(page) == (10, 1, 3, 1)
        assert [w["name"] for w in listing(c, search="audit")["data"]] == ["Weekly AUDIT"]
        assert [w["name"] for w in listing(c, search="LY")["data"]] == [
            "Monthly Summary",
            "Weekly AUDIT",
            "Daily Report",
        ]
        assert paging(listing(c, search="")) == (10, 1, 3, 1)
        assert paging(listing(c, search="zzz")) == (10, 1, 0, 1)  # total_page 1 when empty


@pytest.mark.parametrize(
    "bad", ["0", "-1", "abc", "1.5", "", " 2", "2 ", "١", "99999999999999999999"]
)
def test_bad_page_and_limit_fall_back_to_defaults(start: Start, bad: str) -> None:
    with start() as (c, _):
        create(c)
        assert paging(listing(c, page=bad, limit=bad)) == (10, 1, 1, 1)


def test_paging_has_no_cap_and_pages_past_the_end_are_empty(start: Start) -> None:
    with start() as (c, _):
        names = [f"w{i}" for i in range(5)]
        for name in names:
            create(c, name=name)
        second = listing(c, page=2, limit=2)
        assert ([w["name"] for w in second["data"]], paging(second)) == (["w2", "w1"], (2, 2, 5, 3))
        assert paging(listing(c, limit=1000)) == (1000, 1, 5, 1)
        assert listing(c, page=9)["data"] == []
        assert paging(listing(c, page="+2", limit="02")) == (2, 2, 5, 3)  # strconv.Atoi's forms


# -- update and delete ---------------------------------------------------------------------------


def test_put_merges_the_fields_sent(start: Start) -> None:
    with start() as (c, app):
        created = create(c)
        response = c.put(f"/api/workflows/{created['id']}", json={"name": "Renamed", "nodes": None})
        payload = body(response)
        assert (response.status_code, payload["ok"], payload["message"]) == (
            200,
            True,
            "Workflow updated",
        )
        updated = payload["data"]
        assert updated == {**created, "name": "Renamed", "updated_at": updated["updated_at"]}
        assert instant(updated["updated_at"]) > instant(created["created_at"])
        assert app.state.workflows[created["id"]] == updated
        off = body(c.put(f"/api/workflows/{created['id']}", json={"is_active": False}))["data"]
        assert (off["is_active"], off["name"]) == (False, "Renamed")


def test_delete_removes_the_workflow_but_not_its_runs(start: Start) -> None:
    with start() as (c, app):
        created = create(c)
        workflow_id = created["id"]
        c.post(f"/api/workflows/{workflow_id}/execute")
        deleted = c.delete(f"/api/workflows/{workflow_id}")
        assert answer(deleted) == (200, {"ok": True, "message": "Workflow deleted"})
        assert c.get(f"/api/workflows/{workflow_id}").status_code == 400
        assert listing(c)["data"] == []
        assert len(app.state.executions[workflow_id]) == 1
        assert listing(c, f"/api/workflows/{workflow_id}/logs")["total_data"] == 1


# -- execute and logs ----------------------------------------------------------------------------


def test_an_inactive_workflow_is_not_executed(start: Start) -> None:
    with start() as (c, app):
        inactive = create(c, {"name": "no is_active"})
        response = c.post(f"/api/workflows/{inactive['id']}/execute")
        assert answer(response) == (400, {"ok": False, "message": "workflow is not active"})
        assert app.state.executions == {}


def test_execute_answers_a_running_run_that_the_logs_show_finished(start: Start) -> None:
    with start() as (c, app):
        workflow = create(c)
        path = f"/api/workflows/{workflow['id']}"
        response = c.post(f"{path}/execute")
        payload = body(response)
        assert (response.status_code, payload["message"]) == (200, "Workflow execution started")
        run = payload["data"]
        assert uuid.UUID(run["id"]).version == 4
        assert run == {
            "id": run["id"],
            "workflow_id": workflow["id"],
            "trigger_type": "manual",
            "status": "running",
            "started_at": run["started_at"],
            "finished_at": None,
            "node_results": [],
            "error": None,
            "triggered_by": "user-qa",
            "duration_ms": None,
        }
        assert app.state.executions[workflow["id"]] == [run]  # stored, still running
        time.sleep(0.35)
        logs = listing(c, f"{path}/logs")
        assert (logs["ok"], logs["message"], paging(logs)) == (True, "Success", (10, 1, 1, 1))
        done = logs["data"][0]
        check_finished(done, run)
        assert app.state.executions[workflow["id"]] == [done]


def check_finished(done: JSON, running: JSON) -> None:
    """The run finished 0.3 s after it started, its nodes one after another inside that time."""
    assert done == {
        **running,
        "status": "success",
        "finished_at": done["finished_at"],
        "node_results": done["node_results"],
        "duration_ms": 300,
    }
    assert instant(done["finished_at"]) - instant(done["started_at"]) == 300_000_000
    results = done["node_results"]
    assert [(r["node_id"], r["node_type"], r["node_name"]) for r in results] == [
        ("n-export", "event_history_export", "Export"),
        ("n-tg", "telegram_send_attachment", "Send"),
        ("n-other", "webhook", "Other"),
    ]
    assert {(r["status"], r["error"]) for r in results} == {("success", None)}
    assert results[0]["output"] == {
        "file_url": "/exports/n-export.csv",
        "date": results[0]["started_at"][:10],
    }
    assert results[1]["output"] == {"message_id": 1}
    assert results[2]["output"] == {}
    times = [done["started_at"]]
    times += [t for r in results for t in (r["started_at"], r["finished_at"])]
    times.append(done["finished_at"])
    instants = [instant(t) for t in times]
    assert instants == sorted(set(instants))


def test_logs_are_oldest_first_and_paged(start: Start) -> None:
    with start() as (c, app):
        workflow_id = create(c)["id"]
        runs = [body(c.post(f"/api/workflows/{workflow_id}/execute"))["data"] for _ in range(3)]
        logs = listing(c, f"/api/workflows/{workflow_id}/logs")
        assert [r["id"] for r in logs["data"]] == [r["id"] for r in runs]
        second = listing(c, f"/api/workflows/{workflow_id}/logs", page=2, limit=2)
        assert ([r["id"] for r in second["data"]], paging(second)) == (
            [runs[2]["id"]],
            (2, 2, 3, 2),
        )
        assert paging(listing(c, f"/api/workflows/{workflow_id}/logs", limit="x")) == (10, 1, 3, 1)
        assert len(app.state.request_log) == 7


def test_logs_of_an_unknown_workflow_are_an_empty_page(start: Start) -> None:
    with start() as (c, _):
        page = listing(c, "/api/workflows/no-such-id/logs")
        assert page == {
            "ok": True,
            "message": "Success",
            "data": [],
            "limit": 10,
            "current_page": 1,
            "total_data": 0,
            "total_page": 1,
        }


def test_the_request_log_records_each_request(start: Start) -> None:
    with start() as (c, app):
        c.post("/api/workflows", json={"name": "x"}, params={"dry": "1"})
        anonymous(c, "GET", "/api/workflows")
        c.post("/api/workflows", content=b"{")
        log = app.state.request_log
        assert [(r.method, r.path, r.query, r.body, r.authorization, r.status) for r in log] == [
            ("POST", "/api/workflows", {"dry": "1"}, {"name": "x"}, True, 200),
            ("GET", "/api/workflows", {}, None, False, 400),
            ("POST", "/api/workflows", {}, None, True, 400),
        ]


def test_list_order_is_by_instant_then_id_not_by_text(start: Start) -> None:
    seed = [
        {"id": "wf-a", "name": "a", "created_at": "2025-01-15T00:00:00Z"},
        {"id": "wf-b", "name": "b", "created_at": "2025-01-15T00:00:00.1Z"},  # sorts first as text
        {"id": "wf-c", "name": "c", "created_at": "2025-01-15T07:00:00+07:00"},  # = wf-a's instant
    ]
    with start(seed=seed) as (c, _):
        newest = create(c)["id"]
        assert [w["id"] for w in listing(c)["data"]] == [newest, "wf-b", "wf-c", "wf-a"]


def test_odd_seeds_are_served_and_a_bug_still_answers_json(start: Start) -> None:
    odd = {"id": "odd", "name": 5, "is_active": True, "nodes": "x", "created_at": 7}
    broken = {"id": "broken", "name": "b", "created_at": "2025-01-15T00:00:00Z", "x": {1}}
    with start(seed=[odd, broken]) as (c, app):
        run = body(c.post("/api/workflows/odd/execute"))["data"]
        assert run["workflow_id"] == "odd"
        assert listing(c, search="5")["total_data"] == 1
        assert answer(c.get("/api/workflows/broken")) == (400, INVALID)  # a set is not JSON
        assert len(app.state.server.bugs) == 1
        app.state.server.bugs.clear()
