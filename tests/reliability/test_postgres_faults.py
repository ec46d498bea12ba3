"""The PostgreSQL store when things go wrong: a bad URL at start, a missing driver, a schema of
another version, and the database lost while serving.

Risk covered: the mock hangs or prints a traceback (with the password) on a wrong URL; a newer
or older schema is half-written; a database restart leaves the mock answering 500s or hanging
until it is restarted itself.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from lenz_contract.mock.postgres_store import SCHEMA_VERSION, PostgresStore, migrate
from lenz_contract.mock.schedule import NOW_KEY
from lenz_contract.mock.sqlite_store import dumps
from lenz_contract.mock.store import StoreError, fold, order_key

from ..support.live import free_port
from ..support.postgres import Cluster, throwaway_cluster
from ..support.processes import MOCK_AUTH as AUTH
from ..support.processes import cli_process
from ..support.threads import run_together
from .conftest import CREATE

SECRET = "s3cret-Pa55word"


def start_mock(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lenz_contract", "mock", "--port", str(free_port()), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_an_unreachable_database_stops_the_start_with_one_clear_line() -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://lenz:{SECRET}@127.0.0.1:{port}/team_mock"
    started = time.monotonic()
    done = start_mock("--state", url)
    assert done.returncode == 2, done
    assert time.monotonic() - started < 30
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"cannot start the mock: PostgreSQL at 127.0.0.1:{port}, ")
    assert "database 'team_mock'" in lines[0] and "user 'lenz'" in lines[0]
    assert "refused" in lines[0].lower()  # the server's (here: the socket's) reason
    assert SECRET not in done.stdout + done.stderr


def test_a_wrong_database_name_stops_the_start_with_the_servers_reason(
    postgres_cluster: Cluster,
) -> None:
    url = postgres_cluster.url("no_such_db").replace("lenz@", f"lenz:{SECRET}@")
    done = start_mock("--state", url, "--workers", "2")
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"127.0.0.1:{postgres_cluster.port}, database 'no_such_db'" in lines[0]
    assert 'database "no_such_db" does not exist' in lines[0]
    assert SECRET not in done.stdout + done.stderr


def test_without_the_driver_the_mock_says_what_to_install(postgres_url: str) -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None; sys.modules['psycopg_pool'] = None\n"
        "from lenz_contract.cli import main\n"
        f"sys.argv = ['lenz-contract', 'mock', '--port', '{free_port()}', '--state', {postgres_url!r}]\n"
        "main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done
    assert "pip install 'lenz-contract[postgres]'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def tables(url: str) -> dict[str, Any]:
    """Every row of every table of the database, to prove nothing changed."""
    with psycopg.connect(url) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {
            name: conn.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall() for name in names
        }


def test_a_newer_schema_is_refused_and_left_untouched(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    store.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE lenz_schema SET version = 99, written_by = '9.9.9'")
    before = tables(postgres_url)
    known = rf"schema version 99 .*lenz-contract 9\.9\.9.* up to {SCHEMA_VERSION}"
    with pytest.raises(StoreError, match=known):
        PostgresStore(postgres_url)
    done = start_mock("--state", postgres_url)
    assert done.returncode == 2, done
    assert "schema version 99" in done.stderr and "Nothing was changed" in done.stderr
    assert tables(postgres_url) == before


def test_an_older_schema_is_migrated_with_its_state(postgres_url: str) -> None:
    """A database of version 1 (before the scheduler's due index) with a scheduled workflow
    and a run: opened by this version, it is migrated in place, keeps both, and the
    workflow's schedule is worked out by the first check."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert migrate(conn, postgres_url, upto=1) == 0
        workflow = {**CREATE, "id": "wf-old", "created_at": "2025-01-01T00:00:00Z",
                    "updated_at": None}  # fmt: skip
        conn.execute("INSERT INTO namespaces (name) VALUES ('default')")
        conn.execute(
            "INSERT INTO workflows (ns, id, created_key, name_fold, scheduled, log_count, body)"
            " VALUES ('default', 'wf-old', %s, %s, true, 1, %s)",
            (order_key(workflow["created_at"]), fold(workflow["name"]), dumps(workflow)),
        )
        run = {"id": "exec-old", "workflow_id": "wf-old", "started_at": "2025-01-02T07:00:00Z"}
        conn.execute(
            "INSERT INTO executions (ns, id, workflow_id, started_key, body)"
            " VALUES ('default', 'exec-old', 'wf-old', %s, %s)",
            (order_key(run["started_at"]), dumps(run)),
        )
        conn.execute("INSERT INTO meta (ns, key, value) VALUES ('default', 'initialized', '1')")
    store = PostgresStore(postgres_url)
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT version FROM lenz_schema").fetchone() == (SCHEMA_VERSION,)
    assert store.get_workflow("wf-old") == workflow
    page = store.list_executions("wf-old", 0, 10)
    assert page is not None and [e["id"] for e in page.items] == ["exec-old"]
    assert store.next_due() == NOW_KEY  # due at once: the first check works out its schedule
    assert store.list_workflows("", 0, 10).total == 1  # the kept count starts from the rows
    store.insert_workflow({**workflow, "id": "wf-new"})
    assert store.delete_workflow("wf-old")
    assert [(w["id"], p.total) for p in [store.list_workflows("", 0, 10)] for w in p.items] == [
        ("wf-new", 1)
    ]
    store.close()
    again = PostgresStore(postgres_url)  # a second start finds the current version
    again.close()


def test_two_replicas_starting_together_create_the_schema_once(postgres_url: str) -> None:
    run_together(lambda _: PostgresStore(postgres_url).close(), 4, timeout=60)
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*), max(version) FROM lenz_schema").fetchone() == (
            1,
            SCHEMA_VERSION,
        )


def timed(
    http: httpx.Client, method: str, path: str, **kwargs: Any
) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    answer = http.request(method, path, **kwargs)
    return time.monotonic() - started, answer


def test_a_lost_database_gives_503s_and_serving_resumes_when_it_is_back(tmp_path: Path) -> None:
    """The cluster stops under a running mock: every request answers 503 with the error
    envelope within the bounded wait (no hang, no 500); it starts again: 200s, same mock."""
    with throwaway_cluster() as cluster:
        url = cluster.new_database("team")
        with cli_process("mock", "--state", url, "--self-check", workdir=tmp_path) as mock:
            with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=60) as http:
                created = http.post("/api/workflows", json=CREATE).json()["data"]
                cluster.stop()
                for method, path, body in [
                    ("GET", "/api/workflows", None),
                    ("GET", f"/api/workflows/{created['id']}", None),
                    ("POST", "/api/workflows", CREATE),
                    ("POST", f"/api/workflows/{created['id']}/execute", None),
                    ("GET", "/__mock/state", None),
                    ("GET", "/api/workflows", None),
                ]:
                    took, answer = timed(http, method, path, json=body)
                    assert answer.status_code == 503, (path, answer.status_code, answer.text)
                    envelope = answer.json()
                    assert envelope["ok"] is False and envelope["message"] == "service unavailable"
                    assert envelope["errors"][0]["path"] == "state"
                    assert "unavailable" in envelope["errors"][0]["reason"]
                    assert answer.headers["retry-after"] == "1"
                    assert took < 12, (path, took)
                cluster.start()
                deadline = time.monotonic() + 30
                while True:
                    answer = http.get(f"/api/workflows/{created['id']}")
                    if answer.status_code == 200 or time.monotonic() > deadline:
                        break
                    assert answer.status_code == 503, answer.text
                    time.sleep(0.2)
                assert answer.status_code == 200 and answer.json()["data"] == created
                assert http.post("/api/workflows", json=CREATE).status_code == 201
                assert http.get("/__mock/failures").json()["data"] == []
            assert mock.stop() == 0, mock.output()
        assert "Traceback" not in mock.output(), mock.output()


@pytest.mark.parametrize("where", ["user part", "query"])
def test_the_banner_and_the_admin_api_never_show_the_password(
    postgres_cluster: Cluster, tmp_path: Path, where: str
) -> None:
    """The test cluster trusts loopback, so the URL's password is accepted and ignored; libpq
    reads one in the user part (`lenz:SECRET@`) or as a `password=` parameter."""
    name = f"banner_{free_port()}"
    plain = postgres_cluster.new_database(name)
    if where == "query":
        url = f"{plain}?password={SECRET}&application_name=banner"
    else:
        url = plain.replace("lenz@", f"lenz:{SECRET}@")
    try:
        with cli_process("mock", "--state", url, workdir=tmp_path) as mock:
            shown = httpx.get(f"{mock.base_url}/__mock/").json()["mock"]["state"]
            assert shown == url.replace(SECRET, "***")
            assert mock.stop() == 0
        assert f"state: {url.replace(SECRET, '***')}; seed on" in mock.stdout
        assert SECRET not in mock.output()
    finally:
        postgres_cluster.drop_database(name)
