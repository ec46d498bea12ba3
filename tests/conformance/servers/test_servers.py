"""The test servers are what they say: the correct one is correct, each variation varies its rule.

A conformance check proven to fail against a broken server (or to pass a legitimate variation)
only means something if that server behaves the way it claims and correctly otherwise. So: the
correct server (and each harmless variation) runs the whole journey over real HTTP with every
answer validated against the strict contract, and for each variation a probe shows the correct
server's behaviour and the varied one's.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from lenz_contract.spec import Spec, View

from ...conftest import load_fixture
from ...support.live import serve
from . import BREAKS, HARMLESS, STRICT_ONLY, make_app

JSON = dict[str, Any]
AUTH = {"Authorization": "Bearer good-token"}
SEED_ID = "wf-uuid-001"
ERROR_SCHEMA = "#/components/schemas/ErrorEnvelope"
JSON_MEDIA = "application/json"
NO_JWT, BAD_JWT = "missing or malformed jwt", "invalid or expired jwt"  # echo-jwt's messages
NODES = ["node-export", "node-telegram"]
RunState = tuple[str, bool, list[str]]  # status, finished_at is null, node ids of the results
DONE: RunState = ("success", False, NODES)
RUNNING: RunState = ("running", True, [])
STUCK: RunState = ("running", True, NODES)
Start = Callable[..., AbstractContextManager[tuple[httpx.Client, Starlette]]]


# -- clients ------------------------------------------------------------------------------------


def conforms_to(spec: Spec) -> Callable[[httpx.Response], None]:
    """A response hook: every answer is JSON and valid against the strict contract."""

    def check(response: httpx.Response) -> None:
        response.read()
        assert response.headers["content-type"].startswith("application/json"), response.text
        body = response.json()
        op, _, _ = spec.match(response.request.method, response.request.url.path)
        found = op.response_for(response.status_code) if op else None
        pointer = found.schema_pointer if found else ERROR_SCHEMA
        assert pointer is not None
        assert spec.validator(pointer, view=View.STRICT).errors(body) == [], body
        if found is not None and found.message is not None:
            assert body["message"] == found.message

    return check


class WaitOn429(httpx.HTTPTransport):
    """Retry a 429 (the test server does not enforce Retry-After, so the wait is short)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(3):
            response = super().handle_request(request)
            if response.status_code != 429:
                return response
            assert response.headers["Retry-After"] == "1"
            response.read()
            time.sleep(0.01)
        return response


class Plug:
    """One live server for the module; each test plugs a fresh app in (no start and stop each)."""

    def __init__(self) -> None:
        self.app: Starlette = make_app()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[Plug, str]]:
    plug = Plug()
    with serve(plug) as base:
        yield plug, base


@pytest.fixture
def start(spec: Spec, live: tuple[Plug, str]) -> Start:
    """`start(breaks, seed=…)`: a fresh server app, and a client (auth, strict checks) on it."""
    plug, base = live

    @contextmanager
    def running(
        breaks: tuple[str, ...] = (),
        *,
        seed: list[JSON] | None = None,
        validate: bool = True,
        retry: bool = False,
    ) -> Iterator[tuple[httpx.Client, Starlette]]:
        plug.app = make_app(breaks=breaks, seed=seed)
        hooks = {"response": [conforms_to(spec)]} if validate else {}
        transport = WaitOn429(verify=False) if retry else None
        # verify=False: plain HTTP on loopback, and it spares building a TLS context per client
        client = httpx.Client(
            base_url=base, headers=AUTH, event_hooks=hooks, transport=transport, verify=False
        )
        with client:
            yield client, plug.app

    return running


def workflow_body(name: str = "Daily Report", cron: str = "0 0 7 * * *") -> JSON:
    body: JSON = load_fixture("docs/createWorkflow.request.json")
    body["name"] = name
    body["trigger_node"]["config"]["cron"] = cron
    return body


def create(c: httpx.Client, name: str = "Daily Report") -> JSON:
    response = c.post("/api/workflows", json=workflow_body(name))
    assert response.status_code in (200, 201), response.text
    data: JSON = response.json()["data"]
    return data


def listing(c: httpx.Client, path: str = "/api/workflows", **params: Any) -> JSON:
    response = c.get(path, params=params)
    assert response.status_code == 200, response.text
    body: JSON = response.json()
    return body


def names(page: JSON) -> list[str]:
    return [item["name"] for item in page["data"]]


def paging(page: JSON) -> tuple[int, int, int, int]:
    return page["limit"], page["current_page"], page["total_data"], page["total_page"]


def without_auth(c: httpx.Client, header: str | None) -> int:
    request = c.build_request("GET", "/api/workflows")
    del request.headers["Authorization"]
    if header is not None:
        request.headers["Authorization"] = header
    return c.send(request).status_code


# -- the correct server --------------------------------------------------------------------------


def journey(c: httpx.Client, app: Starlette) -> None:
    """Create → list/search/paging → update → execute → logs → delete → 404, checked strictly."""
    answer = c.post("/api/workflows", json=workflow_body("Daily Report"))
    assert answer.status_code == 201
    daily = answer.json()["data"]
    create(c, "Weekly AUDIT")
    create(c, "Monthly Summary")
    assert daily["updated_at"] is None
    assert daily["nodes"] == workflow_body()["nodes"]
    assert c.get(f"/api/workflows/{daily['id']}").json()["data"] == daily

    everything = listing(c)
    seeded = "Laporan Harian Face Recognition"
    assert names(everything) == [seeded, "Daily Report", "Weekly AUDIT", "Monthly Summary"]
    assert paging(everything) == (10, 1, 4, 1)
    assert names(listing(c, search="audit")) == ["Weekly AUDIT"]
    assert names(listing(c, search="REPORT")) == ["Daily Report"]
    assert paging(listing(c, search="")) == (10, 1, 4, 1)
    assert paging(listing(c, search="zzz")) == (10, 1, 0, 0)
    second = listing(c, page=2, limit=3)
    assert (names(second), paging(second)) == (["Monthly Summary"], (3, 2, 4, 2))
    assert listing(c, page=9)["data"] == []
    assert listing(c, limit=1000)["limit"] == 100

    change: JSON = load_fixture("docs/updateWorkflow.request.json")
    change["nodes"].append(workflow_body()["nodes"][1])  # two nodes: their order shows
    updated = c.put(f"/api/workflows/{daily['id']}", json=change).json()["data"]
    assert {k: updated[k] for k in change} == change
    assert updated["created_at"] == daily["created_at"] < (updated["updated_at"] or "")
    again = c.put(f"/api/workflows/{daily['id']}", json=change).json()["data"]
    assert again["updated_at"] > updated["updated_at"]
    assert c.get(f"/api/workflows/{daily['id']}").json()["data"] == again

    first = c.post(f"/api/workflows/{daily['id']}/execute").json()["data"]
    latest = c.post(f"/api/workflows/{daily['id']}/execute").json()["data"]
    assert (first["status"], first["trigger_type"], first["triggered_by"]) == (
        "success",
        "manual",
        "user-qa",
    )
    assert [r["node_id"] for r in first["node_results"]] == [n["id"] for n in change["nodes"]]
    assert first["started_at"] < (first["finished_at"] or "")
    logs = listing(c, f"/api/workflows/{daily['id']}/logs")
    assert ([run["id"] for run in logs["data"]], paging(logs)) == (
        [latest["id"], first["id"]],
        (10, 1, 2, 1),
    )
    assert listing(c, f"/api/workflows/{daily['id']}/logs", page=2, limit=1)["data"] == [first]

    assert c.delete(f"/api/workflows/{daily['id']}").status_code == 200
    for method, suffix in [("GET", ""), ("PUT", ""), ("DELETE", ""), ("POST", "/execute")]:
        gone = c.request(method, f"/api/workflows/{daily['id']}{suffix}", json=change)
        assert (gone.status_code, gone.json()["ok"]) == (404, False)
    assert c.get(f"/api/workflows/{daily['id']}/logs").status_code == 404
    assert daily["id"] not in [w["id"] for w in listing(c)["data"]]
    writes = [r for r in app.state.request_log if SEED_ID in r.path and r.method != "GET"]
    assert writes == []


def test_the_correct_server_passes_the_journey(start: Start) -> None:
    with start(seed=load_fixture("seed/workflows.json")) as (c, app):
        journey(c, app)
        assert SEED_ID in app.state.workflows
        assert all(r.authorization for r in app.state.request_log)


@pytest.mark.parametrize("variation", [*sorted(HARMLESS), "extra_fields+rate_limited+slow"])
def test_harmless_variations_pass_the_journey(start: Start, variation: str) -> None:
    breaks = tuple(variation.split("+"))
    with start(breaks, seed=load_fixture("seed/workflows.json"), retry=True) as (c, app):
        journey(c, app)


def test_the_correct_server_refuses_what_the_contract_refuses(start: Start) -> None:
    with start() as (c, app):
        assert [without_auth(c, h) for h in (None, "Bearer garbage", "Basic Zm9v")] == [401] * 3
        bad_json = c.post(
            "/api/workflows", content=b'{"name": ', headers={"content-type": "application/json"}
        )
        assert bad_json.status_code == 400
        nameless = workflow_body()
        del nameless["name"]
        assert c.post("/api/workflows", json=nameless).json()["errors"][0]["path"] == "body"
        assert c.post("/api/workflows", json={**workflow_body(), "name": 7}).status_code == 400
        bad_cron = c.post("/api/workflows", json=workflow_body(cron="0 7 * * *"))
        assert bad_cron.json()["errors"][0]["path"] == "body.trigger_node.config.cron"
        for query in ({"page": "0"}, {"limit": "abc"}, {"page": "-1"}, {"limit": "1.5"}):
            refused = c.get("/api/workflows", params=query)
            assert refused.json()["errors"][0]["path"] == f"query.{next(iter(query))}"
        assert c.get("/api/nothing").status_code == 404
        not_allowed = c.patch("/api/workflows")
        assert (not_allowed.status_code, not_allowed.headers["Allow"]) == (405, "GET, POST")
        assert app.state.workflows == {}
        assert app.state.request_log[-1].method == "PATCH"


def test_unknown_break_names_are_refused() -> None:
    with pytest.raises(ValueError, match="search_fuzzy"):
        make_app(breaks=["search_fuzzy"])


# -- each break, shown by a probe ----------------------------------------------------------------


def probe_shape(c: httpx.Client) -> object:
    made = create(c)
    return ["created_at" in w for w in (made, listing(c)["data"][0])]


def probe_bad_json(c: httpx.Client) -> object:
    response = c.post(
        "/api/workflows", content=b"{bad", headers={"content-type": "application/json"}
    )
    return response.status_code, response.headers["content-type"].split(";")[0]


def probe_content_types(c: httpx.Client) -> object:
    answers = [c.get("/api/workflows"), c.get("/api/workflows/wf-missing")]
    return [a.headers["content-type"].split(";")[0] for a in answers]


def probe_auth(c: httpx.Client) -> object:
    return [without_auth(c, header) for header in (None, "Bearer garbage", "Basic Zm9v")]


def probe_search(c: httpx.Client) -> object:
    create(c, "Daily Report")
    return [listing(c, search=s)["total_data"] for s in ("daily", "Report", "Daily Report")]


def probe_paging(c: httpx.Client) -> object:
    for name in "ABC":
        create(c, name)
    page = listing(c, page=2, limit=2)
    return names(page), paging(page)


def probe_update(c: httpx.Client) -> object:
    made = create(c, "Before")
    put = c.put(f"/api/workflows/{made['id']}", json=workflow_body("After")).json()["data"]
    stored = c.get(f"/api/workflows/{made['id']}").json()["data"]
    moved = put["updated_at"] is not None and put["updated_at"] > made["created_at"]
    return put["name"], stored["name"], moved, put["created_at"] == made["created_at"]


def probe_delete(c: httpx.Client) -> object:
    made = create(c)
    deleted = c.delete(f"/api/workflows/{made['id']}").status_code
    after = c.get(f"/api/workflows/{made['id']}").status_code
    return deleted, after, made["id"] in [w["id"] for w in listing(c)["data"]]


def probe_execute(c: httpx.Client) -> object:
    made = create(c)
    first = c.post(f"/api/workflows/{made['id']}/execute").json()["data"]
    second = c.post(f"/api/workflows/{made['id']}/execute").json()["data"]
    order = {first["id"]: "first", second["id"]: "second"}
    logs = [order[run["id"]] for run in listing(c, f"/api/workflows/{made['id']}/logs")["data"]]
    nodes = [r["node_id"] for r in first["node_results"]]
    return first["status"], first["finished_at"] is None, nodes, logs


def probe_unknown_id(c: httpx.Client) -> object:
    calls = [("GET", ""), ("PUT", ""), ("DELETE", ""), ("POST", "/execute"), ("GET", "/logs")]
    path = "/api/workflows/wf-missing"
    return [c.request(m, path + s, json=workflow_body()).status_code for m, s in calls]


def probe_inputs(c: httpx.Client) -> object:
    nameless = workflow_body()
    del nameless["name"]
    bodies = [nameless, workflow_body(cron="every day"), workflow_body()]
    return [c.post("/api/workflows", json=body).status_code for body in bodies]


def probe_config(c: httpx.Client) -> object:
    made = create(c)
    return c.get(f"/api/workflows/{made['id']}").json()["data"]["nodes"] == workflow_body()["nodes"]


def probe_empty(c: httpx.Client) -> object:
    return paging(listing(c))[2:]


def probe_extra(c: httpx.Client) -> object:
    made = c.post("/api/workflows", json=workflow_body()).json()
    refused = c.get("/api/workflows/wf-missing").json()
    return "owner" in made["data"], "request_id" in made, "request_id" in refused


def probe_rate(c: httpx.Client) -> object:
    answers = [c.get("/api/workflows") for _ in range(8)]
    return [a.status_code for a in answers], answers[6].headers.get("Retry-After")


def probe_slow(c: httpx.Client) -> object:
    return (
        min(c.get("/api/workflows").elapsed.total_seconds() for _ in range(3)) >= 0.015
    )  # the loop may wake a hair early


def refusal(c: httpx.Client, header: str | None) -> tuple[int, object, object, str]:
    request = c.build_request("GET", "/api/workflows")
    del request.headers["Authorization"]
    if header is not None:
        request.headers["Authorization"] = header
    response = c.send(request)
    body = response.json()
    media = response.headers["content-type"].split(";")[0]
    return response.status_code, body.get("ok"), body.get("message"), media


def probe_auth_refusals(c: httpx.Client) -> object:
    return [refusal(c, header) for header in (None, "Bearer garbage", "Basic Zm9v", "Bearer")]


def probe_wrong_method(c: httpx.Client) -> object:
    answers = [c.patch("/api/workflows"), c.post("/api/workflows/wf-missing/logs")]
    return [(a.status_code, a.headers.get("Allow"), a.json()["ok"]) for a in answers]


def probe_bad_query(c: httpx.Client) -> object:
    seen = []
    for path in ("/api/workflows", f"/api/workflows/{create(c)['id']}/logs"):
        for query in ({"page": "0"}, {"limit": "abc"}, {"page": "-1"}, {"limit": "1.5"}):
            body = c.get(path, params=query).json()
            seen.append((body["ok"], body.get("limit"), body.get("current_page")))
    return seen


def probe_limit_cap(c: httpx.Client) -> object:
    return [listing(c, limit=limit)["limit"] for limit in (1000, 60, 20)]


def probe_list_order(c: httpx.Client) -> object:
    for name in "ABC":
        create(c, name)
    return names(listing(c)), names(listing(c, page=2, limit=2))


def probe_timestamps(c: httpx.Client) -> object:
    made = create(c)
    put = c.put(f"/api/workflows/{made['id']}", json=workflow_body()).json()["data"]
    run = c.post(f"/api/workflows/{made['id']}/execute").json()["data"]
    nodes = [stamp for r in run["node_results"] for stamp in (r["started_at"], r["finished_at"])]
    stamps = [made["created_at"], put["updated_at"], run["started_at"], *nodes, run["finished_at"]]
    instants = [datetime.fromisoformat(stamp) for stamp in stamps]
    return stamps[0], stamps[-1], all(a < b for a, b in pairwise(instants))


def probe_description(c: httpx.Client) -> object:
    """What a workflow answers as `description` (`absent`: no key) after each write."""
    bare = workflow_body()
    sent = bare.pop("description")

    def seen(workflow: JSON) -> object:
        found = workflow.get("description", "absent")
        return "sent" if found == sent else found

    made = c.post("/api/workflows", json=bare).json()["data"]
    read = c.get(f"/api/workflows/{made['id']}").json()["data"]
    full = create(c)
    path = f"/api/workflows/{full['id']}"
    changed = c.put(path, json={**workflow_body(), "description": "Changed"}).json()["data"]
    dropped = c.put(path, json=bare).json()["data"]
    listed = {w["id"]: w for w in listing(c)["data"]}[full["id"]]
    return [seen(w) for w in (made, read, full, changed, dropped, listed)]


def probe_messages(c: httpx.Client) -> object:
    made = c.post("/api/workflows", json=workflow_body())
    path = f"/api/workflows/{made.json()['data']['id']}"
    answers = [
        c.get("/api/workflows"),
        made,
        c.get(path),
        c.put(path, json=workflow_body()),
        c.post(f"{path}/execute"),
        c.get(f"{path}/logs"),
        c.delete(path),
        c.get(path),
    ]
    return [a.json()["message"] for a in answers]


def probe_content_type_parameters(c: httpx.Client) -> object:
    paths = ["/api/workflows", "/api/workflows/wf-missing", "/api/nothing", "/api/workflows/a%0Ab"]
    return [c.get(path).headers["content-type"] for path in paths]


def probe_partial_put(c: httpx.Client) -> object:
    made = create(c)
    path = f"/api/workflows/{made['id']}"
    put = c.put(path, json={"name": "Renamed", "is_active": False})
    stored = c.get(path).json()["data"]
    kept = all(stored[k] == made[k] for k in ("description", "trigger_node", "nodes"))
    return put.status_code, stored["name"], stored["is_active"], kept


def probe_unknown_logs(c: httpx.Client) -> object:
    answer = c.get("/api/workflows/wf-missing/logs", params={"page": 2, "limit": 5})
    body = answer.json()
    return answer.status_code, body.get("data"), paging(body) if body["ok"] else None


def probe_run_progress(c: httpx.Client) -> object:
    """A run as execute answers it, then as three logs reads show the runs (a second run is
    started after the first read, so each run counts its own reads)."""
    made = create(c)
    path = f"/api/workflows/{made['id']}"

    def state(run: JSON) -> RunState:
        return (
            run["status"],
            run["finished_at"] is None,
            [r["node_id"] for r in run["node_results"]],
        )

    def read() -> list[RunState]:
        return [state(run) for run in listing(c, f"{path}/logs")["data"]]

    answered = state(c.post(f"{path}/execute").json()["data"])
    first = read()
    c.post(f"{path}/execute")
    return answered, first, read(), read()


def probe_inactive(c: httpx.Client) -> object:
    made = c.post("/api/workflows", json={**workflow_body(), "is_active": False}).json()["data"]
    path = f"/api/workflows/{made['id']}"
    read = c.get(path).json()["data"]["is_active"]
    run = c.post(f"{path}/execute")
    runs = listing(c, f"{path}/logs")["total_data"]
    active = c.post(f"/api/workflows/{create(c)['id']}/execute").status_code
    return made["is_active"], read, (run.status_code, run.json()["message"]), runs, active


def probe_loose_bodies(c: httpx.Client) -> object:
    good = workflow_body()
    bodies: list[object] = [
        {},  # accepted by loose validation from here…
        {**good, "name": ""},
        {**good, "name": None, "description": None, "is_active": None},
        {**good, "owner": "user-x"},
        workflow_body(cron="every day"),
        {**good, "nodes": [{"id": "n", "type": "webhook_call", "name": "n"}]},
        {**good, "nodes": [good["nodes"][0], good["nodes"][0]]},  # duplicate ids: both accept
        [],  # … refused by both from here
        {**good, "name": 5},
        {**good, "is_active": "yes"},
        {**good, "nodes": [1]},
        {**good, "trigger_node": {"type": 1, "config": {}}},
    ]
    answers = [c.post("/api/workflows", json=body) for body in bodies]
    empty, extra = (answers[i].json().get("data") or {} for i in (0, 3))
    fields = ("name", "description", "is_active", "trigger_node", "nodes")
    stored = {k: empty[k] for k in fields} if empty else None
    return [a.status_code for a in answers], stored, "owner" in extra


def probe_name_type(c: httpx.Client) -> object:
    five = c.post("/api/workflows", json={**workflow_body(), "name": 5})
    stored = c.get(f"/api/workflows/{five.json()['data']['id']}") if five.is_success else None
    other = c.post("/api/workflows", json={**workflow_body(), "is_active": "yes"})
    return five.status_code, stored and stored.json()["data"]["name"], other.status_code


def probe_logs_paging(c: httpx.Client) -> object:
    """Page 2 (limit 2) of A's logs, with three runs of A and a later one of B."""
    a, b = create(c, "A"), create(c, "B")
    label = {}
    for made, runs in ((a, ("a1", "a2", "a3")), (b, ("b1",))):
        for name in runs:
            label[c.post(f"/api/workflows/{made['id']}/execute").json()["data"]["id"]] = name
    page = listing(c, f"/api/workflows/{a['id']}/logs", page=2, limit=2)
    return [label[run["id"]] for run in page["data"]], paging(page)


def probe_trigger(c: httpx.Client) -> object:
    made = create(c)
    run = c.post(f"/api/workflows/{made['id']}/execute").json()["data"]
    logged = listing(c, f"/api/workflows/{made['id']}/logs")["data"][0]
    return [(r["trigger_type"], r["triggered_by"]) for r in (run, logged)]


@dataclass(frozen=True)
class Probe:
    """What `observe` sees on the correct server, and on a server with each break."""

    observe: Callable[[httpx.Client], object]
    correct: object
    broken: dict[str, object]


PROBES = [
    Probe(probe_shape, [True, True], {"wrong_shape": [False, False]}),
    Probe(
        probe_bad_json, (400, "application/json"), {"server_error_on_bad_json": (500, "text/plain")}
    ),
    Probe(
        probe_content_types,
        ["application/json"] * 2,
        {"wrong_content_type": ["text/plain", "application/json"]},
    ),
    Probe(probe_auth, [401] * 3, {"auth_ignored": [200] * 3}),
    Probe(probe_search, [1, 1, 1], {"search_case_sensitive": [0, 1, 1], "search_exact": [0, 0, 1]}),
    Probe(
        probe_paging,
        (["C"], (2, 2, 3, 2)),
        {
            "total_page_rounded_down": (["C"], (2, 2, 3, 1)),
            "page_ignored": (["A", "B"], (2, 2, 3, 2)),
            "limit_ignored": ([], (2, 2, 3, 2)),  # 10 a page: page 2 is past the end
            "current_page_wrong": (["C"], (2, 1, 3, 2)),
        },
    ),
    Probe(
        probe_update,
        ("After", "After", True, True),
        {
            "update_not_persisted": ("After", "Before", True, True),
            "updated_at_not_moved": ("After", "After", False, True),
            "created_at_changes": ("After", "After", True, False),
        },
    ),
    Probe(
        probe_delete,
        (200, 404, False),
        {"delete_not_deleting": (200, 200, True), "deleted_still_listed": (200, 404, True)},
    ),
    Probe(
        probe_execute,
        ("success", False, ["node-export", "node-telegram"], ["second", "first"]),
        {
            "execution_missing_from_logs": ("success", False, ["node-export", "node-telegram"], []),
            "node_results_out_of_order": (
                "success",
                False,
                ["node-telegram", "node-export"],
                ["second", "first"],
            ),
            "execute_not_finished": (
                "running",
                True,
                ["node-export", "node-telegram"],
                ["second", "first"],
            ),
            "logs_oldest_first": (
                "success",
                False,
                ["node-export", "node-telegram"],
                ["first", "second"],
            ),
        },
    ),
    Probe(probe_unknown_id, [404] * 5, {"unknown_id_500": [500] * 5, "unknown_id_400": [400] * 5}),
    Probe(
        probe_inputs,
        [400, 400, 201],
        {
            "bad_input_accepted": [201, 400, 201],
            "cron_not_validated": [400, 201, 201],
            "create_answers_200": [400, 400, 200],
        },
    ),
    Probe(probe_config, True, {"config_not_round_tripped": False}),
    Probe(probe_empty, (0, 0), {"empty_total_page_one": (0, 1)}),
    Probe(probe_extra, (False, False, False), {"extra_fields": (True, True, True)}),
    Probe(probe_rate, ([200] * 8, None), {"rate_limited": ([200] * 6 + [429, 200], "1")}),
    Probe(probe_slow, False, {"slow": True}),
    Probe(
        probe_auth_refusals,
        [(401, False, "invalid request", JSON_MEDIA)] * 4,
        {
            "auth_403": [(403, False, "invalid request", JSON_MEDIA)] * 4,
            "auth_bare": [(401, None, BAD_JWT, JSON_MEDIA)] * 4,
            "auth_missing_400": [
                (400, None, NO_JWT, JSON_MEDIA),
                (401, None, BAD_JWT, JSON_MEDIA),
                (400, None, NO_JWT, JSON_MEDIA),
                (400, None, NO_JWT, JSON_MEDIA),
            ],
        },
    ),
    Probe(
        probe_wrong_method,
        [(405, "GET, POST", False), (405, "GET", False)],
        {"wrong_method_404": [(404, None, False)] * 2},
    ),
    Probe(probe_bad_query, [(False, None, None)] * 8, {"query_fallback": [(True, 10, 1)] * 8}),
    Probe(
        probe_limit_cap,
        [100, 60, 20],
        {"limit_uncapped": [1000, 60, 20], "limit_cap_50": [50, 50, 20]},
    ),
    Probe(
        probe_list_order,
        (["A", "B", "C"], ["C"]),
        {"list_newest_first": (["C", "B", "A"], ["A"])},
    ),
    Probe(
        probe_timestamps,
        ("2025-06-01T00:00:01Z", "2025-06-01T00:00:08Z", True),
        {
            "timestamps_offset": (
                "2025-06-01T07:00:01.250+07:00",
                "2025-06-01T07:00:10.000+07:00",
                True,
            )
        },
    ),
    Probe(
        probe_description,
        ["", "", "sent", "Changed", "", ""],
        {
            "description_null": [None, None, "sent", "Changed", None, None],
            "description_absent": ["absent", "absent", "sent", "Changed", "absent", "absent"],
            "description_not_stored": [""] * 6,
        },
    ),
    Probe(
        probe_messages,
        [
            "success",
            "workflow created successfully",
            "success",
            "workflow updated successfully",
            "workflow executed successfully",
            "success",
            "workflow deleted successfully",
            "invalid request",
        ],
        {"messages_changed": ["OK"] * 7 + ["invalid request"]},
    ),
    Probe(
        probe_content_type_parameters,
        [JSON_MEDIA] * 4,
        {"json_charset": ["application/json; charset=utf-8"] * 4},
    ),
    Probe(
        probe_partial_put,
        (400, "Daily Report", True, True),
        {"put_merge": (200, "Renamed", False, True)},
    ),
    Probe(
        probe_unknown_logs,
        (404, None, None),
        {"logs_unknown_empty": (200, [], (5, 2, 0, 0))},
    ),
    Probe(
        probe_run_progress,
        (DONE, [DONE], [DONE, DONE], [DONE, DONE]),
        {
            "execute_async": (RUNNING, [RUNNING], [RUNNING, DONE], [DONE, DONE]),
            "execute_not_finished": (STUCK, [STUCK], [STUCK, STUCK], [STUCK, STUCK]),
        },
    ),
    Probe(
        probe_inactive,
        (False, False, (200, "workflow executed successfully"), 1, 200),
        {
            "created_active": (True, True, (200, "workflow executed successfully"), 1, 200),
            "execute_refuses_inactive": (False, False, (400, "workflow is inactive"), 0, 200),
        },
    ),
    Probe(
        probe_loose_bodies,
        ([400] * 6 + [201] + [400] * 5, None, False),
        {
            "loose_validation": (
                [201] * 7 + [400] * 5,
                {
                    "name": "",
                    "description": "",
                    "is_active": True,
                    "trigger_node": {"type": "schedule", "config": {}},
                    "nodes": [],
                },
                False,
            )
        },
    ),
    Probe(probe_name_type, (400, None, 400), {"wrong_type_accepted": (201, "5", 400)}),
    Probe(
        probe_logs_paging,
        (["a1"], (2, 2, 3, 2)),
        {
            "logs_page_ignored": (["a3", "a2"], (2, 2, 3, 2)),
            "logs_total_page_rounded_down": (["a1"], (2, 2, 3, 1)),
            "logs_foreign_entries": (["a2", "a1"], (2, 2, 4, 2)),
        },
    ),
    Probe(
        probe_trigger,
        [("manual", "user-qa")] * 2,
        {"manual_run_as_schedule": [("schedule", "scheduler")] * 2},
    ),
]
BY_BREAK: dict[str, list[Probe]] = {}
for _probe in PROBES:
    for _name in _probe.broken:
        BY_BREAK.setdefault(_name, []).append(_probe)

# Legitimate variations whose answers leave the strict contract (a shape, an enum, a message),
# so their probes run without the strict check of every answer; the others keep it.
OUTSIDE_STRICT = frozenset(
    {
        "auth_bare",
        "auth_missing_400",
        "messages_changed",
        "execute_async",
        "timestamps_offset",
    }
)


def test_every_break_has_a_probe_and_a_verdict() -> None:
    assert sorted(BY_BREAK) == sorted(BREAKS)
    assert BREAKS.keys() >= HARMLESS | STRICT_ONLY
    assert not HARMLESS & STRICT_ONLY
    assert OUTSIDE_STRICT <= HARMLESS | STRICT_ONLY


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.observe.__name__)
def test_the_correct_server_shows_the_correct_behaviour(start: Start, probe: Probe) -> None:
    with start() as (c, _):
        assert probe.observe(c) == probe.correct


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_each_break_shows_its_broken_behaviour(start: Start, name: str) -> None:
    validate = name in (HARMLESS | STRICT_ONLY) - OUTSIDE_STRICT
    for probe in BY_BREAK[name]:
        assert probe.broken[name] != probe.correct
        with start((name,), validate=validate) as (c, _):
            assert probe.observe(c) == probe.broken[name], probe.observe.__name__


def test_the_request_log_records_writes_to_seeded_workflows(start: Start) -> None:
    seed: list[JSON] = load_fixture("seed/workflows.json")
    with start(seed=copy.deepcopy(seed)) as (c, app):
        c.put(f"/api/workflows/{SEED_ID}", json=workflow_body())
        c.post(f"/api/workflows/{SEED_ID}/execute")
        writes = [(r.method, r.status) for r in app.state.request_log if SEED_ID in r.path]
        assert writes == [("PUT", 200), ("POST", 200)]
        assert app.state.request_log[0].body == workflow_body()
        assert app.state.workflows[SEED_ID]["created_at"] == seed[0]["created_at"]
