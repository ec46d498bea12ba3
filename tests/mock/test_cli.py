"""The real `lenz-contract mock` command as a subprocess: banner, Ctrl-C, SIGTERM, `--state`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from ..conftest import load_fixture
from ..support.processes import CliProcess, cli_process
from .conftest import AUTH

CREATE = load_fixture("docs/createWorkflow.request.json")


def mock_process(workdir: Path, *args: str) -> AbstractContextManager[CliProcess]:
    """The mock's real entry point, checking its own answers (`--self-check`)."""
    return cli_process("mock", "--self-check", *args, workdir=workdir)


def preflight(base_url: str, origin: str) -> httpx.Response:
    """What a browser sends before a cross-origin request with an Authorization header."""
    return httpx.options(
        f"{base_url}/api/workflows",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )


def test_cli_serves_prints_its_banner_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    with mock_process(tmp_path, "--token", "secret=user-x", "--token", "plain") as mock:
        base_url = mock.base_url
        answer = httpx.get(f"{base_url}/api/workflows", headers={"Authorization": "Bearer secret"})
        assert answer.status_code == 200
        assert httpx.get(f"{base_url}/api/workflows", headers=AUTH).status_code == 401
        run = httpx.post(
            f"{base_url}/api/workflows/wf-uuid-001/execute",
            headers={"Authorization": "Bearer plain"},
        )
        assert run.json()["data"]["triggered_by"] == "user-alfin"
        code, out, err = mock.stop(), mock.stdout, mock.stderr
    assert code == 0, err
    assert f"listening on {base_url}" in out
    assert "Bearer secret   (user user-x)" in out and "Bearer plain" in out
    assert f"{base_url}/docs" in out
    assert out.splitlines()[-1] == "mock stopped"
    assert "Traceback" not in err


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_stops_as_cleanly_as_ctrl_c(workers: int, tmp_path: Path) -> None:
    """`docker stop`, systemd and CI clean-ups send SIGTERM: exit 0 and "mock stopped" too."""
    state = ("--workers", "2", "--state", str(tmp_path / "s.sqlite")) if workers > 1 else ()
    with mock_process(tmp_path, *state) as mock:
        assert httpx.get(f"{mock.base_url}/api/workflows", headers=AUTH).status_code == 200
        code, out, err = mock.stop(signal.SIGTERM, timeout=10), mock.stdout, mock.stderr
    assert code == 0, err
    assert out.splitlines()[-1] == "mock stopped"
    assert "Traceback" not in err


def test_cors_origins_are_repeatable_and_comma_separated(tmp_path: Path) -> None:
    allowed = ("http://a.test", "http://b.test", "http://c.test")
    with mock_process(
        tmp_path, "--cors-origin", "http://a.test,http://b.test", "--cors-origin", "http://c.test"
    ) as mock:
        base_url = mock.base_url
        for origin in allowed:
            answer = preflight(base_url, origin)
            assert answer.status_code == 200, (origin, answer.text)
            assert answer.headers["access-control-allow-origin"] == origin
        refused = preflight(base_url, "http://d.test")
        assert "access-control-allow-origin" not in refused.headers
        assert mock.stop() == 0


def test_cli_refuses_bad_options() -> None:
    for args in (["--token", "a b"], ["--workers", "2"]):
        done = subprocess.run(
            [sys.executable, "-m", "lenz_contract", "mock", *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 2, done


def test_state_file_survives_a_restart_and_kill_9(tmp_path: Path) -> None:
    state = tmp_path / "mock.sqlite"
    with mock_process(tmp_path, "--state", str(state)) as mock:
        base_url = mock.base_url
        created = httpx.post(f"{base_url}/api/workflows", json=CREATE, headers=AUTH).json()["data"]
        httpx.delete(f"{base_url}/api/workflows/wf-uuid-001", headers=AUTH)
        httpx.post(f"{base_url}/__mock/clock", json={"advance": 3600})
        assert mock.stop() == 0, mock.stderr
    with mock_process(tmp_path, "--state", str(state)) as mock:
        base_url = mock.base_url
        listed = httpx.get(f"{base_url}/api/workflows", headers=AUTH).json()
        assert [w["id"] for w in listed["data"]] == [created["id"]]  # kept, not re-seeded
        clock = httpx.get(f"{base_url}/__mock/clock").json()
        assert clock["offset_seconds"] >= 3600  # the clock is part of the state
        acknowledged = [
            httpx.post(
                f"{base_url}/api/workflows", json={**CREATE, "name": f"acked {i}"}, headers=AUTH
            )
            for i in range(5)
        ]
        assert all(a.status_code == 201 for a in acknowledged)
        httpx.post(f"{base_url}/api/workflows/{created['id']}/execute", headers=AUTH)
        mock.kill_9()
    with mock_process(tmp_path, "--state", str(state)) as mock:
        base_url = mock.base_url
        names = [
            w["name"] for w in httpx.get(f"{base_url}/api/workflows", headers=AUTH).json()["data"]
        ]
        assert names[1:] == [f"acked {i}" for i in range(5)]
        logs = httpx.get(f"{base_url}/api/workflows/{created['id']}/logs", headers=AUTH).json()
        assert logs["total_data"] == 1
        assert mock.stop() == 0


@pytest.mark.slow
def test_two_workers_share_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "shared.sqlite"
    with mock_process(tmp_path, "--state", str(state), "--workers", "2") as mock:
        base_url = mock.base_url
        with httpx.Client(
            base_url=base_url, headers=AUTH
        ) as client:  # new connections spread over workers
            ids = []
            for i in range(20):
                with httpx.Client(base_url=base_url, headers=AUTH) as one:
                    ids.append(
                        one.post("/api/workflows", json={**CREATE, "name": f"w{i}"}).json()["data"][
                            "id"
                        ]
                    )
            for workflow_id in ids:
                with httpx.Client(base_url=base_url, headers=AUTH) as one:
                    assert one.get(f"/api/workflows/{workflow_id}").status_code == 200
            assert client.get("/api/workflows?search=w&limit=100").json()["total_data"] >= 20
            fired = client.post("/__mock/clock", json={"advance": 86400}).json()["schedules"][
                "fired"
            ]
            assert len(fired) == 21
            time.sleep(2.5)  # both workers' background schedulers tick; the fire is recorded once
            logs = client.get("/api/workflows/wf-uuid-001/logs").json()
            scheduled = [r for r in logs["data"] if r["started_at"] == fired[0]["fire_time"]]
            assert len(scheduled) == 1
        assert mock.stop() == 0
    assert json.loads(json.dumps(ids))
