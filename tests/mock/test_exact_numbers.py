"""Numbers a workflow holds survive the round trip exactly, in memory and in SQLite.

The JSON text is the source of truth (`spec/jsontext.py`): an integer beyond 64 bits comes back
as that integer, not as a float; a decimal a double cannot hold comes back as it was written;
every other number comes back with its value. Node configs in requests are typed by node type
(the contract closes the list of types, docs/contract-decisions.md), so a free-form config with
numbers comes in where a deployment's data does: the state import, which takes any node type.
The strictness stays: what is not strict JSON is a located 400, never a 500.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from ..conftest import load_fixture
from .conftest import AUTH, JSON_AUTH, AppFactory

pytestmark = pytest.mark.anyio

BIG = 1180591620717411303424  # 2**70: orjson reads it as 1.1805916207174113e+21
LONG = "0.1000000000000000055511151231257827"  # a double holds 0.1
NUMBERS = {
    "n": str(BIG),
    "neg": str(-(2**80)),
    "x": LONG,
    "tiny": "1e-400",  # a double holds 0.0
    "many": "123456789012345678901234567890.5",
    "plain": "0.5",
}


WID = "wf-numbers"


def body_with(numbers: dict[str, str]) -> bytes:
    """The docs' create body plus a free-form node whose config holds `numbers` verbatim."""
    body: dict[str, Any] = copy.deepcopy(load_fixture("docs/createWorkflow.request.json"))
    body["nodes"].append({"id": "n", "type": "custom", "name": "c", "config": "@CONFIG"})
    return json.dumps(body).replace('"@CONFIG"', config_text(numbers)).encode()


def state_with(numbers: dict[str, str], *others: dict[str, str]) -> bytes:
    """A state to import: the docs' workflow as `WID` plus a node of a type the docs do not
    show whose config holds `numbers` verbatim (and one more workflow per `others`)."""
    workflows = []
    for index, _ in enumerate((numbers, *others)):
        workflow = copy.deepcopy(load_fixture("docs/getWorkflow.response.json")["data"])
        workflow.update(id=WID if index == 0 else f"{WID}-{index}", name=f"Numbers {index}")
        workflow["nodes"].append(
            {"id": "n", "type": "custom", "name": "c", "config": f"@CONFIG{index}"}
        )
        workflows.append(workflow)
    text = json.dumps({"workflows": workflows})
    for index, chosen in enumerate((numbers, *others)):
        text = text.replace(f'"@CONFIG{index}"', config_text(chosen))
    return text.encode()


def config_text(numbers: dict[str, str]) -> str:
    return "{" + ", ".join(f'"{k}": {v}' for k, v in numbers.items()) + "}"


async def imported(c: httpx.AsyncClient, state: bytes) -> None:
    answer = await c.put("/__mock/state", content=state, headers=JSON_AUTH)
    assert answer.status_code == 200, answer.text[:300]


def exact(text: str) -> Any:
    """A JSON answer with its numbers as Decimals and ints (no float in between)."""
    return json.loads(text, parse_float=Decimal)


def assert_config(workflow: dict[str, Any], numbers: dict[str, str]) -> None:
    config = workflow["nodes"][-1]["config"]
    assert config == {k: exact(v) for k, v in numbers.items()}
    assert config["n" if "n" in numbers else "big"] in (BIG, 2**90)


async def test_get_list_runs_and_export_keep_every_number(
    each_store_client: httpx.AsyncClient,
) -> None:
    c = each_store_client
    refused = await c.post("/api/workflows", content=body_with(NUMBERS), headers=JSON_AUTH)
    assert refused.status_code == 400  # a node type the contract does not list
    assert [e["path"] for e in refused.json()["errors"]] == ["body.nodes[2].type"]

    await imported(c, state_with(NUMBERS))
    got = await c.get(f"/api/workflows/{WID}", headers=AUTH)
    assert got.status_code == 200, got.text
    assert f'"n":{BIG}' in got.text and f'"x":{LONG}' in got.text
    assert '"tiny":1e-400' in got.text
    workflow = exact(got.text)["data"]
    assert_config(workflow, NUMBERS)
    listed = await c.get("/api/workflows", params={"search": workflow["name"]}, headers=AUTH)
    assert_config(next(w for w in exact(listed.text)["data"] if w["id"] == WID), NUMBERS)

    replaced = {"big": str(2**90), "x": "-" + LONG, "e": "2.5E-330"}
    await imported(c, state_with(replaced))
    again = await c.get(f"/api/workflows/{WID}", headers=AUTH)
    assert_config(exact(again.text)["data"], replaced)
    assert '"e":2.5E-330' in again.text  # as written: a double holds 2.5e-330 only roughly

    # A run of the workflow, its log and the export carry the workflow as stored.
    assert (await c.post(f"/api/workflows/{WID}/execute", headers=AUTH)).status_code == 200
    assert (await c.get(f"/api/workflows/{WID}/logs", headers=AUTH)).status_code == 200
    state = await c.get("/__mock/state")
    assert f'"big":{2**90}' in state.text and f'"x":-{LONG}' in state.text


async def test_the_sqlite_file_keeps_them_across_a_restart(
    make_app: AppFactory, tmp_path: Path
) -> None:
    path = tmp_path / "state.sqlite"
    first = make_app(state_path=path)
    async with client_of(first) as c:
        await imported(c, state_with(NUMBERS, {"n": "5"}))
    first.state.mock.store.close()
    with closing(sqlite3.connect(path)) as db:  # only the row that needs it is marked
        rows = dict(db.execute("SELECT id, body FROM workflows").fetchall())
    assert rows[WID].startswith(b" {") and rows[f"{WID}-1"].startswith(b"{")
    second = make_app(state_path=path)
    async with client_of(second) as c:
        got = await c.get(f"/api/workflows/{WID}", headers=AUTH)
    second.state.mock.store.close()
    assert got.status_code == 200
    assert_config(exact(got.text)["data"], NUMBERS)


async def test_an_exported_state_imports_back_exactly(each_store_client: httpx.AsyncClient) -> None:
    c = each_store_client
    await imported(c, state_with(NUMBERS))
    exported = (await c.get("/__mock/state")).content
    assert (await c.post("/__mock/reset", json={"seed": False})).status_code == 200
    assert (await c.get(f"/api/workflows/{WID}", headers=AUTH)).status_code == 404
    await imported(c, exported)
    got = await c.get(f"/api/workflows/{WID}", headers=AUTH)
    assert_config(exact(got.text)["data"], NUMBERS)


async def test_an_exact_number_where_a_string_belongs_is_a_400(
    each_store_client: httpx.AsyncClient,
) -> None:
    """The schema judges an `ExactNumber` as its float: a located 400, not a crash."""
    body = json.dumps(load_fixture("docs/createWorkflow.request.json")).replace(
        '"name": "Kirim Laporan ke Telegram"', f'"name": {LONG}'
    )
    answer = await each_store_client.post("/api/workflows", content=body, headers=JSON_AUTH)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["path"] == "body.nodes[1].name"
    state = copy.deepcopy(load_fixture("docs/getWorkflow.response.json")["data"])
    snapshot = json.dumps({"workflows": [{**state, "name": "@"}]}).replace('"@"', LONG)
    imported = await each_store_client.put("/__mock/state", content=snapshot, headers=JSON_AUTH)
    assert imported.status_code == 400
    assert imported.json()["errors"][0]["path"].endswith(".name")


DEEP = b"[" * 1000 + b"]" * 1000
REFUSED = [
    b"{",
    b'{"name": NaN}',
    b'{"name": Infinity}',
    b'{"name": "\\ud800"}',
    b'{"name": "\xff\xfe"}',
    b"[" * 1025 + b"]" * 1025,
    b'{"n": 1e400}',
]


@pytest.mark.parametrize("raw", REFUSED, ids=lambda raw: repr(raw)[:30])
async def test_what_is_not_strict_json_is_still_a_located_400(
    each_store_client: httpx.AsyncClient, raw: bytes
) -> None:
    for method, path in (("POST", "/api/workflows"), ("PUT", "/api/workflows/wf-uuid-001")):
        answer = await each_store_client.request(method, path, content=raw, headers=JSON_AUTH)
        assert answer.status_code == 400, answer.text
        assert [e["path"] for e in answer.json()["errors"]] == ["body"]


async def test_deep_documents_are_answered_not_500(each_store_client: httpx.AsyncClient) -> None:
    """1,000 levels in a free-form config: stored, answered and read back (orjson writes 254
    levels at most; the slow writer takes the rest). Deep and invalid: a 400."""
    c = each_store_client
    await imported(c, state_with({"deep": DEEP.decode(), "n": str(BIG)}))
    got = await c.get(f"/api/workflows/{WID}", headers=AUTH)
    assert got.status_code == 200 and DEEP in got.content and str(BIG).encode() in got.content
    broken = body_with({}).replace(b'"cron": "0 0 7 * * *"', b'"cron": "0 0 7 * * *", "x": ' + DEEP)
    refused = await c.post("/api/workflows", content=broken, headers=JSON_AUTH)
    assert refused.status_code == 400 and refused.json()["errors"][0]["path"].startswith("body")


def client_of(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock.test")
