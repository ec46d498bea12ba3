"""Several mock processes on one PostgreSQL database, as replicas behind a load balancer.

Risk covered: a team's replicas disagree (a write on one is not read on the other), a schedule
fires twice (each replica's scheduler) or never, a `kill -9` of one replica under load loses
writes it acknowledged, or parallel CI jobs spread over the replicas see each other's data.
Real `lenz-contract mock` processes on different ports, one fresh database per test.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..support.processes import MOCK_AUTH as AUTH
from ..support.processes import CliProcess, cli_process
from ..support.threads import run_together
from .conftest import CREATE
from .test_durability import WRITERS, every_item, load_then_kill

NAMESPACE = "X-Lenz-Mock-Namespace"


@pytest.fixture
def replicas(postgres_url: str, tmp_path: Path) -> Iterator[list[CliProcess]]:
    """Two replicas on one database (the second starts while the first already serves)."""
    with ExitStack() as stack:
        started = [
            stack.enter_context(
                cli_process("mock", "--state", postgres_url, "--self-check", workdir=tmp_path)
            )
            for _ in range(2)
        ]
        yield started
        for replica in started:
            if replica.proc.poll() is None:
                assert replica.stop() == 0, replica.output()
            assert "Traceback" not in replica.output(), replica.output()


def test_what_one_replica_writes_the_other_reads_at_once(replicas: list[CliProcess]) -> None:
    a, b = (httpx.Client(base_url=r.base_url, headers=AUTH, timeout=30) for r in replicas)
    with a, b:
        created = a.post("/api/workflows", json={**CREATE, "name": "Shared Report"}).json()["data"]
        assert b.get(f"/api/workflows/{created['id']}").json()["data"] == created
        assert b.get("/api/workflows", params={"search": "SHARED rep"}).json()["total_data"] == 1
        updated = b.put(
            f"/api/workflows/{created['id']}", json={**CREATE, "name": "Renamed Report"}
        ).json()["data"]
        assert a.get(f"/api/workflows/{created['id']}").json()["data"] == updated
        run = a.post(f"/api/workflows/{created['id']}/execute").json()["data"]
        logs = b.get(f"/api/workflows/{created['id']}/logs").json()
        assert [r["id"] for r in logs["data"]] == [run["id"]]
        moved = b.post("/__mock/clock", json={"advance": 3600}).json()
        assert a.get("/__mock/clock").json()["offset_seconds"] == moved["offset_seconds"]
        assert b.delete(f"/api/workflows/{created['id']}").status_code == 200
        assert a.get(f"/api/workflows/{created['id']}").status_code == 404
        assert a.get("/api/workflows").json()["total_data"] == 1  # the seed's workflow


def test_a_schedule_fires_once_per_due_time_across_replicas(replicas: list[CliProcess]) -> None:
    """Both replicas' background schedulers check every second; an every-second schedule runs
    for 4 s: each second is recorded once, none is missed between the first and the last."""
    a, b = (httpx.Client(base_url=r.base_url, headers=AUTH, timeout=30) for r in replicas)
    with a, b:
        every_second = {
            **CREATE,
            "name": "every second",
            "trigger_node": {"type": "schedule", "config": {"cron": "* * * * * *"}},
        }
        ids = [a.post("/api/workflows", json=every_second).json()["data"]["id"] for _ in range(5)]
        time.sleep(4.5)
        for workflow_id in ids:
            b.put(f"/api/workflows/{workflow_id}", json={**every_second, "is_active": False})
        for workflow_id in ids:
            runs = every_item(b, f"/api/workflows/{workflow_id}/logs")
            starts = sorted(r["started_at"] for r in runs)
            assert len(starts) == len(set(starts)), f"a second fired twice: {starts}"
            assert len(starts) >= 2, starts
            seconds = [int(datetime.fromisoformat(s).timestamp()) for s in starts]
            assert seconds == list(range(seconds[0], seconds[0] + len(seconds))), starts
        # A clock move on one replica answers every fire, and the other fires none of them again.
        daily = a.post("/api/workflows", json=CREATE).json()["data"]["id"]
        fired = b.post("/__mock/clock", json={"advance": 86400}).json()["schedules"]["fired"]
        assert {f["workflow_id"] for f in fired} == {"wf-uuid-001", daily}
        time.sleep(1.5)  # both background checks run meanwhile
        runs = every_item(a, f"/api/workflows/{daily}/logs")
        assert len(runs) == 1 and runs[0]["trigger_type"] == "schedule"


def test_kill_9_of_a_replica_under_write_load_loses_no_acknowledged_write(
    replicas: list[CliProcess],
) -> None:
    victim, survivor = replicas
    created = httpx.post(f"{victim.base_url}/api/workflows", json=CREATE, headers=AUTH)
    run_target = created.json()["data"]["id"]
    acks = load_then_kill(victim, run_target)  # four creators and an executor, then SIGKILL
    assert victim.proc.returncode == -9
    with httpx.Client(base_url=survivor.base_url, headers=AUTH, timeout=30) as http:
        stored = {w["id"] for w in every_item(http, "/api/workflows")}
        missing = set(acks.created) - stored
        assert not missing, f"{len(missing)} acknowledged creates lost: {sorted(missing)[:5]}"
        assert len(stored) <= len(acks.created) + 2 + WRITERS  # + seed, run target, in flight
        runs = {r["id"] for r in every_item(http, f"/api/workflows/{run_target}/logs")}
        assert set(acks.executions) <= runs
        assert len(runs) <= len(acks.executions) + 1
        assert http.post("/api/workflows", json=CREATE).status_code == 201


JOBS = 6


def test_parallel_ci_jobs_spread_over_replicas_never_see_each_other(
    replicas: list[CliProcess],
) -> None:
    """Each job in its own namespace, its requests alternating between the two replicas."""
    seen: dict[int, set[str]] = {job: set() for job in range(JOBS)}
    mine: dict[int, set[str]] = {job: set() for job in range(JOBS)}

    def job(number: int) -> None:
        headers = {**AUTH, NAMESPACE: f"ci-{number}"}
        clients = [httpx.Client(base_url=r.base_url, headers=headers, timeout=30) for r in replicas]
        for step in range(6):
            http = clients[step % 2]
            made = http.post("/api/workflows", json={**CREATE, "name": f"job {number}"})
            assert made.status_code == 201, made.text
            mine[number].add(made.json()["data"]["id"])
            other = clients[(step + 1) % 2]
            seen[number] |= {w["id"] for w in every_item(other, "/api/workflows")}
            run = other.post(f"/api/workflows/{made.json()['data']['id']}/execute")
            assert run.status_code == 200, run.text
        for http in clients:
            http.close()

    run_together(job, JOBS)
    for number in range(JOBS):
        assert seen[number] - {"wf-uuid-001"} == mine[number]
    listed: list[dict[str, Any]] = httpx.get(f"{replicas[0].base_url}/__mock/namespaces").json()[
        "data"
    ]
    assert {f"ci-{n}" for n in range(JOBS)} <= {n["name"] for n in listed}


def test_a_namespace_deleted_on_one_replica_starts_from_the_seed_on_the_other(
    replicas: list[CliProcess],
) -> None:
    """A CI job deletes its namespace when it ends; the other replica, which has it open,
    forgets it by its next background check (about a second: until then it may answer the name
    as an empty namespace) and then serves the name afresh from the seed."""
    a, b = (httpx.Client(base_url=r.base_url, headers=AUTH, timeout=30) for r in replicas)
    job = {NAMESPACE: "ci-77"}
    with a, b:
        made = b.post("/api/workflows", json=CREATE, headers=job).json()["data"]["id"]
        assert made in {w["id"] for w in a.get("/api/workflows", headers=job).json()["data"]}
        gone = a.delete("/__mock/namespaces/ci-77")
        assert gone.status_code == 200 and gone.json()["namespace"] == "ci-77", gone.text
        assert "ci-77" not in {n["name"] for n in b.get("/__mock/namespaces").json()["data"]}
        assert b.get(f"/api/workflows/{made}", headers=job).status_code == 404  # at once
        deadline = time.monotonic() + 10
        while True:
            seeded = b.get("/api/workflows", headers=job).json()
            if [w["id"] for w in seeded["data"]] == ["wf-uuid-001"]:
                break
            assert seeded["data"] == [], seeded  # the window: empty, never the old state
            assert time.monotonic() < deadline, "the other replica never served the seed again"
            time.sleep(0.2)
        assert b.get(f"/api/workflows/{made}", headers=job).status_code == 404
        assert a.delete("/__mock/namespaces/never-made").status_code == 404


def test_workers_of_one_process_share_the_database_like_replicas(
    postgres_url: str, tmp_path: Path
) -> None:
    """`--workers 2` on PostgreSQL: requests on fresh connections land on either worker, and
    every write is read back by whichever answers, with exact totals."""
    with cli_process("mock", "--state", postgres_url, "--workers", "2", workdir=tmp_path) as mock:
        made = []
        for index in range(20):
            with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=30) as fresh:
                answer = fresh.post("/api/workflows", json={**CREATE, "name": f"w{index}"})
                assert answer.status_code == 201, answer.text
                made.append(answer.json()["data"]["id"])
        for workflow_id in made:
            with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=30) as fresh:
                assert fresh.get(f"/api/workflows/{workflow_id}").status_code == 200
        with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=30) as http:
            listed = http.get("/api/workflows", params={"limit": 100}).json()
            assert listed["total_data"] == 21 and len(listed["data"]) == 21
        assert mock.stop() == 0, mock.output()
    assert "Traceback" not in mock.output(), mock.output()
