"""`kill -9` in the middle of a write load: every acknowledged write survives, the file is sound.

Risk covered: the mock answers 201 before the write is on disk (or inside a transaction a crash
can roll back), so a CI job or a developer loses data the mock confirmed; or a crash leaves a
SQLite file that is corrupt or that the mock cannot start on. `tests/mock/test_cli.py` kills an
idle server; this one kills it while several clients are writing.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..support.processes import MOCK_AUTH as AUTH
from ..support.processes import CliProcess, cli_process
from .conftest import CREATE

WRITERS = 4
ACKED_BEFORE_KILL = 200
"""The kill comes once this many creates were acknowledged (a count, not a time)."""


@dataclass
class Acks:
    """The writes the server acknowledged, shared by the writer threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    created: list[str] = field(default_factory=list)
    executions: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    enough: threading.Event = field(default_factory=threading.Event)
    unexpected: list[str] = field(default_factory=list)

    def add(self, target: list[str], value: str) -> None:
        with self.lock:
            target.append(value)
            if len(self.created) >= ACKED_BEFORE_KILL:
                self.enough.set()


def creator(base_url: str, writer: int, acks: Acks) -> None:
    """Creates in a loop until the server goes away; only a 201 counts as acknowledged."""
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=10) as http:
        serial = 0
        while not acks.stop.is_set():
            serial += 1
            try:
                answer = http.post("/api/workflows", json={**CREATE, "name": f"w{writer}-{serial}"})
            except httpx.TransportError:
                return  # killed: this request's fate is unknown, and it was not acknowledged
            if answer.status_code != 201:
                acks.unexpected.append(f"{answer.status_code} {answer.text}")
                return
            acks.add(acks.created, answer.json()["data"]["id"])


def executor(base_url: str, workflow_id: str, acks: Acks) -> None:
    """Manual runs of one workflow in a loop: each 200 is an execution the logs must keep."""
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=10) as http:
        while not acks.stop.is_set():
            try:
                answer = http.post(f"/api/workflows/{workflow_id}/execute")
            except httpx.TransportError:
                return
            if answer.status_code != 200:
                acks.unexpected.append(f"{answer.status_code} {answer.text}")
                return
            acks.add(acks.executions, answer.json()["data"]["id"])


def load_then_kill(mock: CliProcess, run_target: str) -> Acks:
    acks = Acks()
    threads = [
        threading.Thread(target=creator, args=(mock.base_url, n, acks)) for n in range(WRITERS)
    ]
    threads.append(threading.Thread(target=executor, args=(mock.base_url, run_target, acks)))
    for thread in threads:
        thread.start()
    try:
        assert acks.enough.wait(60), f"only {len(acks.created)} creates acknowledged in 60 s"
        mock.kill_9()  # the writers are still sending: some requests are mid-flight
    finally:
        acks.stop.set()
        for thread in threads:
            thread.join(30)
    assert not acks.unexpected, acks.unexpected
    return acks


def every_item(http: httpx.Client, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body = http.get(path, params={"limit": 100, "page": page}).json()
        items += body["data"]
        if page >= body["total_page"]:
            return items
        page += 1


def test_acknowledged_writes_survive_kill_9_under_load(tmp_path: Path) -> None:
    """Four creators and one executor writing; SIGKILL once 200 creates were acknowledged."""
    state = tmp_path / "state.sqlite"
    with cli_process("mock", "--state", str(state), "--no-seed", workdir=tmp_path) as mock:
        created = httpx.post(f"{mock.base_url}/api/workflows", json=CREATE, headers=AUTH)
        run_target = created.json()["data"]["id"]
        acks = load_then_kill(mock, run_target)
    assert mock.proc.returncode == -9

    with sqlite3.connect(state) as db:  # as the crash left it (SQLite replays the WAL)
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    with cli_process("mock", "--state", str(state), "--self-check", workdir=tmp_path) as mock:
        with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=10) as http:
            stored = {w["id"] for w in every_item(http, "/api/workflows")}
            missing = set(acks.created) - stored
            assert not missing, f"{len(missing)} acknowledged creates lost: {sorted(missing)[:5]}"
            # At most one unacknowledged create per writer was in flight at the kill.
            assert len(stored) <= len(acks.created) + 1 + WRITERS
            runs = {r["id"] for r in every_item(http, f"/api/workflows/{run_target}/logs")}
            assert set(acks.executions) <= runs
            assert len(runs) <= len(acks.executions) + 1

            # ...and the restarted server answers normally, reads and writes.
            again = http.post("/api/workflows", json={**CREATE, "name": "after the crash"})
            assert again.status_code == 201
            assert http.get(f"/api/workflows/{again.json()['data']['id']}").status_code == 200
            assert http.post(f"/api/workflows/{run_target}/execute").status_code == 200
            assert (
                http.get("/api/workflows", params={"search": "after the"}).json()["total_data"] == 1
            )
            assert http.get("/__mock/failures").json()["data"] == []
        assert mock.stop() == 0, mock.output()
    assert "Traceback" not in mock.output()
