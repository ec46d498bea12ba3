"""The mock's state in PostgreSQL (`--state postgresql://USER@HOST:PORT/DB`): shared by replicas.

Why: past one machine, several mock processes (replicas behind a load balancer, each maybe with
workers) must share one state: what one writes, every other reads at once, a scheduled fire
happens once across all of them, and a `kill -9` of one loses nothing it acknowledged. That is
a database server's job, so the state lives in one.

How each promise is kept:
- Every API write is one statement or one transaction, committed before the answer is sent
  (autocommit, `synchronous_commit` as the server has it): a killed replica loses only what it
  never acknowledged.
- Reads see every committed write (READ COMMITTED); a page and its total come from one
  statement, so they agree.
- The scheduler's check (`fire_due`) takes the namespace's advisory lock for its transaction
  (a background check skips a namespace another replica holds; a clock move waits for it), reads
  the due workflows by the `workflows_due` index with `FOR UPDATE SKIP LOCKED`, records their runs
  (a unique `(ns, fire_key)` refuses a second copy of one fire) and moves their `next_due` in the
  same transaction. A replica killed half way rolls back; the next check fires it.
- Search: the folded name (`store.fold`, Python's `casefold()`) is stored in `name_fold` and
  indexed with pg_trgm (GIN, `gin_trgm_ops`); `LIKE '%needle%'` on it reads the trigram index
  and PostgreSQL rechecks each candidate, so the answer is the exact substring rule. PostgreSQL
  text cannot hold NUL: it is stored as U+FFFF, and the rare needle holding either is answered
  from the index's candidates with the exact rule in Python (`_search_exactly`).
- Orders compare bytes (`COLLATE "C"`), as Python compares strings.
- Waits are bounded: the pool hands a connection within `POOL_WAIT` seconds, a statement runs at
  most `STATEMENT_TIMEOUT` ms, a connection attempt `CONNECT_TIMEOUT` s. When the database is
  lost, calls raise `StoreUnavailable` (the server answers 503); after one failure, calls fail at
  once except one probe every `PROBE_INTERVAL` s, which reconnects when the database is back.

Schema versions: `lenz_schema` holds the version. A new database is created at the current
version; an older one is migrated in one transaction under an advisory lock (two replicas
starting together migrate once); a newer one is refused with a clear message, never written to.
Version 1: namespaces, workflows, executions, credentials, meta and the trigram index.
Version 2: each workflow's `due_after` / `next_due` and their index (the scheduler's due index);
rows from version 1 are due at once (`NOW_KEY`), so the first check works out their schedule.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from .database_url import scrub, target
from .schedule import NOW_KEY, Planned, due_entry, due_key, fire_key, from_key, is_scheduled
from .sqlite_store import dumps, loads
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
    StoreUnavailable,
    clamp_offset,
    fold,
    keyset_pages,
    offset_of,
    order_key,
    plan_due_row,
    replaced_workflow,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
SCHEMA_VERSION = 3
CONNECT_TIMEOUT = 5
"""Seconds a connection attempt may take (libpq's `connect_timeout`)."""
POOL_WAIT = 5.0
"""Seconds a request waits for a pooled connection before a 503."""
STATEMENT_TIMEOUT = 5000
"""Milliseconds one statement may run (and wait for a lock) before a 503."""
LONG_STATEMENT = "600s"
"""An import, a seed or a migration: one transaction that may write a million rows."""
PROBE_INTERVAL = 0.5
"""After a lost database, one call in this many seconds tries again; the others fail at once."""
CHUNK = 500
"""Due workflows claimed per statement of a check."""
COUNT_SHARDS = 32
"""Rows each namespace's workflow count is spread over (see `MIGRATIONS`, version 3)."""
SCHEMA_LOCK = 0x4C454E5A  # "LENZ": one advisory lock for schema creation and migrations
NUL_STAND_IN = "\uffff"
"""PostgreSQL text cannot hold U+0000; `name_fold` stores U+FFFF for it (see the module)."""

MIGRATIONS: dict[int, str | tuple[str, ...]] = {
    1: """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE namespaces (
    name text COLLATE "C" PRIMARY KEY,
    floor text COLLATE "C",
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE workflows (
    ns text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    created_key text COLLATE "C" NOT NULL,
    name_fold text COLLATE "C" NOT NULL,
    scheduled boolean NOT NULL,
    log_count bigint NOT NULL DEFAULT 0,
    body bytea NOT NULL,
    PRIMARY KEY (ns, id)
);
CREATE INDEX workflows_order ON workflows (ns, created_key, id);
CREATE INDEX workflows_name_trgm ON workflows USING gin (name_fold gin_trgm_ops);
CREATE TABLE executions (
    ns text COLLATE "C" NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    id text NOT NULL,
    workflow_id text COLLATE "C" NOT NULL,
    started_key text COLLATE "C" NOT NULL,
    fire_key text COLLATE "C",
    body bytea NOT NULL,
    PRIMARY KEY (ns, seq)
);
CREATE INDEX executions_by_workflow ON executions (ns, workflow_id, started_key, seq);
CREATE UNIQUE INDEX executions_fire_key ON executions (ns, fire_key) WHERE fire_key IS NOT NULL;
CREATE TABLE credentials (
    ns text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    position bigint GENERATED ALWAYS AS IDENTITY,
    body bytea NOT NULL,
    PRIMARY KEY (ns, id)
);
CREATE TABLE meta (
    ns text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (ns, key)
)
""",
    2: f"""
ALTER TABLE workflows ADD COLUMN due_after text COLLATE "C", ADD COLUMN next_due text COLLATE "C";
CREATE INDEX workflows_due ON workflows (ns, next_due) WHERE next_due IS NOT NULL;
UPDATE workflows SET next_due = '{NOW_KEY}' WHERE scheduled
""",
    3: (
        'CREATE TABLE workflow_counts (ns text COLLATE "C" NOT NULL, shard smallint NOT NULL,'
        " n bigint NOT NULL, PRIMARY KEY (ns, shard))",
        "INSERT INTO workflow_counts (ns, shard, n) SELECT ns, 0, count(*) FROM workflows"
        " GROUP BY ns",
        f"""CREATE FUNCTION lenz_count_added() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    INSERT INTO workflow_counts AS c (ns, shard, n)
    SELECT ns, floor(random() * {COUNT_SHARDS})::smallint, count(*) FROM added GROUP BY ns
    ON CONFLICT (ns, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$""",
        f"""CREATE FUNCTION lenz_count_removed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    INSERT INTO workflow_counts AS c (ns, shard, n)
    SELECT ns, floor(random() * {COUNT_SHARDS})::smallint, -count(*) FROM removed GROUP BY ns
    ON CONFLICT (ns, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$""",
        "CREATE TRIGGER workflows_count_added AFTER INSERT ON workflows"
        " REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION lenz_count_added()",
        "CREATE TRIGGER workflows_count_removed AFTER DELETE ON workflows"
        " REFERENCING OLD TABLE AS removed FOR EACH STATEMENT"
        " EXECUTE FUNCTION lenz_count_removed()",
    ),
}
"""Each version's DDL, applied in order from the database's version to `SCHEMA_VERSION`: a
text of statements split at `;`, or (where a function body holds `;`) the statements.

Version 3 keeps each namespace's number of workflows in `workflow_counts`, by triggers, so
that every path that writes rows (a create, a delete, an import's COPY) keeps it: a list
read `count(*)` over the namespace's rows before, 14.7 ms a request at 100,000 workflows.
The count is spread over `COUNT_SHARDS` rows (a write adds to a random one, a list sums
them) so that parallel creates do not queue on one row lock until their commits."""


def program_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lenz-contract")
    except PackageNotFoundError:
        return "unknown"


def pg_text(folded: str) -> str:
    return folded.replace("\x00", NUL_STAND_IN)


def like_pattern(needle: str) -> str:
    """`%needle%` with LIKE's own characters taken literally (backslash is LIKE's escape)."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _reason(exc: BaseException, url: str) -> str:
    return scrub(str(exc) or type(exc).__name__, url)


def migrate(conn: psycopg.Connection[Any], url: str, upto: int = SCHEMA_VERSION) -> int:
    """Create or migrate the schema to version `upto` (inside one transaction, under the
    schema lock); returns the version found. Raises `StoreError` on a newer schema or a
    database that holds other tables of ours' names."""
    with conn.transaction():
        conn.execute(f"SET LOCAL statement_timeout = '{LONG_STATEMENT}'")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        found = conn.execute("SELECT to_regclass('lenz_schema')").fetchone()
        if found is None or found[0] is None:
            other = conn.execute("SELECT to_regclass('workflows')").fetchone()
            if other is not None and other[0] is not None:
                raise StoreError(
                    f"PostgreSQL at {target(url)} has a `workflows` table but no `lenz_schema`:"
                    " it is not a lenz-contract mock database; use an empty database"
                )
            conn.execute(
                "CREATE TABLE lenz_schema (single boolean PRIMARY KEY DEFAULT true CHECK (single),"
                " version integer NOT NULL, written_by text NOT NULL,"
                " updated_at timestamptz NOT NULL DEFAULT now())"
            )
            conn.execute(
                "INSERT INTO lenz_schema (version, written_by) VALUES (0, %s)", (program_version(),)
            )
        row = conn.execute("SELECT version, written_by FROM lenz_schema").fetchone()
        version, written_by = (int(row[0]), str(row[1])) if row else (0, "?")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"PostgreSQL at {target(url)} holds a mock state of schema version {version} "
                f"(written by lenz-contract {written_by}); this lenz-contract "
                f"({program_version()}) knows versions up to {SCHEMA_VERSION}: upgrade "
                "lenz-contract, or use another database. Nothing was changed."
            )
        for step in range(version + 1, upto + 1):
            ddl = MIGRATIONS[step]
            for statement in ddl if isinstance(ddl, tuple) else ddl.split(";"):
                if statement.strip():
                    conn.execute(statement.encode())
            conn.execute(
                "UPDATE lenz_schema SET version = %s, written_by = %s, updated_at = now()",
                (step, program_version()),
            )
            if version > 0:
                logger.warning("migrated the mock's database from version %d to %d", step - 1, step)
        return version


class PostgresDatabase:
    """The connection pool of one database, its schema checked (and migrated) on open, and the
    circuit that turns a lost database into prompt 503s instead of waits."""

    def __init__(self, url: str, pool_size: int = 16) -> None:
        self.url = url
        self.target = target(url)
        self._options = {
            "autocommit": True,
            "connect_timeout": CONNECT_TIMEOUT,
            "application_name": "lenz-contract-mock",
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT}"
            f" -c lock_timeout={STATEMENT_TIMEOUT} -c idle_in_transaction_session_timeout=60000",
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        }
        try:
            with psycopg.connect(url, **self._options) as conn:  # type: ignore[arg-type]
                migrate(conn, url)
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL at {self.target}: {_reason(exc, url)}") from None
        self._size = pool_size
        self._lock = threading.Lock()
        self._down: str | None = None  # the reason, while the database is lost
        self._last_probe = 0.0
        self.pool = self._new_pool()

    def _new_pool(self) -> ConnectionPool:
        return ConnectionPool(
            self.url,
            min_size=1,
            max_size=self._size,
            kwargs=self._options,
            timeout=POOL_WAIT,
            reconnect_timeout=POOL_WAIT * 2,
            name="lenz-mock",
            open=True,
        )

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection; any loss of the database becomes `StoreUnavailable`."""
        self._pass_circuit()
        conn: psycopg.Connection[Any] | None = None
        try:
            with self.pool.connection(timeout=POOL_WAIT) as conn:
                yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            reason = _reason(exc, self.url)
            if isinstance(exc, PoolTimeout) or conn is None or conn.broken or conn.closed:
                self._trip(reason)
            raise StoreUnavailable(
                f"the mock's database ({self.target}) is unavailable: {reason}"
            ) from None
        if self._down is not None:
            self._recovered()

    def _pass_circuit(self) -> None:
        """While the database is lost: fail at once, but let one probe through now and then;
        a probe that connects replaces the pool (whose own reconnection backs off)."""
        if self._down is None:
            return
        with self._lock:
            reason = self._down
            if reason is None:
                return
            if time.monotonic() - self._last_probe < PROBE_INTERVAL:
                raise StoreUnavailable(
                    f"the mock's database ({self.target}) is unavailable: {reason}"
                )
            self._last_probe = time.monotonic()
            try:
                probe = psycopg.connect(self.url, **{**self._options, "connect_timeout": 2})  # type: ignore[arg-type]
            except psycopg.Error as exc:
                self._down = _reason(exc, self.url)
                raise StoreUnavailable(
                    f"the mock's database ({self.target}) is unavailable: {self._down}"
                ) from None
            probe.close()
            old, self.pool = self.pool, self._new_pool()
            self._down = None
        logger.warning("the mock's database (%s) is back", self.target)
        threading.Thread(target=old.close, kwargs={"timeout": 1}, daemon=True).start()

    def _trip(self, reason: str) -> None:
        with self._lock:
            if self._down is None:
                logger.warning("the mock's database (%s) is unavailable: %s", self.target, reason)
                self._last_probe = time.monotonic()
            self._down = reason

    def _recovered(self) -> None:
        with self._lock:
            self._down = None

    def run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        with self.connection() as conn:
            return work(conn)

    def close(self) -> None:
        self.pool.close(timeout=2)


def _lock_key(namespace: str) -> str:
    return f"lenz-mock-schedule:{namespace}"


PAGE_SQL = """
SELECT t.total, p.body FROM ({total}) t
LEFT JOIN LATERAL (
    SELECT body, created_key, id FROM workflows WHERE {where}
    ORDER BY created_key, id LIMIT %(limit)s OFFSET %(offset)s
) p ON true
ORDER BY p.created_key, p.id
"""
"""A page and the total of the same list, from one statement (one snapshot: they agree)."""
COUNTED_TOTAL = "SELECT coalesce(sum(n), 0) AS total FROM workflow_counts WHERE ns = %(ns)s"
"""The total of a list without a search: the namespace's kept count."""
MATCHED_TOTAL = "SELECT count(*) AS total FROM workflows WHERE {where}"

ADD_EXECUTION_SQL = """
WITH w AS (
    SELECT id FROM workflows WHERE ns = %(ns)s AND id = %(workflow_id)s FOR UPDATE
), added AS (
    INSERT INTO executions (ns, id, workflow_id, started_key, fire_key, body)
    SELECT %(ns)s, %(id)s, w.id, %(started_key)s, %(fire_key)s, %(body)s FROM w
    ON CONFLICT (ns, fire_key) WHERE fire_key IS NOT NULL DO NOTHING
    RETURNING workflow_id
)
UPDATE workflows SET log_count = log_count + 1
WHERE ns = %(ns)s AND id IN (SELECT workflow_id FROM added) RETURNING 1
"""
"""One statement: the run is recorded and counted only if its workflow is there (locked, so a
concurrent delete waits and takes the run with it) and its fire key is new."""


class PostgresStore:
    """One namespace of a PostgreSQL database; see the module docstring.

    Given a URL it opens the database itself (and closes it); the backend's stores share one
    `PostgresDatabase` per process.
    """

    shared = True
    offloaded = True

    def __init__(
        self, database: PostgresDatabase | str, namespace: str = DEFAULT_NAMESPACE
    ) -> None:
        self._owns = not isinstance(database, PostgresDatabase)
        self._db = (
            database if isinstance(database, PostgresDatabase) else PostgresDatabase(database)
        )
        self.namespace = namespace
        self._floor: datetime | None = None

        def ensure(conn: psycopg.Connection[Any]) -> str | None:
            conn.execute(
                "INSERT INTO namespaces (name) VALUES (%s) ON CONFLICT DO NOTHING", (namespace,)
            )
            row = conn.execute("SELECT floor FROM namespaces WHERE name = %s", (namespace,))
            found = row.fetchone()
            return str(found[0]) if found and found[0] is not None else None

        self._floor = from_key(self._db.run(ensure))

    def _one(self, sql: str, params: Any = ()) -> Any:
        with self._db.connection() as conn:
            return conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Any = ()) -> list[Any]:
        with self._db.connection() as conn:
            return conn.execute(sql, params).fetchall()

    # --- workflows ---------------------------------------------------------------------------

    def list_workflows(self, search: str, offset: int, limit: int) -> Page:
        offset = clamp_offset(offset)
        params: dict[str, Any] = {"ns": self.namespace, "limit": limit, "offset": offset}
        where = "ns = %(ns)s"
        if search:
            needle = fold(search)
            if "\x00" in needle or NUL_STAND_IN in needle:
                return self._search_exactly(needle, offset, limit)
            where += " AND name_fold LIKE %(pattern)s"
            params["pattern"] = like_pattern(needle)
        total_sql = MATCHED_TOTAL.format(where=where) if search else COUNTED_TOTAL
        rows = self._all(PAGE_SQL.format(total=total_sql, where=where), params)
        total = int(rows[0][0]) if rows else 0
        return Page([loads(r[1]) for r in rows if r[1] is not None], total)

    def _search_exactly(self, needle: str, offset: int, limit: int) -> Page:
        """A needle holding U+0000 or U+FFFF: the trigram index's candidates (a superset: the
        stand-in maps U+0000 to U+FFFF), checked with the exact rule on the real name."""
        rows = self._all(
            "SELECT body FROM workflows WHERE ns = %s AND name_fold LIKE %s"
            " ORDER BY created_key, id",
            (self.namespace, like_pattern(pg_text(needle))),
        )
        hits = [w for w in (loads(r[0]) for r in rows) if needle in fold(w.get("name"))]
        return Page(hits[offset : offset + limit], len(hits))

    def get_workflow(self, workflow_id: str) -> JSONDict | None:
        if "\x00" in workflow_id:
            return None  # no stored id can hold it
        row = self._one(
            "SELECT body FROM workflows WHERE ns = %s AND id = %s", (self.namespace, workflow_id)
        )
        return loads(row[0]) if row else None

    def _row(self, workflow: JSONDict) -> tuple[Any, ...]:
        due_after, next_due = due_entry(workflow, self._floor)
        return (
            self.namespace,
            workflow["id"],
            order_key(workflow.get("created_at")),
            pg_text(fold(workflow.get("name"))),
            is_scheduled(workflow),
            due_after,
            next_due,
            dumps(workflow),
        )

    def insert_workflow(self, workflow: JSONDict) -> None:
        row = self._row(workflow)
        with self._db.connection() as conn:
            conn.execute(
                "INSERT INTO workflows (ns, id, created_key, name_fold, scheduled, due_after,"
                " next_due, body) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                row,
            )

    def replace_workflow(
        self, workflow_id: str, fields: JSONDict, updated_at: str
    ) -> JSONDict | None:
        if "\x00" in workflow_id:
            return None
        with self._db.connection() as conn, conn.transaction():
            row = conn.execute(
                "SELECT body FROM workflows WHERE ns = %s AND id = %s FOR UPDATE",
                (self.namespace, workflow_id),
            ).fetchone()
            if row is None:
                return None
            replaced = replaced_workflow(loads(row[0]), fields, updated_at)
            due_after, next_due = due_entry(replaced, self._floor)
            conn.execute(
                "UPDATE workflows SET name_fold = %s, scheduled = %s, due_after = %s,"
                " next_due = %s, body = %s WHERE ns = %s AND id = %s",
                (
                    pg_text(fold(replaced.get("name"))),
                    is_scheduled(replaced),
                    due_after,
                    next_due,
                    dumps(replaced),
                    self.namespace,
                    workflow_id,
                ),
            )
            return replaced

    def delete_workflow(self, workflow_id: str) -> bool:
        if "\x00" in workflow_id:
            return False
        row = self._one(
            "WITH gone AS (DELETE FROM workflows WHERE ns = %(ns)s AND id = %(id)s RETURNING id),"
            " runs AS (DELETE FROM executions WHERE ns = %(ns)s"
            " AND workflow_id IN (SELECT id FROM gone))"
            " SELECT count(*) FROM gone",
            {"ns": self.namespace, "id": workflow_id},
        )
        return bool(row and row[0])

    # --- executions --------------------------------------------------------------------------

    def _execution_params(self, execution: JSONDict, key: str | None) -> dict[str, Any]:
        return {
            "ns": self.namespace,
            "id": str(execution.get("id")),
            "workflow_id": str(execution.get("workflow_id")),
            "started_key": order_key(execution.get("started_at")),
            "fire_key": key,
            "body": dumps(execution),
        }

    def add_execution(self, execution: JSONDict, fire_key: str | None = None) -> bool:
        workflow_id = execution.get("workflow_id")
        if not isinstance(workflow_id, str) or "\x00" in workflow_id:
            return False
        row = self._one(ADD_EXECUTION_SQL, self._execution_params(execution, fire_key))
        return row is not None

    def list_executions(self, workflow_id: str, offset: int, limit: int) -> Page | None:
        if "\x00" in workflow_id:
            return None
        rows = self._all(
            "SELECT w.log_count, e.body FROM workflows w LEFT JOIN LATERAL ("
            " SELECT body, started_key, seq FROM executions"
            " WHERE ns = w.ns AND workflow_id = w.id"
            " ORDER BY started_key DESC, seq DESC LIMIT %s OFFSET %s) e ON true"
            " WHERE w.ns = %s AND w.id = %s ORDER BY e.started_key DESC, e.seq DESC",
            (limit, clamp_offset(offset), self.namespace, workflow_id),
        )
        if not rows:
            return None
        return Page([loads(r[1]) for r in rows if r[1] is not None], int(rows[0][0]))

    def scheduled_workflows(self) -> Iterator[JSONDict]:
        rows = keyset_pages(
            lambda after: self._all(
                "SELECT id, body FROM workflows WHERE ns = %s AND scheduled AND id > %s"
                " ORDER BY id LIMIT %s",
                (self.namespace, after, CHUNK),
            ),
            "",
            CHUNK,
        )
        return (loads(row[1]) for row in rows)

    # --- the scheduler's due index -------------------------------------------------------------

    def fire_due(
        self, now: datetime, plan: Plan, *, clock_offset: float | None = None, wait: bool = True
    ) -> list[Planned] | None:
        """One transaction under the namespace's advisory lock; see the module docstring."""
        now_key = due_key(now)
        done: list[Planned] = []
        with self._db.connection() as conn, conn.transaction():
            lock = _lock_key(self.namespace)
            if wait:
                conn.execute(f"SET LOCAL statement_timeout = '{LONG_STATEMENT}'")
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (lock,))
            else:
                got = conn.execute(
                    "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", (lock,)
                ).fetchone()
                if not got or not got[0]:
                    return None  # another replica is firing this namespace right now
            if clock_offset is not None:
                stored = conn.execute(
                    "SELECT value FROM meta WHERE ns = %s AND key = %s FOR UPDATE",
                    (self.namespace, CLOCK_OFFSET_KEY),
                ).fetchone()
                value = repr(max(offset_of(stored[0] if stored else None), clock_offset))
                self._set_meta(conn, CLOCK_OFFSET_KEY, value)
            floor = conn.execute(
                "SELECT floor FROM namespaces WHERE name = %s", (self.namespace,)
            ).fetchone()
            floor_key = floor[0] if floor else None
            while True:
                rows = conn.execute(
                    "SELECT id, body, due_after FROM workflows WHERE ns = %s"
                    " AND next_due IS NOT NULL AND next_due <= %s ORDER BY next_due LIMIT %s"
                    " FOR UPDATE SKIP LOCKED",
                    (self.namespace, now_key, CHUNK),
                ).fetchall()
                runs: list[dict[str, Any]] = []
                moves: list[tuple[Any, ...]] = []
                for workflow_id, body, due_after in rows:
                    planned = plan_due_row(plan, loads(body), due_after, floor_key, now)
                    runs += [
                        self._execution_params(execution, fire_key(workflow_id, fire_time))
                        for fire_time, execution in planned.fires
                    ]
                    moves.append((now_key, planned.next_due, self.namespace, workflow_id))
                    done.append(planned)
                with conn.cursor() as cursor:
                    if runs:
                        cursor.executemany(ADD_EXECUTION_SQL, runs)
                    if moves:
                        cursor.executemany(
                            "UPDATE workflows SET due_after = %s, next_due = %s"
                            " WHERE ns = %s AND id = %s",
                            moves,
                        )
                if len(rows) < CHUNK:
                    return done

    def next_due(self) -> str | None:
        row = self._one(
            "SELECT min(next_due) FROM workflows WHERE ns = %s AND next_due IS NOT NULL",
            (self.namespace,),
        )
        return str(row[0]) if row and row[0] is not None else None

    def raise_floor(self, floor: datetime) -> None:
        row = self._one(
            "UPDATE namespaces SET floor = GREATEST(COALESCE(floor, ''), %s) WHERE name = %s"
            " RETURNING floor",
            (due_key(floor), self.namespace),
        )
        if row:
            self._floor = from_key(row[0])

    # --- credentials, snapshots, meta ----------------------------------------------------------

    def credential_ids(self) -> set[str]:
        return {
            r[0] for r in self._all("SELECT id FROM credentials WHERE ns = %s", (self.namespace,))
        }

    def snapshot(self) -> Snapshot:
        ns = (self.namespace,)
        with self._db.connection() as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            try:
                with conn.transaction():  # one consistent read
                    conn.execute(f"SET LOCAL statement_timeout = '{LONG_STATEMENT}'")
                    workflows = conn.execute(
                        "SELECT body FROM workflows WHERE ns = %s ORDER BY created_key, id", ns
                    ).fetchall()
                    executions = conn.execute(
                        "SELECT body FROM executions WHERE ns = %s ORDER BY started_key, seq", ns
                    ).fetchall()
                    credentials = conn.execute(
                        "SELECT body FROM credentials WHERE ns = %s ORDER BY position", ns
                    ).fetchall()
            finally:
                conn.isolation_level = None
        return Snapshot(
            [loads(r[0]) for r in workflows],
            [loads(r[0]) for r in executions],
            [loads(r[0]) for r in credentials],
        )

    def restore(self, snapshot: Snapshot, floor: datetime | None = None) -> None:
        with self._db.connection() as conn, conn.transaction():
            self._lock_namespace(conn)
            self._restore(conn, snapshot, floor)

    def _lock_namespace(self, conn: psycopg.Connection[Any]) -> None:
        """Restores of one namespace (imports, resets, first opens) one at a time."""
        conn.execute(f"SET LOCAL statement_timeout = '{LONG_STATEMENT}'")
        conn.execute(
            "INSERT INTO namespaces (name) VALUES (%s) ON CONFLICT DO NOTHING", (self.namespace,)
        )
        conn.execute("SELECT 1 FROM namespaces WHERE name = %s FOR UPDATE", (self.namespace,))

    def _restore(
        self, conn: psycopg.Connection[Any], snapshot: Snapshot, floor: datetime | None
    ) -> None:
        """Everything replaced in the open transaction; rows go in by COPY (an import of a
        million runs is one stream, not a million statements)."""
        ns = self.namespace
        if floor is not None:
            conn.execute("UPDATE namespaces SET floor = %s WHERE name = %s", (due_key(floor), ns))
            self._floor = floor
        for table in ("executions", "workflows", "credentials"):
            conn.execute(f"DELETE FROM {table} WHERE ns = %s", (ns,))
        known = {w["id"] for w in snapshot.workflows}
        runs = [e for e in snapshot.executions if e.get("workflow_id") in known]
        counts = Counter(e["workflow_id"] for e in runs)
        with conn.cursor() as cursor:
            with cursor.copy(
                "COPY workflows (ns, id, created_key, name_fold, scheduled, due_after, next_due,"
                " body, log_count) FROM STDIN"
            ) as copy:
                for workflow in snapshot.workflows:
                    copy.write_row((*self._row(workflow), counts.get(workflow["id"], 0)))
            with cursor.copy(
                "COPY executions (ns, id, workflow_id, started_key, fire_key, body) FROM STDIN"
            ) as copy:
                for execution in runs:
                    params = self._execution_params(execution, None)
                    copy.write_row(
                        (ns, params["id"], params["workflow_id"], params["started_key"], None,
                         params["body"])
                    )  # fmt: skip
            latest = {str(c.get("id")): c for c in snapshot.credentials}  # as INSERT OR REPLACE
            with cursor.copy("COPY credentials (ns, id, body) FROM STDIN") as copy:
                for credential_id, credential in latest.items():
                    copy.write_row((ns, credential_id, dumps(credential)))

    def restore_once(self, snapshot: Snapshot, marker: str, floor: datetime | None = None) -> bool:
        """Seed a new namespace once, even when several replicas open it at the same moment."""
        with self._db.connection() as conn, conn.transaction():
            self._lock_namespace(conn)
            if self._meta(conn, marker) is not None:
                return False
            self._set_meta(conn, marker, "1")
            self._restore(conn, snapshot, floor)
            return True

    def _meta(self, conn: psycopg.Connection[Any], key: str) -> str | None:
        row = conn.execute(
            "SELECT value FROM meta WHERE ns = %s AND key = %s", (self.namespace, key)
        ).fetchone()
        return str(row[0]) if row else None

    def _set_meta(self, conn: psycopg.Connection[Any], key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta (ns, key, value) VALUES (%s, %s, %s)"
            " ON CONFLICT (ns, key) DO UPDATE SET value = EXCLUDED.value",
            (self.namespace, key, value),
        )

    def get_meta(self, key: str) -> str | None:
        return self._db.run(functools.partial(self._meta, key=key))

    def set_meta(self, key: str, value: str) -> None:
        self._db.run(functools.partial(self._set_meta, key=key, value=value))

    def close(self) -> None:
        if self._owns:
            self._db.close()


class PostgresBackend(OpenedStores[PostgresStore]):
    """Every namespace in one PostgreSQL database, one pool per process."""

    shared = True
    offloaded = True

    def __init__(self, url: str, pool_size: int = 16) -> None:
        super().__init__()
        self.database = PostgresDatabase(url, pool_size + 2)  # + the scheduler and its lookups

    def make(self, namespace: str, seed: Snapshot, floor: datetime) -> PostgresStore:
        store = PostgresStore(self.database, namespace)
        store.restore_once(seed, INITIALIZED_MARKER, floor)
        return store

    def names(self) -> set[str]:
        with self.database.connection() as conn:
            return {str(row[0]) for row in conn.execute("SELECT name FROM namespaces")}

    def drop(self, namespace: str) -> bool:
        """One transaction, under the namespace's row lock (a replica seeding it at the same
        moment waits, then finds it gone and seeds it again)."""
        self.forget(namespace)
        with self.database.connection() as conn, conn.transaction():
            conn.execute(f"SET LOCAL statement_timeout = '{LONG_STATEMENT}'")
            found = conn.execute(
                "SELECT 1 FROM namespaces WHERE name = %s FOR UPDATE", (namespace,)
            ).fetchone()
            for table in ("executions", "workflows", "credentials", "meta", "workflow_counts"):
                conn.execute(f"DELETE FROM {table} WHERE ns = %s", (namespace,))
            conn.execute("DELETE FROM namespaces WHERE name = %s", (namespace,))
        return found is not None

    def namespaces(self) -> list[NamespaceInfo]:
        with self.database.connection() as conn:
            rows = conn.execute(
                "SELECT n.name, (SELECT coalesce(sum(c.n), 0) FROM workflow_counts c"
                " WHERE c.ns = n.name), m.value"
                " FROM namespaces n LEFT JOIN meta m ON m.ns = n.name AND m.key = %s"
                " ORDER BY n.name",
                (CLOCK_OFFSET_KEY,),
            ).fetchall()
        return [NamespaceInfo(str(r[0]), int(r[1]), offset_of(r[2])) for r in rows]

    def pending(self) -> dict[str, tuple[float, str]]:
        """One statement: each namespace's earliest next due time (one probe of the
        `workflows_due` index each) and its clock offset."""
        with self.database.connection() as conn:
            rows = conn.execute(
                "SELECT n.name, m.value, (SELECT min(w.next_due) FROM workflows w"
                " WHERE w.ns = n.name AND w.next_due IS NOT NULL)"
                " FROM namespaces n LEFT JOIN meta m ON m.ns = n.name AND m.key = %s",
                (CLOCK_OFFSET_KEY,),
            ).fetchall()
        return {str(r[0]): (offset_of(r[1]), str(r[2])) for r in rows if r[2] is not None}

    def close(self) -> None:
        self.database.close()
