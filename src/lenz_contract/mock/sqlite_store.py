"""The mock's state in a SQLite file (`--state FILE`): survives restarts, shared by workers.

WAL mode lets readers run while one worker writes; every write is one `BEGIN IMMEDIATE`
transaction, so concurrent requests (threads or uvicorn worker processes) never lose or
duplicate a write, and an acknowledged write survives a `kill -9` (the WAL is on disk before
the answer is sent). Scheduled fires carry a fire key unique per namespace (workflow id + fire
time), and a check claims its due workflows inside one immediate transaction, so two workers
never fire the same due time.

Every table carries the namespace (`ns`) first in its keys and indexes: one file holds every
namespace (`namespaces.py`), and one query finds each one's earliest due time.

Lists stay O(page): workflows are read through an index on (ns, created_at, id, folded name), a
search goes through an FTS5 trigram index of the folded names (`sqlite_search`, added to older
files when they are opened), and each workflow keeps its number of executions so a logs page
never counts a million rows. The scheduler reads only the workflows whose `next_due` has come
(a partial index on (ns, next_due)).

Versions: `PRAGMA user_version` is the schema's version. A file of version 0 with tables is one
written before namespaces (version 1's layout): it is rebuilt into this layout in one
transaction, its state becoming the `default` namespace. A file of a newer version than this
code knows is refused with a clear message (`StoreError`), never written to.

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
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from ..spec import jsontext
from .schedule import Planned, due_entry, due_key, fire_key, from_key, is_scheduled
from .sqlite_search import (
    INDEXED_FILTER,
    drop_search_index,
    ensure_search_index,
    search_filter,
)
from .store import (
    CLOCK_OFFSET_KEY,
    DEFAULT_NAMESPACE,
    INITIALIZED_MARKER,
    JSONDict,
    NamespaceInfo,
    OpenedStores,
    Page,
    Plan,
    Snapshot,
    StoreError,
    clamp_offset,
    fold,
    keyset_pages,
    offset_of,
    order_key,
    plan_due_row,
    replaced_workflow,
)
from .store import SEARCH_CACHE_SIZE as COUNT_CACHE_SIZE

SCHEDULED_CHUNK = 500
"""Workflows read per query of `scheduled_workflows` and of a due check."""
EXACT_MARK = b" "
"""The first byte of a stored document that must be read with `jsontext.loads` (see above)."""
SCHEMA_VERSION = 2


def dumps(document: JSONDict) -> bytes:
    text, needs_care = jsontext.write_json(document)
    return EXACT_MARK + text if needs_care else text


def loads(stored: bytes) -> Any:
    return jsontext.loads(stored) if stored[:1] == EXACT_MARK else orjson.loads(stored)


SCHEMA_V1 = """
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
"""The layout before namespaces (files of `user_version` 0): kept to read such files."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS namespaces (
    name TEXT PRIMARY KEY,
    floor TEXT
);
CREATE TABLE IF NOT EXISTS workflows (
    ns TEXT NOT NULL DEFAULT 'default',
    id TEXT NOT NULL,
    created_key TEXT NOT NULL,
    name_fold TEXT NOT NULL,
    scheduled INTEGER NOT NULL,
    log_count INTEGER NOT NULL DEFAULT 0,
    due_after TEXT,
    next_due TEXT,
    body BLOB NOT NULL,
    PRIMARY KEY (ns, id)
);
CREATE INDEX IF NOT EXISTS workflows_order ON workflows (ns, created_key, id, name_fold);
CREATE INDEX IF NOT EXISTS workflows_scheduled ON workflows (ns, scheduled) WHERE scheduled = 1;
CREATE INDEX IF NOT EXISTS workflows_due ON workflows (ns, next_due) WHERE next_due IS NOT NULL;
CREATE TABLE IF NOT EXISTS executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ns TEXT NOT NULL DEFAULT 'default',
    id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    started_key TEXT NOT NULL,
    fire_key TEXT,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS executions_by_workflow
    ON executions (ns, workflow_id, started_key, seq);
CREATE UNIQUE INDEX IF NOT EXISTS executions_fire_key
    ON executions (ns, fire_key) WHERE fire_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS credentials (
    ns TEXT NOT NULL DEFAULT 'default',
    id TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (ns, id)
);
CREATE TABLE IF NOT EXISTS meta (
    ns TEXT NOT NULL DEFAULT 'default',
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (ns, key)
);
"""

FROM_V1 = """
ALTER TABLE workflows RENAME TO workflows_v1;
ALTER TABLE executions RENAME TO executions_v1;
ALTER TABLE credentials RENAME TO credentials_v1;
ALTER TABLE meta RENAME TO meta_v1;
DROP INDEX IF EXISTS workflows_order;
DROP INDEX IF EXISTS workflows_scheduled;
DROP INDEX IF EXISTS executions_by_workflow;
DROP INDEX IF EXISTS workflows_with_nul;
{schema};
INSERT INTO workflows (ns, id, created_key, name_fold, scheduled, log_count, next_due, body)
    SELECT 'default', id, created_key, name_fold, scheduled, log_count,
           CASE WHEN scheduled = 1 THEN '' END, body
    FROM workflows_v1;
INSERT INTO executions (seq, ns, id, workflow_id, started_key, fire_key, body)
    SELECT seq, 'default', id, workflow_id, started_key, fire_key, body FROM executions_v1;
INSERT INTO credentials (ns, id, body) SELECT 'default', id, body FROM credentials_v1 ORDER BY rowid;
INSERT INTO meta (ns, key, value) SELECT 'default', key, value FROM meta_v1;
INSERT INTO namespaces (name) VALUES ('default');
DROP TABLE workflows_v1;
DROP TABLE executions_v1;
DROP TABLE credentials_v1;
DROP TABLE meta_v1
"""
"""Version 1 (no namespaces) to 2, in the open transaction: the state becomes `default`; a
scheduled workflow's next due time is worked out by the first check (`NOW_KEY`)."""


def _statements(script: str) -> list[str]:
    return [s for s in script.split(";") if s.strip()]


class SqliteFile:
    """One connection to one file per process, guarded by a lock, its schema checked (and
    migrated) on open; the namespaces' stores share it."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.lock = threading.RLock()
        self.writes = 0
        self.count_version: tuple[int, int] = (-1, -1)
        self.count_cache: dict[Any, Any] = {}
        self.db = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self.db.execute("PRAGMA busy_timeout = 30000")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        try:
            with self.write() as db:
                self._set_up(db)
                self.indexed = ensure_search_index(db)
        except BaseException:
            self.db.close()
            raise

    def _set_up(self, db: sqlite3.Connection) -> None:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} holds a state of schema version {version}, written by a newer "
                f"lenz-contract; this one knows up to version {SCHEMA_VERSION}: upgrade "
                "lenz-contract, or start with another --state file"
            )
        if version == SCHEMA_VERSION:
            return
        columns = {row[1] for row in db.execute("PRAGMA table_info(workflows)")}
        if columns and "ns" not in columns:  # version 1: before namespaces
            drop_search_index(db)
            for statement in _statements(FROM_V1.format(schema=SCHEMA)):
                db.execute(statement)
        else:
            for statement in _statements(SCHEMA):
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One immediate transaction: other writers wait (busy_timeout) instead of failing; a
        nested call joins the open one."""
        with self.lock:
            if self.db.in_transaction:
                yield self.db
                return
            self.db.execute("BEGIN IMMEDIATE")
            self.writes += 1
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self.lock:
            return self.db.execute(sql, params).fetchall()

    def cache(self) -> dict[Any, Any]:
        """Counts and search plans, kept until this or another connection writes.

        `PRAGMA data_version` moves when another connection (another worker) commits; the
        local counter covers this connection's own writes.
        """
        version = (self.db.execute("PRAGMA data_version").fetchone()[0], self.writes)
        if version != self.count_version:
            self.count_cache.clear()
            self.count_version = version
        elif len(self.count_cache) >= 2 * COUNT_CACHE_SIZE:
            self.count_cache.clear()
        return self.count_cache

    def close(self) -> None:
        with self.lock:
            self.db.close()


class SqliteStore:
    """One namespace of a SQLite file; see the module docstring.

    Given a path it opens the file itself (and closes it); the backend's stores share one
    `SqliteFile` per process.
    """

    shared = True
    offloaded = False

    def __init__(self, path: Path | str | SqliteFile, namespace: str = DEFAULT_NAMESPACE) -> None:
        self._owns = not isinstance(path, SqliteFile)
        self._file = path if isinstance(path, SqliteFile) else SqliteFile(path)
        self.path = self._file.path
        self.namespace = namespace
        self._lock = self._file.lock
        self._db = self._file.db
        self._indexed = self._file.indexed
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO namespaces (name) VALUES (?)", (namespace,))
            row = db.execute("SELECT floor FROM namespaces WHERE name = ?", (namespace,))
            floor = row.fetchone()[0]
        self._floor = from_key(floor)

    def _write(self) -> Any:
        return self._file.write()

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return self._file.rows(sql, params)

    # --- workflows ---------------------------------------------------------------------------

    def list_workflows(self, search: str, offset: int, limit: int) -> Page:
        offset = clamp_offset(offset)
        where = " WHERE ns = ?"
        params: tuple[str, ...] = (self.namespace,)
        with self._lock:
            if search:
                condition, needle = self._search_filter(fold(search))
                if condition == INDEXED_FILTER:  # `+ns`: drive from the trigram index's rows,
                    where = " WHERE +ns = ?"  # not from a scan of the namespace's order index
                where, params = where + condition, params + needle
            total = self._count(where, params)
            rows = self._db.execute(
                f"SELECT body FROM workflows{where} ORDER BY created_key, id LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return Page([loads(row[0]) for row in rows], int(total))

    def _count(self, where: str, params: tuple[str, ...]) -> int:
        """`COUNT(*)` of a list (cached until a write, `SqliteFile.cache`)."""
        cache = self._file.cache()
        key = ("count", where, params)
        if key not in cache:
            sql = f"SELECT COUNT(*) FROM workflows{where}"
            cache[key] = int(self._db.execute(sql, params).fetchone()[0])
        found: int = cache[key]
        return found

    def _search_filter(self, needle: str) -> tuple[str, tuple[str, ...]]:
        """How to select the names holding `needle` (`sqlite_search.search_filter`, cached)."""
        cache = self._file.cache()
        key = ("plan", needle)
        if key not in cache:
            # max(rowid) is O(log n) and about the number of workflows: enough to choose by
            workflows = self._db.execute("SELECT max(rowid) FROM workflows").fetchone()[0] or 0
            cache[key] = search_filter(self._db, needle, self._indexed, workflows)
        plan: tuple[str, tuple[str, ...]] = cache[key]
        return plan

    def get_workflow(self, workflow_id: str) -> JSONDict | None:
        rows = self._rows(
            "SELECT body FROM workflows WHERE ns = ? AND id = ?", (self.namespace, workflow_id)
        )
        return loads(rows[0][0]) if rows else None

    def insert_workflow(self, workflow: JSONDict) -> None:
        with self._write() as db:
            self._insert(db, workflow)

    def _insert(self, db: sqlite3.Connection, workflow: JSONDict) -> None:
        due_after, next_due = due_entry(workflow, self._floor)
        db.execute(
            "INSERT INTO workflows (ns, id, created_key, name_fold, scheduled, due_after, next_due,"
            " body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.namespace,
                workflow["id"],
                order_key(workflow.get("created_at")),
                fold(workflow.get("name")),
                int(is_scheduled(workflow)),
                due_after,
                next_due,
                dumps(workflow),
            ),
        )

    def replace_workflow(
        self, workflow_id: str, fields: JSONDict, updated_at: str
    ) -> JSONDict | None:
        with self._write() as db:
            row = db.execute(
                "SELECT body FROM workflows WHERE ns = ? AND id = ?", (self.namespace, workflow_id)
            ).fetchone()
            if row is None:
                return None
            replaced = replaced_workflow(loads(row[0]), fields, updated_at)
            due_after, next_due = due_entry(replaced, self._floor)
            db.execute(
                "UPDATE workflows SET name_fold = ?, scheduled = ?, due_after = ?, next_due = ?,"
                " body = ? WHERE ns = ? AND id = ?",
                (
                    fold(replaced.get("name")),
                    int(is_scheduled(replaced)),
                    due_after,
                    next_due,
                    dumps(replaced),
                    self.namespace,
                    workflow_id,
                ),
            )
            return replaced

    def delete_workflow(self, workflow_id: str) -> bool:
        key = (self.namespace, workflow_id)
        with self._write() as db:
            gone = db.execute("DELETE FROM workflows WHERE ns = ? AND id = ?", key).rowcount
            if gone:
                db.execute("DELETE FROM executions WHERE ns = ? AND workflow_id = ?", key)
            return bool(gone)

    # --- executions --------------------------------------------------------------------------

    def add_execution(self, execution: JSONDict, fire_key: str | None = None) -> bool:
        with self._write() as db:
            return self._add_execution(db, execution, fire_key)

    def _add_execution(
        self, db: sqlite3.Connection, execution: JSONDict, fire_key: str | None
    ) -> bool:
        workflow_id = execution.get("workflow_id")
        counted = db.execute(
            "UPDATE workflows SET log_count = log_count + 1 WHERE ns = ? AND id = ?",
            (self.namespace, workflow_id),
        ).rowcount
        if not counted:
            return False
        inserted = db.execute(
            "INSERT OR IGNORE INTO executions (ns, id, workflow_id, started_key, fire_key, body)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                self.namespace,
                str(execution.get("id")),
                workflow_id,
                order_key(execution.get("started_at")),
                fire_key,
                dumps(execution),
            ),
        ).rowcount
        if not inserted:
            db.execute(
                "UPDATE workflows SET log_count = log_count - 1 WHERE ns = ? AND id = ?",
                (self.namespace, workflow_id),
            )
        return bool(inserted)

    def list_executions(self, workflow_id: str, offset: int, limit: int) -> Page | None:
        offset = clamp_offset(offset)
        with self._lock:
            row = self._db.execute(
                "SELECT log_count FROM workflows WHERE ns = ? AND id = ?",
                (self.namespace, workflow_id),
            ).fetchone()
            if row is None:
                return None
            rows = self._db.execute(
                "SELECT body FROM executions WHERE ns = ? AND workflow_id = ?"
                " ORDER BY started_key DESC, seq DESC LIMIT ? OFFSET ?",
                (self.namespace, workflow_id, limit, offset),
            ).fetchall()
        return Page([loads(r[0]) for r in rows], int(row[0]))

    def scheduled_workflows(self) -> Iterator[JSONDict]:
        """Read in chunks by rowid (the partial index `workflows_scheduled` holds it), each
        under the lock for one short query."""
        rows = keyset_pages(
            lambda after: self._rows(
                "SELECT rowid, body FROM workflows WHERE ns = ? AND scheduled = 1 AND rowid > ?"
                " ORDER BY rowid LIMIT ?",
                (self.namespace, after, SCHEDULED_CHUNK),
            ),
            -(2**63),
            SCHEDULED_CHUNK,
        )
        return (loads(row[1]) for row in rows)

    # --- the scheduler's due index -------------------------------------------------------------

    def fire_due(
        self, now: datetime, plan: Plan, *, clock_offset: float | None = None, wait: bool = True
    ) -> list[Planned] | None:
        """In one immediate transaction (every other writer, in any worker, waits): record the
        clock move, read the due workflows by the `workflows_due` index, record their runs and
        move their next due times."""
        done: list[Planned] = []
        now_key = due_key(now)
        with self._write() as db:
            if clock_offset is not None:
                stored = self._meta(db, CLOCK_OFFSET_KEY)
                value = repr(max(offset_of(stored), clock_offset))
                self._set_meta(db, CLOCK_OFFSET_KEY, value)
            floor = db.execute(
                "SELECT floor FROM namespaces WHERE name = ?", (self.namespace,)
            ).fetchone()
            floor_key = floor[0] if floor else None
            while True:
                rows = db.execute(
                    "SELECT id, body, due_after FROM workflows WHERE ns = ?"
                    " AND next_due IS NOT NULL AND next_due <= ? ORDER BY next_due LIMIT ?",
                    (self.namespace, now_key, SCHEDULED_CHUNK),
                ).fetchall()
                for workflow_id, body, due_after in rows:
                    planned = plan_due_row(plan, loads(body), due_after, floor_key, now)
                    for fire_time, execution in planned.fires:
                        key = fire_key(workflow_id, fire_time)
                        self._add_execution(db, execution, key)
                    db.execute(
                        "UPDATE workflows SET due_after = ?, next_due = ? WHERE ns = ? AND id = ?",
                        (now_key, planned.next_due, self.namespace, workflow_id),
                    )
                    done.append(planned)
                if len(rows) < SCHEDULED_CHUNK:
                    return done

    def next_due(self) -> str | None:
        rows = self._rows(
            "SELECT min(next_due) FROM workflows WHERE ns = ? AND next_due IS NOT NULL",
            (self.namespace,),
        )
        found = rows[0][0] if rows else None
        return str(found) if found is not None else None

    def raise_floor(self, floor: datetime) -> None:
        key = due_key(floor)
        with self._write() as db:
            db.execute(
                "UPDATE namespaces SET floor = ? WHERE name = ? AND (floor IS NULL OR floor < ?)",
                (key, self.namespace, key),
            )
            row = db.execute("SELECT floor FROM namespaces WHERE name = ?", (self.namespace,))
            self._floor = from_key(row.fetchone()[0])

    # --- credentials, snapshots, meta ----------------------------------------------------------

    def credential_ids(self) -> set[str]:
        return {
            r[0] for r in self._rows("SELECT id FROM credentials WHERE ns = ?", (self.namespace,))
        }

    def snapshot(self) -> Snapshot:
        ns = (self.namespace,)
        with self._lock:
            self._db.execute("BEGIN")  # one consistent read
            try:
                workflows = self._db.execute(
                    "SELECT body FROM workflows WHERE ns = ? ORDER BY created_key, id", ns
                ).fetchall()
                executions = self._db.execute(
                    "SELECT body FROM executions WHERE ns = ? ORDER BY started_key, seq", ns
                ).fetchall()
                credentials = self._db.execute(
                    "SELECT body FROM credentials WHERE ns = ? ORDER BY rowid", ns
                ).fetchall()
            finally:
                self._db.execute("COMMIT")
        return Snapshot(
            [loads(r[0]) for r in workflows],
            [loads(r[0]) for r in executions],
            [loads(r[0]) for r in credentials],
        )

    def restore(self, snapshot: Snapshot, floor: datetime | None = None) -> None:
        with self._write() as db:
            self._restore(db, snapshot, floor)

    def _restore(self, db: sqlite3.Connection, snapshot: Snapshot, floor: datetime | None) -> None:
        if floor is not None:
            db.execute(
                "UPDATE namespaces SET floor = ? WHERE name = ?", (due_key(floor), self.namespace)
            )
            self._floor = floor
        for table in ("executions", "workflows", "credentials"):
            db.execute(f"DELETE FROM {table} WHERE ns = ?", (self.namespace,))
        for workflow in snapshot.workflows:
            self._insert(db, workflow)
        for execution in snapshot.executions:
            self._add_execution(db, execution, None)
        db.executemany(
            "INSERT OR REPLACE INTO credentials (ns, id, body) VALUES (?, ?, ?)",
            [(self.namespace, str(c.get("id")), dumps(c)) for c in snapshot.credentials],
        )

    def restore_once(self, snapshot: Snapshot, marker: str, floor: datetime | None = None) -> bool:
        """Seed a new namespace once, even when several workers start on it at the same moment."""
        with self._write() as db:
            if self._meta(db, marker) is not None:
                return False
            self._set_meta(db, marker, "1")
            self._restore(db, snapshot, floor)
            return True

    def _meta(self, db: sqlite3.Connection, key: str) -> str | None:
        row = db.execute(
            "SELECT value FROM meta WHERE ns = ? AND key = ?", (self.namespace, key)
        ).fetchone()
        return str(row[0]) if row else None

    def _set_meta(self, db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute(
            "INSERT OR REPLACE INTO meta (ns, key, value) VALUES (?, ?, ?)",
            (self.namespace, key, value),
        )

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            return self._meta(self._db, key)

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as db:
            self._set_meta(db, key, value)

    def close(self) -> None:
        if self._owns:
            self._file.close()


class SqliteBackend(OpenedStores[SqliteStore]):
    """Every namespace in one SQLite file, one connection per process."""

    shared = True
    offloaded = False

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.file = SqliteFile(path)

    def make(self, namespace: str, seed: Snapshot, floor: datetime) -> SqliteStore:
        store = SqliteStore(self.file, namespace)
        store.restore_once(seed, INITIALIZED_MARKER, floor)
        return store

    def names(self) -> set[str]:
        return {str(row[0]) for row in self.file.rows("SELECT name FROM namespaces")}

    def drop(self, namespace: str) -> bool:
        """One write transaction: the namespace's rows of every table, then its name."""
        self.forget(namespace)
        with self.file.write() as db:
            for table in ("executions", "workflows", "credentials", "meta"):
                db.execute(f"DELETE FROM {table} WHERE ns = ?", (namespace,))
            gone = db.execute("DELETE FROM namespaces WHERE name = ?", (namespace,)).rowcount
        return gone > 0

    def namespaces(self) -> list[NamespaceInfo]:
        rows = self.file.rows(
            "SELECT n.name, (SELECT count(*) FROM workflows w WHERE w.ns = n.name), m.value"
            " FROM namespaces n LEFT JOIN meta m ON m.ns = n.name AND m.key = ?"
            " ORDER BY n.name",
            (CLOCK_OFFSET_KEY,),
        )
        return [NamespaceInfo(str(r[0]), int(r[1]), offset_of(r[2])) for r in rows]

    def pending(self) -> dict[str, tuple[float, str]]:
        """One query: each namespace's earliest next due time (one probe of `workflows_due`
        per namespace) and its clock offset."""
        rows = self.file.rows(
            "SELECT n.name, m.value, (SELECT min(w.next_due) FROM workflows w"
            " WHERE w.ns = n.name AND w.next_due IS NOT NULL)"
            " FROM namespaces n LEFT JOIN meta m ON m.ns = n.name AND m.key = ?",
            (CLOCK_OFFSET_KEY,),
        )
        return {str(r[0]): (offset_of(r[1]), str(r[2])) for r in rows if r[2] is not None}

    def close(self) -> None:
        self.file.close()
