"""The SQLite store's name search: an FTS5 trigram index over the folded names.

Why: `instr(name_fold, ?)` reads every name of the index (28.5 ms p50 at 100,000 workflows,
`bench/RESULTS.md`); a trigram index reads only the rows holding the needle's trigrams.

Exactly the memory store's rule (`store.fold`): the table indexes `name_fold`, Python's
`casefold()` of the name, and the tokenizer is `trigram case_sensitive 1`, so SQLite folds
nothing itself (its own folding is not Python's: `ß` would not become `ss`). The phrase query
`"needle"` matches every row whose trigrams run in the needle's order, a superset of the names
holding the needle (the store asks for the rarest trigram alone: see `search_filter`); `instr`
then keeps exactly those, so the answer is today's whatever FTS5 does at the edges. Needles shorter than three code points have no trigram, and FTS5's query
parser reads a string only up to a NUL: those are answered by `instr` alone over every row.

The index is an external-content table (`content='workflows'`): it stores trigrams and rowids,
not a second copy of the names, and triggers keep it in step with every write, whichever
process or version of the store writes. `ensure_search_index` adds it to a file made before
it existed (the first writer to open such a file builds it, in one transaction). A `VACUUM`
may renumber the rowids of `workflows` (its key is `id`, not an integer): the store never runs
one; after a manual one, `INSERT INTO workflows_search(workflows_search) VALUES ('rebuild')`
rebuilds the index.
"""

from __future__ import annotations

import sqlite3

from .name_index import trigrams

SEARCH_TABLE = "workflows_search"
SHORTEST_INDEXED = 3

NUL = "CAST(X'00' AS TEXT)"
"""SQLite's `char(0)` is an empty string; this is the one-character text NUL."""
HAS_NUL = f"instr(name_fold, {NUL}) > 0"

SEARCH_SCHEMA = (
    f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(name_fold, content='workflows',"
    " content_rowid='rowid', tokenize='trigram case_sensitive 1')",
    f"""CREATE TRIGGER {SEARCH_TABLE}_insert AFTER INSERT ON workflows BEGIN
        INSERT INTO {SEARCH_TABLE} (rowid, name_fold) VALUES (new.rowid, new.name_fold);
    END""",
    f"""CREATE TRIGGER {SEARCH_TABLE}_delete AFTER DELETE ON workflows BEGIN
        INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, name_fold)
            VALUES ('delete', old.rowid, old.name_fold);
    END""",
    f"""CREATE TRIGGER {SEARCH_TABLE}_update AFTER UPDATE OF name_fold ON workflows BEGIN
        INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, name_fold)
            VALUES ('delete', old.rowid, old.name_fold);
        INSERT INTO {SEARCH_TABLE} (rowid, name_fold) VALUES (new.rowid, new.name_fold);
    END""",
    f"CREATE INDEX IF NOT EXISTS workflows_with_nul ON workflows (created_key) WHERE {HAS_NUL}",
)
"""The index, the triggers that keep it in step, and a partial index of the names holding a
NUL: the tokenizer stops at a NUL, so such a name lacks the trigrams after it; the few names
holding one are always candidates (and `instr` decides)."""


def trigram_available(db: sqlite3.Connection) -> bool:
    """Whether this SQLite has FTS5 with the trigram tokenizer (3.34 and later)."""
    try:
        db.execute("CREATE VIRTUAL TABLE temp.trigram_probe USING fts5(x, tokenize='trigram')")
    except sqlite3.OperationalError:
        return False
    db.execute("DROP TABLE temp.trigram_probe")
    return True


def has_search_index(db: sqlite3.Connection) -> bool:
    found = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SEARCH_TABLE,)
    ).fetchone()
    return found is not None


def drop_search_index(db: sqlite3.Connection) -> None:
    """Remove the index and its triggers (before the table it indexes is rebuilt)."""
    for trigger in ("insert", "delete", "update"):
        db.execute(f"DROP TRIGGER IF EXISTS {SEARCH_TABLE}_{trigger}")
    db.execute(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")


def ensure_search_index(db: sqlite3.Connection) -> bool:
    """Create and fill the index when the file has none (call inside a write transaction).

    Returns whether the store can search with it: False on an SQLite without trigrams (the
    store then searches with `instr` alone, as before).
    """
    if has_search_index(db):
        return True
    if not trigram_available(db):
        return False
    for statement in SEARCH_SCHEMA:
        db.execute(statement)
    db.execute(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('rebuild')")
    return True


def uses_index(needle: str) -> bool:
    return len(needle) >= SHORTEST_INDEXED and "\x00" not in needle


def phrase(text: str) -> str:
    """The FTS5 query matching `text` as one phrase (every character literal)."""
    return '"' + text.replace('"', '""') + '"'


def rarest_trigram(db: sqlite3.Connection, needle: str, cap: int) -> tuple[str, int] | None:
    """The needle's trigram in the fewest names, and how many (0: nothing can match), or None
    when each is in `cap` names or more. Each probe reads at most as many rowids as the best
    so far (about 30 ns each), so it costs far less than the search it steers."""
    best: tuple[str, int] | None = None
    limit = cap
    for gram in sorted(trigrams(needle)):
        found = db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH ?"
            " LIMIT ?)",
            (phrase(gram), limit),
        ).fetchone()[0]
        if found < limit:
            best, limit = (gram, int(found)), int(found)
            if found == 0:
                break
    return best


INDEXED_FILTER = (
    f" AND rowid IN (SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH ?"
    f" UNION ALL SELECT rowid FROM workflows WHERE {HAS_NUL})"
    " AND instr(name_fold, ?) > 0"
)
SCAN_FILTER = " AND instr(name_fold, ?) > 0"
"""Both follow the store's `WHERE ns = ?`: the index holds every namespace's names (a
candidate of another namespace is dropped by that condition)."""
DENSE = 8
"""A trigram in more than 1/DENSE of the names does not pay: reading the order index with
`instr` costs less than looking that many rows up and sorting them."""
FEWEST_PROBED = 256


def search_filter(
    db: sqlite3.Connection, needle: str, indexed: bool, workflows: int
) -> tuple[str, tuple[str, ...]]:
    """The conditions (`AND ...`, and their parameters) selecting the names holding `needle`.

    Through the index, only the rows holding the needle's rarest trigram are read (a phrase
    of all its trigrams reads every one's list: "grp-07" measured 1.8 ms against 0.04 ms for
    "-07" alone); `instr` keeps the exact ones. Without an index, with a short needle, or when
    every trigram of it is common, the order index is read with `instr`, as before.
    """
    if indexed and uses_index(needle):
        rarest = rarest_trigram(db, needle, max(FEWEST_PROBED, workflows // DENSE))
        if rarest is not None:
            return INDEXED_FILTER, (phrase(rarest[0]), needle)
    return SCAN_FILTER, (needle,)
