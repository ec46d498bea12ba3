"""Many clients writing at once over real HTTP: nothing acknowledged is lost, doubled or stale.

Risk covered: a race between concurrent requests (one uvicorn event loop with the memory store,
or two uvicorn worker processes sharing one SQLite file) loses a write that was answered 2xx,
stores one twice, keeps an older update, hands out the same id twice, miscounts `total_data`,
or drops an execution from a workflow's logs. Each client owns its workflows, so "the last
acknowledged update" is well defined; the clients run at the same time against one server.
`tests/mock/test_live.py` covers 50 parallel creates; this covers the mix and the workers.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from lenz_contract.mock import create_app

from ..support.live import serve
from ..support.processes import MOCK_AUTH as AUTH
from ..support.processes import cli_process
from .conftest import CREATE

CLIENTS = 20
STEPS = 20  # per client: 400 writes in all, plus the checks afterwards
TIMEOUT = httpx.Timeout(30.0)


@dataclass
class Owned:
    """What one client was told about one of its workflows (the 2xx answers only)."""

    body: dict[str, Any]
    executions: list[str] = field(default_factory=list)


@dataclass
class Ledger:
    """Every acknowledged write of every client."""

    created: list[str] = field(default_factory=list)
    alive: dict[str, Owned] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    writes: int = 0


def workflow_body(client: int, serial: int, version: int) -> dict[str, Any]:
    return {
        **CREATE,
        "name": f"conc {client} {serial} v{version}",
        "description": f"client {client}, workflow {serial}, version {version}",
        "is_active": version % 2 == 0,
    }


async def one_client(base_url: str, client: int, ledger: Ledger) -> None:
    """A seeded random mix of create, update, delete and execute on this client's workflows."""
    rng = random.Random(client)
    mine: list[str] = []
    versions: dict[str, int] = {}
    serial = 0
    async with httpx.AsyncClient(base_url=base_url, headers=AUTH, timeout=TIMEOUT) as http:
        for _ in range(STEPS):
            action = (
                "create"
                if len(mine) < 2
                else rng.choice(["create", "update", "update", "execute", "execute", "delete"])
            )
            if action == "create":
                serial += 1
                body = workflow_body(client, serial, 0)
                answer = await http.post("/api/workflows", json=body)
                assert answer.status_code == 201, answer.text
                workflow_id = answer.json()["data"]["id"]
                ledger.created.append(workflow_id)
                ledger.alive[workflow_id] = Owned(body)
                mine.append(workflow_id)
                versions[workflow_id] = 0
            elif action == "update":
                workflow_id = rng.choice(mine)
                versions[workflow_id] += 1
                body = workflow_body(client, serial, versions[workflow_id])
                answer = await http.put(f"/api/workflows/{workflow_id}", json=body)
                assert answer.status_code == 200, answer.text
                ledger.alive[workflow_id].body = body
            elif action == "execute":
                workflow_id = rng.choice(mine)
                answer = await http.post(f"/api/workflows/{workflow_id}/execute")
                assert answer.status_code == 200, answer.text
                ledger.alive[workflow_id].executions.append(answer.json()["data"]["id"])
            else:
                workflow_id = mine.pop(rng.randrange(len(mine)))
                answer = await http.delete(f"/api/workflows/{workflow_id}")
                assert answer.status_code == 200, answer.text
                del ledger.alive[workflow_id]
                ledger.deleted.add(workflow_id)
            ledger.writes += 1


async def hammer(base_url: str) -> Ledger:
    ledger = Ledger()
    await asyncio.gather(*(one_client(base_url, c, ledger) for c in range(CLIENTS)))
    return ledger


def read_all(http: httpx.Client, path: str) -> tuple[list[dict[str, Any]], int]:
    """Every item of a paged list (limit 100), and the `total_data` the first page claimed."""
    items: list[dict[str, Any]] = []
    first = http.get(path, params={"limit": 100, "page": 1}).json()
    items += first["data"]
    for page in range(2, first["total_page"] + 1):
        items += http.get(path, params={"limit": 100, "page": page}).json()["data"]
    return items, first["total_data"]


def verify(base_url: str, ledger: Ledger) -> None:
    """Compare the server's state with the acknowledged writes, over a fresh connection."""
    assert ledger.writes == CLIENTS * STEPS
    assert len(set(ledger.created)) == len(ledger.created), "an id was handed out twice"
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=TIMEOUT) as http:
        listed, total = read_all(http, "/api/workflows")
        ids = [w["id"] for w in listed]
        assert len(ids) == len(set(ids)), "a workflow is listed twice"
        assert set(ids) == set(ledger.alive), (
            f"lost: {set(ledger.alive) - set(ids)}; resurrected or unknown: "
            f"{set(ids) - set(ledger.alive)}"
        )
        assert total == len(ledger.alive)
        by_id = {w["id"]: w for w in listed}
        for workflow_id, owned in ledger.alive.items():
            stored = http.get(f"/api/workflows/{workflow_id}").json()["data"]
            for key in ("name", "description", "is_active"):
                assert stored[key] == owned.body[key] == by_id[workflow_id][key], workflow_id
            runs, runs_total = read_all(http, f"/api/workflows/{workflow_id}/logs")
            assert sorted(r["id"] for r in runs) == sorted(owned.executions), workflow_id
            assert runs_total == len(owned.executions)
        for workflow_id in ledger.deleted:
            assert http.get(f"/api/workflows/{workflow_id}").status_code == 404


def test_concurrent_clients_on_one_uvicorn_with_the_memory_store() -> None:
    """One event loop, one in-memory store, 20 clients interleaving their writes."""
    app = create_app(seed=False, scheduler=False, self_check=True)
    with serve(app) as base_url:
        ledger = asyncio.run(hammer(base_url))
        verify(base_url, ledger)
    assert ledger.deleted and any(o.executions for o in ledger.alive.values())
    assert not app.state.mock.failures, app.state.mock.failures


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    state = tmp_path / "state.sqlite"
    with cli_process(
        "mock", "--state", str(state), "--workers", "2", "--no-seed", workdir=tmp_path
    ) as mock:
        yield mock.base_url
        assert "Traceback" not in mock.output(), mock.output()


@pytest.mark.slow
def test_concurrent_clients_on_two_workers_sharing_a_state_file(two_workers: str) -> None:
    """Two processes, one SQLite file: every client's connection lands on either worker."""
    ledger = asyncio.run(hammer(two_workers))
    verify(two_workers, ledger)
    verify(two_workers, ledger)  # a second connection, likely to the other worker, agrees
    assert served_by_both_workers(two_workers), "all the load went to one worker"


def served_by_both_workers(base_url: str) -> bool:
    """Each worker keeps its own request log: two different logs mean both took API requests."""
    logs = set()
    for _ in range(30):
        with httpx.Client(base_url=base_url, timeout=TIMEOUT) as fresh:  # a new connection
            entries = fresh.get("/__mock/requests", params={"limit": 5}).json()["data"]
        logs.add(tuple((e["time"], e["path"]) for e in entries))
        if len(logs) > 1:
            return True
    return False
