"""The mock's state in a SQLite file (`--state FILE`): survives restarts, shared by workers.

WAL mode lets readers run while one worker writes; every write is one `BEGIN IMMEDIATE`
transaction, so concurrent requests (threads or uvicorn worker processes) never lose or
duplicate a write, and an acknowledged write survives a `kill -9` (the WAL is on disk before
the answer is sent). Scheduled fires carry a unique `fire_key` (workflow id + fire time), so
two workers firing the same schedule record it once.

Lists stay O(page): workflows are read through an index on (created_at, id, folded name), a
search goes through an FTS5 trigram index of the folded names (`sqlite_search`, added to older
files when they are opened), and each workflow keeps its number of executions so a logs page
never counts a million rows. The scheduler's work list is read in chunks, so a check over
100,000 workflows never holds every body at once.

Bodies are stored as the JSON text `spec.jsontext` writes, so every number a client sent
survives a restart exactly (integers beyond 64 bits, long decimals). A row holding such a number
starts with a space (still JSON) and is read with `jsontext.loads`; every other row is read with
orjson alone, as fast as ever (rows written before the mark existed hold no such number).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from ..spec import jsontext
from .sqlite_search import ensure_search_index, search_filter
from .store import SEARCH_CACHE_SIZE as COUNT_CACHE_SIZE
from .store import (
    JSONDict,
    Page,
    Snapshot,
    clamp_offset,
    fold,
    is_scheduled,
    order_key,
    replaced_workflow,
)

SCHEDULED_CHUNK = 500
"""Workflows read per query of `scheduled_workflows` (each under the lock, briefly)."""
EXACT_MARK = b" "
"""The first byte of a stored document that must be read with `jsontext.loads` (see above)."""


def dumps(document: JSONDict) -> bytes:
    text, needs_care = jsontext.write_json(document)
    return EXACT_MARK + text if needs_care else text


def loads(stored: bytes) -> Any:
    return jsontext.loads(stored) if stored[:1] == EXACT_MARK else orjson.loads(stored)


SCHEMA = """
CREATE TABLE IF NOT EXISTS workflows (
    id TEXT PRIMARY KEY,
    created_key TEXT NOT NULL,
    name_fold TEXT NOT NULL,
    scheduled INTEGER NOT NULL,
    log_count INTEGER NOT NULL DEFAULT 0,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS workflows_order ON workflows (created_key, id, name_fold);
CREATE INDEX IF NOT EXISTS workflows_scheduled ON workflows (scheduled) WHERE scheduled = 1;
CREATE TABLE IF NOT EXISTS executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    started_key TEXT NOT NULL,
    fire_key TEXT UNIQUE,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS executions_by_workflow ON executions (workflow_id, started_key, seq);
CREATE TABLE IF NOT EXISTS credentials (id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class SqliteStore:
    """One connection per process, guarded by a lock; see the module docstring."""

    shared = True

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._writes = 0
        self._count_version: tuple[int, int] = (-1, -1)
        self._count_cache: dict[Any, Any] = {}
        self._db = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._db.execute("PRAGMA busy_timeout = 30000")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        with self._write() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            self._indexed = ensure_search_index(db)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One immediate transaction: other writers wait (busy_timeout) instead of failing."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._writes += 1
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # --- workflows ---------------------------------------------------------------------------

    def list_workflows(self, search: str, offset: int, limit: int) -> Page:
        offset = clamp_offset(offset)
        where = ""
        params: tuple[str, ...] = ()
        with self._lock:
            if search:
                where, params = self._search_filter(fold(search))
            total = self._count(where, params)
            rows = self._db.execute(
                f"SELECT body FROM workflows{where} ORDER BY created_key, id LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return Page([loads(row[0]) for row in rows], int(total))

    def _cache(self) -> dict[Any, Any]:
        """Counts and search plans, kept until this or another connection writes.

        `PRAGMA data_version` moves when another connection (another worker) commits; the
        local counter covers this connection's own writes.
        """
        version = (self._db.execute("PRAGMA data_version").fetchone()[0], self._writes)
        if version != self._count_version:
            self._count_cache.clear()
            self._count_version = version
        elif len(self._count_cache) >= 2 * COUNT_CACHE_SIZE:
            self._count_cache.clear()
        return self._count_cache

    def _count(self, where: str, params: tuple[str, ...]) -> int:
        """`COUNT(*)` of a list (cached, see `_cache`)."""
        cache = self._cache()
        key = ("count", where, params)
        if key not in cache:
            sql = f"SELECT COUNT(*) FROM workflows{where}"
            cache[key] = int(self._db.execute(sql, params).fetchone()[0])
        found: int = cache[key]
        return found

    def _search_filter(self, needle: str) -> tuple[str, tuple[str, ...]]:
        """How to select the names holding `needle` (`sqlite_search.search_filter`, cached)."""
        cache = self._cache()
        key = ("plan", needle)
        if key not in cache:
            # max(rowid) is O(log n) and about the number of workflows: enough to choose by
            workflows = self._db.execute("SELECT max(rowid) FROM workflows").fetchone()[0] or 0
            cache[key] = search_filter(self._db, needle, self._indexed, workflows)
        plan: tuple[str, tuple[str, ...]] = cache[key]
        return plan

    def get_workflow(self, workflow_id: str) -> JSONDict | None:
        rows = self._rows("SELECT body FROM workflows WHERE id = ?", (workflow_id,))
        return loads(rows[0][0]) if rows else None

    def insert_workflow(self, workflow: JSONDict) -> None:
        with self._write() as db:
            self._insert(db, workflow)

    @staticmethod
    def _insert(db: sqlite3.Connection, workflow: JSONDict) -> None:
        db.execute(
            "INSERT INTO workflows (id, created_key, name_fold, scheduled, body) VALUES (?, ?, ?, ?, ?)",
            (
                workflow["id"],
                order_key(workflow.get("created_at")),
                fold(workflow.get("name")),
                int(is_scheduled(workflow)),
                dumps(workflow),
            ),
        )

    def replace_workflow(
        self, workflow_id: str, fields: JSONDict, updated_at: str
    ) -> JSONDict | None:
        with self._write() as db:
            row = db.execute("SELECT body FROM workflows WHERE id = ?", (workflow_id,)).fetchone()
            if row is None:
                return None
            replaced = replaced_workflow(loads(row[0]), fields, updated_at)
            db.execute(
                "UPDATE workflows SET name_fold = ?, scheduled = ?, body = ? WHERE id = ?",
                (
                    fold(replaced.get("name")),
                    int(is_scheduled(replaced)),
                    dumps(replaced),
                    workflow_id,
                ),
            )
            return replaced

    def delete_workflow(self, workflow_id: str) -> bool:
        with self._write() as db:
            gone = db.execute("DELETE FROM workflows WHERE id = ?", (workflow_id,)).rowcount
            if gone:
                db.execute("DELETE FROM executions WHERE workflow_id = ?", (workflow_id,))
            return bool(gone)

    # --- executions --------------------------------------------------------------------------

    def add_execution(self, execution: JSONDict, fire_key: str | None = None) -> bool:
        with self._write() as db:
            return self._add_execution(db, execution, fire_key)

    @staticmethod
    def _add_execution(db: sqlite3.Connection, execution: JSONDict, fire_key: str | None) -> bool:
        workflow_id = execution.get("workflow_id")
        counted = db.execute(
            "UPDATE workflows SET log_count = log_count + 1 WHERE id = ?", (workflow_id,)
        ).rowcount
        if not counted:
            return False
        inserted = db.execute(
            "INSERT OR IGNORE INTO executions (id, workflow_id, started_key, fire_key, body)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                str(execution.get("id")),
                workflow_id,
                order_key(execution.get("started_at")),
                fire_key,
                dumps(execution),
            ),
        ).rowcount
        if not inserted:
            db.execute(
                "UPDATE workflows SET log_count = log_count - 1 WHERE id = ?", (workflow_id,)
            )
        return bool(inserted)

    def list_executions(self, workflow_id: str, offset: int, limit: int) -> Page | None:
        offset = clamp_offset(offset)
        with self._lock:
            row = self._db.execute(
                "SELECT log_count FROM workflows WHERE id = ?", (workflow_id,)
            ).fetchone()
            if row is None:
                return None
            rows = self._db.execute(
                "SELECT body FROM executions WHERE workflow_id = ?"
                " ORDER BY started_key DESC, seq DESC LIMIT ? OFFSET ?",
                (workflow_id, limit, offset),
            ).fetchall()
        return Page([loads(r[0]) for r in rows], int(row[0]))

    def scheduled_workflows(self) -> Iterator[JSONDict]:
        """Read in chunks by rowid (the partial index `workflows_scheduled` holds it), each
        under the lock for one short query: the scheduler decodes one chunk at a time."""
        after = -(2**63)
        while True:
            rows = self._rows(
                "SELECT rowid, body FROM workflows WHERE scheduled = 1 AND rowid > ?"
                " ORDER BY rowid LIMIT ?",
                (after, SCHEDULED_CHUNK),
            )
            for row in rows:
                yield loads(row[1])
            if len(rows) < SCHEDULED_CHUNK:
                return
            after = rows[-1][0]

    # --- credentials, snapshots, meta ----------------------------------------------------------

    def credential_ids(self) -> set[str]:
        return {r[0] for r in self._rows("SELECT id FROM credentials")}

    def snapshot(self) -> Snapshot:
        with self._lock:
            self._db.execute("BEGIN")  # one consistent read
            try:
                workflows = self._db.execute(
                    "SELECT body FROM workflows ORDER BY created_key, id"
                ).fetchall()
                executions = self._db.execute(
                    "SELECT body FROM executions ORDER BY started_key, seq"
                ).fetchall()
                credentials = self._db.execute(
                    "SELECT body FROM credentials ORDER BY rowid"
                ).fetchall()
            finally:
                self._db.execute("COMMIT")
        return Snapshot(
            [loads(r[0]) for r in workflows],
            [loads(r[0]) for r in executions],
            [loads(r[0]) for r in credentials],
        )

    def restore(self, snapshot: Snapshot) -> None:
        with self._write() as db:
            self._restore(db, snapshot)

    def _restore(self, db: sqlite3.Connection, snapshot: Snapshot) -> None:
        for table in ("executions", "workflows", "credentials"):
            db.execute(f"DELETE FROM {table}")
        for workflow in snapshot.workflows:
            self._insert(db, workflow)
        for execution in snapshot.executions:
            self._add_execution(db, execution, None)
        db.executemany(
            "INSERT OR REPLACE INTO credentials (id, body) VALUES (?, ?)",
            [(str(c.get("id")), dumps(c)) for c in snapshot.credentials],
        )

    def restore_once(self, snapshot: Snapshot, marker: str) -> bool:
        """Seed a new file once, even when several workers start on it at the same moment."""
        with self._write() as db:
            if db.execute("SELECT 1 FROM meta WHERE key = ?", (marker,)).fetchone():
                return False
            db.execute("INSERT INTO meta (key, value) VALUES (?, '1')", (marker,))
            self._restore(db, snapshot)
            return True

    def get_meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        with self._lock:
            self._db.close()
