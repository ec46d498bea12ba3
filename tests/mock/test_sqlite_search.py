"""The SQLite store's trigram index stays in step with every write, and older files get one.

After each step the index must pass FTS5's own `integrity-check` (every row indexed with the
text it holds, nothing else) and searches must answer as the plain scan does.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from lenz_contract.mock import sqlite_search
from lenz_contract.mock.sqlite_store import SCHEMA_V1 as SCHEMA
from lenz_contract.mock.sqlite_store import SqliteStore, dumps
from lenz_contract.mock.store import Snapshot, fold, order_key

from .test_search_index import assert_same_answers
from .test_store import execution, workflow

NEEDLES = ["grp-07", "lapor", "LAPORAN", "straße", "STRASSE", "σίσυφοσ", "07", "a", "zzz"]


def check(store: SqliteStore, workflows: list[dict[str, Any]]) -> None:
    store._db.execute(
        f"INSERT INTO {sqlite_search.SEARCH_TABLE} ({sqlite_search.SEARCH_TABLE}, rank)"
        " VALUES ('integrity-check', 1)"
    )
    for needle in NEEDLES:
        assert_same_answers(store, workflows, needle)


def named(index: int, name: str) -> dict[str, Any]:
    return workflow(f"w{index:03d}", name, f"2025-01-01T00:00:{index % 60:02d}Z")


def test_the_index_follows_create_rename_delete_import_and_reset(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    assert store._indexed
    kept: dict[str, dict[str, Any]] = {}
    for index, name in enumerate(["Laporan grp-07", "Straße grp-08", "ΣΊΣΥΦΟΣ", "x\x00grp-07"]):
        kept[f"w{index:03d}"] = named(index, name)
        store.insert_workflow(kept[f"w{index:03d}"])
        check(store, list(kept.values()))
    renamed = store.replace_workflow("w000", {"name": "STRASSE 07"}, "2025-02-01T00:00:00Z")
    assert renamed is not None
    kept["w000"] = renamed
    check(store, list(kept.values()))
    assert store.delete_workflow("w001")
    del kept["w001"]
    check(store, list(kept.values()))

    imported = [named(index, f"laporan harian grp-{index % 10:02d}") for index in range(40)]
    store.restore(Snapshot(imported, [execution("e1", "w003", "2025-01-02T00:00:00Z")]))
    check(store, imported)
    store.restore(Snapshot())  # a reset without seed
    check(store, [])
    store.restore(Snapshot(imported[:5]))  # a reset to a seed
    check(store, imported[:5])
    store.close()

    reopened = SqliteStore(tmp_path / "s.sqlite")
    check(reopened, imported[:5])
    reopened.close()


def old_file(path: Path, workflows: list[dict[str, Any]]) -> None:
    """A state file as the store wrote it before the search index existed."""
    with closing(sqlite3.connect(path)) as db:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.executemany(
            "INSERT INTO workflows (id, created_key, name_fold, scheduled, body)"
            " VALUES (?, ?, ?, 0, ?)",
            [(w["id"], order_key(w["created_at"]), fold(w["name"]), dumps(w)) for w in workflows],
        )
        db.commit()
        assert not sqlite_search.has_search_index(db)


def test_a_file_made_without_the_index_gets_one_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    workflows = [named(index, f"Laporan {index:03d} grp-{index % 7:02d}") for index in range(60)]
    workflows.append(named(60, "Straße\x00 grp-07"))
    old_file(path, workflows)

    store = SqliteStore(path)
    assert store._indexed
    check(store, workflows)
    store.insert_workflow(named(61, "new grp-07"))  # kept in step from then on
    workflows.append(named(61, "new grp-07"))
    check(store, workflows)
    store.close()

    # A writer that knows nothing of the index (the previous version, another tool): the
    # triggers index its rows too.
    with closing(sqlite3.connect(path)) as db:
        late = named(62, "written by an old mock grp-07")
        db.execute(
            "INSERT INTO workflows (id, created_key, name_fold, scheduled, body)"
            " VALUES (?, ?, ?, 0, ?)",
            (late["id"], order_key(late["created_at"]), fold(late["name"]), dumps(late)),
        )
        db.execute("UPDATE workflows SET name_fold = ? WHERE id = 'w000'", (fold("Renamed"),))
        db.commit()
    workflows.append(late)
    workflows[0] = {**workflows[0], "name": "Renamed"}
    reopened = SqliteStore(path)
    check(reopened, workflows)
    reopened.close()


def test_two_stores_opening_an_old_file_build_the_index_once(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    workflows = [named(index, f"grp-{index:02d}") for index in range(10)]
    old_file(path, workflows)
    first, second = SqliteStore(path), SqliteStore(path)
    check(first, workflows)
    check(second, workflows)
    first.close()
    second.close()


def test_without_trigrams_the_store_searches_by_scanning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An SQLite without the trigram tokenizer (before 3.34): same answers, no index."""
    monkeypatch.setattr(sqlite_search, "trigram_available", lambda db: False)
    store = SqliteStore(tmp_path / "s.sqlite")
    assert not store._indexed
    workflows = [named(index, f"Laporan grp-{index % 3:02d}") for index in range(9)]
    for item in workflows:
        store.insert_workflow(item)
    for needle in NEEDLES:
        assert_same_answers(store, workflows, needle)
    store.close()
