"""Every store (memory, SQLite, PostgreSQL) keeps the documented orders and never loses or
duplicates a write: one suite, parametrized over the stores."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lenz_contract.mock.sqlite_store import SqliteStore
from lenz_contract.mock.store import MemoryStore, Snapshot, Store


def workflow(workflow_id: str, name: str, created_at: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": workflow_id,
        "name": name,
        "is_active": True,
        "trigger_node": {"type": "schedule", "config": {"cron": "0 0 7 * * *"}},
        "nodes": [],
        "created_at": created_at,
        "updated_at": None,
        **extra,
    }


def execution(execution_id: str, workflow_id: str, started_at: str) -> dict[str, Any]:
    return {
        "id": execution_id,
        "workflow_id": workflow_id,
        "trigger_type": "manual",
        "status": "success",
        "started_at": started_at,
        "finished_at": started_at,
        "node_results": [],
        "error": None,
        "triggered_by": "user-alfin",
    }


STORES = ["memory", "sqlite", "postgres"]


def make_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A new, empty store of `kind` (PostgreSQL: a fresh database of the session's cluster)."""
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SqliteStore(tmp_path / "s.sqlite")
    from lenz_contract.mock.postgres_store import PostgresStore

    return PostgresStore(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made = make_store(request.param, request, tmp_path)
    yield made
    made.close()


def test_list_orders_by_created_at_then_id_and_pages(store: Store) -> None:
    store.insert_workflow(workflow("b", "Beta", "2025-01-02T00:00:00Z"))
    store.insert_workflow(workflow("a", "Alpha", "2025-01-02T00:00:00Z"))
    store.insert_workflow(workflow("c", "Gamma", "2025-01-01T00:00:00Z"))
    store.insert_workflow(workflow("d", "Delta", "2025-01-02T07:00:00+07:00"))  # = 00:00Z
    page = store.list_workflows("", 0, 10)
    assert [w["id"] for w in page.items] == ["c", "a", "b", "d"]
    assert page.total == 4
    assert [w["id"] for w in store.list_workflows("", 2, 2).items] == ["b", "d"]
    assert store.list_workflows("", 10, 2).items == []


def test_search_is_case_insensitive_and_partial(store: Store) -> None:
    store.insert_workflow(workflow("1", "Laporan Harian FR", "2025-01-01T00:00:00Z"))
    store.insert_workflow(workflow("2", "Ekspor LAPORAN", "2025-01-02T00:00:00Z"))
    store.insert_workflow(workflow("3", "Other", "2025-01-03T00:00:00Z"))
    found = store.list_workflows("laPORan", 0, 10)
    assert [w["id"] for w in found.items] == ["1", "2"]
    assert found.total == 2
    assert store.list_workflows("laporan", 1, 1).items[0]["id"] == "2"
    assert store.list_workflows("nothing", 0, 10).total == 0


def test_replace_keeps_id_and_created_at(store: Store) -> None:
    store.insert_workflow(workflow("w", "Old", "2025-01-01T00:00:00Z", description="x"))
    replaced = store.replace_workflow(
        "w",
        {"name": "New", "is_active": False, "trigger_node": {"type": "manual"}, "nodes": []},
        "2025-02-01T00:00:00Z",
    )
    assert replaced is not None
    assert replaced["created_at"] == "2025-01-01T00:00:00Z"
    assert replaced["updated_at"] == "2025-02-01T00:00:00Z"
    assert "description" not in replaced
    assert store.get_workflow("w") == replaced
    assert store.list_workflows("new", 0, 10).total == 1
    assert store.list_workflows("old", 0, 10).total == 0
    assert list(store.scheduled_workflows()) == []
    assert store.replace_workflow("nope", {}, "2025-02-01T00:00:00Z") is None


@pytest.mark.parametrize("active", [False, True])
def test_replace_without_is_active_keeps_the_stored_flag(store: Store, active: bool) -> None:
    """Decision: a PUT that leaves `is_active` out keeps it (never switches a schedule on)."""
    store.insert_workflow(workflow("w", "Old", "2025-01-01T00:00:00Z", is_active=active))
    fields = {
        "name": "New",
        "trigger_node": {"type": "schedule", "config": {"cron": "0 0 8 * * *"}},
        "nodes": [],
    }
    replaced = store.replace_workflow("w", fields, "2025-02-01T00:00:00Z")
    assert replaced is not None
    assert replaced["is_active"] is active
    assert replaced["name"] == "New"
    assert replaced["trigger_node"] == fields["trigger_node"]
    assert store.get_workflow("w") == replaced
    assert [w["id"] for w in store.scheduled_workflows()] == (["w"] if active else [])
    switched = store.replace_workflow(
        "w", {**fields, "is_active": not active}, "2025-02-02T00:00:00Z"
    )
    assert switched is not None and switched["is_active"] is (not active)
    assert store.get_workflow("w") == switched
    assert [w["id"] for w in store.scheduled_workflows()] == ([] if active else ["w"])


def test_logs_newest_first_and_delete_cascades(store: Store) -> None:
    store.insert_workflow(workflow("w", "W", "2025-01-01T00:00:00Z"))
    for index, started in enumerate(
        ["2025-01-01T01:00:00Z", "2025-01-01T03:00:00Z", "2025-01-01T02:00:00Z"]
    ):
        assert store.add_execution(execution(f"e{index}", "w", started))
    page = store.list_executions("w", 0, 2)
    assert page is not None
    assert [e["id"] for e in page.items] == ["e1", "e2"]
    assert page.total == 3
    assert [e["id"] for e in store.list_executions("w", 2, 2).items] == ["e0"]  # type: ignore[union-attr]
    assert store.list_executions("missing", 0, 10) is None
    assert store.add_execution(execution("x", "missing", "2025-01-01T00:00:00Z")) is False
    assert store.delete_workflow("w")
    assert store.get_workflow("w") is None
    assert store.list_executions("w", 0, 10) is None
    assert store.delete_workflow("w") is False


def test_a_fire_is_recorded_once(store: Store) -> None:
    store.insert_workflow(workflow("w", "W", "2025-01-01T00:00:00Z"))
    assert store.add_execution(execution("e1", "w", "2025-01-02T07:00:00Z"), fire_key="w@1")
    assert not store.add_execution(execution("e2", "w", "2025-01-02T07:00:00Z"), fire_key="w@1")
    assert store.list_executions("w", 0, 10).total == 1  # type: ignore[union-attr]


def test_snapshot_round_trip(store: Store) -> None:
    snapshot = Snapshot(
        [workflow("w", "W", "2025-01-01T00:00:00Z")],
        [execution("e", "w", "2025-01-01T01:00:00Z")],
        [{"id": "cred-1", "type": "telegram"}],
    )
    store.restore(snapshot)
    assert store.snapshot() == snapshot
    assert store.credential_ids() == {"cred-1"}
    store.restore(Snapshot())
    assert store.snapshot() == Snapshot()


def test_concurrent_writers_lose_nothing(store: Store) -> None:
    def create(start: int) -> None:
        for index in range(start, start + 50):
            store.insert_workflow(workflow(f"w{index:04d}", f"n{index}", "2025-01-01T00:00:00Z"))

    threads = [threading.Thread(target=create, args=(n * 50,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    page = store.list_workflows("", 0, 1000)
    assert page.total == 400
    assert len({w["id"] for w in page.items}) == 400


def test_sqlite_state_is_shared_between_connections(tmp_path: Path) -> None:
    first, second = SqliteStore(tmp_path / "s.sqlite"), SqliteStore(tmp_path / "s.sqlite")
    first.insert_workflow(workflow("w", "W", "2025-01-01T00:00:00Z"))
    assert second.get_workflow("w") is not None
    assert first.list_workflows("", 0, 10).total == 1
    second.insert_workflow(workflow("v", "V", "2025-01-01T00:00:00Z"))  # another worker writes
    assert first.list_workflows("", 0, 10).total == 2
    assert first.add_execution(execution("e", "w", "2025-01-01T00:00:00Z"), fire_key="k")
    assert not second.add_execution(execution("e2", "w", "2025-01-01T00:00:00Z"), fire_key="k")
    assert second.restore_once(Snapshot(), "init") is True
    assert (
        first.restore_once(Snapshot([workflow("z", "Z", "2025-01-01T00:00:00Z")]), "init") is False
    )
    first.close()
    second.close()


def test_a_repeated_search_sees_every_write(store: Store) -> None:
    store.insert_workflow(workflow("1", "Laporan", "2025-01-01T00:00:00Z"))
    assert store.list_workflows("lapor", 0, 10).total == 1
    store.insert_workflow(workflow("2", "Laporan 2", "2025-01-02T00:00:00Z"))
    assert store.list_workflows("lapor", 0, 10).total == 2
    store.replace_workflow("1", {"name": "Other"}, "2025-01-03T00:00:00Z")
    assert [w["id"] for w in store.list_workflows("lapor", 0, 10).items] == ["2"]
    store.delete_workflow("2")
    assert store.list_workflows("lapor", 0, 10).total == 0
    assert store.list_workflows("", 0, 10).total == 1


def test_a_state_file_of_a_newer_version_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    """`PRAGMA user_version` is the schema's version: a newer one is never written to."""
    import sqlite3
    import subprocess
    import sys
    from contextlib import closing

    from lenz_contract.mock.store import StoreError

    path = tmp_path / "newer.sqlite"
    SqliteStore(path).close()
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 9")
        db.commit()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="schema version 9, written by a newer lenz-contract"):
        SqliteStore(path)
    done = subprocess.run(
        [sys.executable, "-m", "lenz_contract", "mock", "--port", "0", "--state", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done
    assert "knows up to version 2" in done.stderr
    assert path.read_bytes() == before


def test_a_file_from_before_namespaces_becomes_the_default_namespace(tmp_path: Path) -> None:
    """Version 1 (no namespaces): rebuilt in place, its state in `default`, seeded no more."""
    import sqlite3
    from contextlib import closing

    from lenz_contract.mock.sqlite_store import SCHEMA_V1, SqliteBackend, dumps
    from lenz_contract.mock.store import DEFAULT_NAMESPACE, fold, order_key

    path = tmp_path / "v1.sqlite"
    old = workflow("w1", "Old one", "2025-01-01T00:00:00Z")
    with closing(sqlite3.connect(path)) as db:
        for statement in SCHEMA_V1.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(
            "INSERT INTO workflows (id, created_key, name_fold, scheduled, log_count, body)"
            " VALUES ('w1', ?, ?, 1, 1, ?)",
            (order_key(old["created_at"]), fold(old["name"]), dumps(old)),
        )
        run = execution("e1", "w1", "2025-01-02T00:00:00Z")
        db.execute(
            "INSERT INTO executions (id, workflow_id, started_key, fire_key, body)"
            " VALUES ('e1', 'w1', ?, 'w1@x', ?)",
            (order_key(run["started_at"]), dumps(run)),
        )
        db.execute("INSERT INTO meta (key, value) VALUES ('initialized', '1')")
        db.commit()
    backend = SqliteBackend(path)
    seed = Snapshot([workflow("seed", "Seed", "2025-01-01T00:00:00Z")])
    from datetime import UTC, datetime

    store = backend.open(DEFAULT_NAMESPACE, seed, datetime(2025, 5, 1, tzinfo=UTC))
    assert [w["id"] for w in store.list_workflows("", 0, 10).items] == ["w1"]  # not re-seeded
    page = store.list_executions("w1", 0, 10)
    assert page is not None and [e["id"] for e in page.items] == ["e1"]
    assert store.list_workflows("OLD", 0, 10).total == 1
    other = backend.open("team-a", seed, datetime(2025, 5, 1, tzinfo=UTC))
    assert [w["id"] for w in other.list_workflows("", 0, 10).items] == ["seed"]
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (2,)
    backend.close()
