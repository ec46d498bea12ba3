"""Indexed search gives exactly the answers of the plain scan it replaced, on every store
(memory: trigram postings; SQLite: FTS5 trigrams; PostgreSQL: pg_trgm, with NUL stored as
U+FFFF).

The reference is the rule as it always was: the workflows in list order (`created_at`, then
`id`) whose `fold(name)` holds `fold(search)` (Python `casefold()`), paged by offset and limit.
Names and needles are drawn from characters where case folding is not one code point to one
(`ß`/`SS`, `İ`, `ﬁ`, final sigma, combining marks), from characters FTS5's query syntax reads
specially, and with needles of 1 and 2 code points that no trigram index can answer alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lenz_contract.mock.name_index import NameIndex
from lenz_contract.mock.sqlite_store import SqliteStore
from lenz_contract.mock.store import MemoryStore, Snapshot, Store, fold

from ..support.postgres import Databases
from .test_store import workflow

TRICKY = [
    "a", "A", "b", "s", "S", "ß", "ẞ", "k", "K", "\u212a",  # Kelvin sign folds to k
    "i", "I", "İ", "ı", "\u0307", "f", "F", "l", "ﬁ", "ﬂ", "ﬃ",
    "σ", "ς", "Σ", "ί", "Ί", "ΐ", "\u0301", "e", "é", "ŉ", "ǰ",
    "0", "7", "-", " ", '"', "*", ":", "^", "(", ")", "\x00", "日", "報",
]  # fmt: skip
"""Characters of the generated names and needles (see the module)."""

EDGE_NAMES = [
    "Straße",
    "STRASSE",
    "strasse",
    "İstanbul",
    "i̇stanbul",
    "istanbul",
    "ﬁle report",
    "FILE REPORT",
    "ΣΊΣΥΦΟΣ",
    "σίσυφος",
    "Cafe\u0301",
    "Café",
    'say "hi" *now*',
    "nul\x00inside grp-07",
    "日報 backup",
    "",
]
EDGE_NEEDLES = [
    "ss", "SS", "ß", "ẞ", "STRASSE", "straße", "İ", "i̇", "i", "İstanbul", "ﬁ", "fi", "FI",
    "ﬁle", "σ", "ς", "Σ", "σίσυφος", "ΣΊΣΥΦΟΣ", "\u0301", "e\u0301", "é", "Café", '"hi"',
    '"', "*now*", "\x00", "l\x00i", "grp-07", "日報", "日", "a", "", "zz", "zzz",
]  # fmt: skip


def expected(workflows: list[dict[str, Any]], search: str) -> list[str]:
    ordered = sorted(workflows, key=lambda w: (w["created_at"], w["id"]))
    return [w["id"] for w in ordered if not search or fold(search) in fold(w["name"])]


@pytest.fixture(scope="module")
def postgres_store(postgres_databases: Databases) -> Iterator[Store]:
    """One PostgreSQL store for the module, emptied before each use (a database per example
    would cost more than the example)."""
    from lenz_contract.mock.postgres_store import PostgresStore

    name, url = postgres_databases.new()
    store = PostgresStore(url)
    yield store
    store.close()
    postgres_databases.cluster.drop_database(name)


@pytest.fixture
def stores(postgres_store: Store) -> Callable[[], Iterator[Store]]:
    def each() -> Iterator[Store]:
        yield MemoryStore()
        yield SqliteStore(":memory:")
        postgres_store.restore(Snapshot())
        yield Unclosed(postgres_store)

    return each


class Unclosed:
    """The module's PostgreSQL store, which a test's `close()` must not close."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def close(self) -> None:
        pass


def assert_same_answers(store: Store, workflows: list[dict[str, Any]], search: str) -> None:
    want = expected(workflows, search)
    page = store.list_workflows(search, 0, 1000)
    assert [w["id"] for w in page.items] == want, (type(store).__name__, search)
    assert page.total == len(want)
    for offset, limit in ((0, 1), (1, 2), (2, 3), (len(want) - 1, 5), (len(want), 3)):
        part = store.list_workflows(search, max(offset, 0), limit)
        assert [w["id"] for w in part.items] == want[max(offset, 0) : max(offset, 0) + limit]
        assert part.total == len(want)


def build(names: list[str]) -> list[dict[str, Any]]:
    """Workflows named `names`, several sharing a `created_at` (then `id` orders them)."""
    return [
        workflow(f"w{index:03d}", name, f"2025-01-{1 + (index * 7) % 5:02d}T00:00:00Z")
        for index, name in enumerate(names)
    ]


@pytest.mark.parametrize("needle", EDGE_NEEDLES)
def test_case_folding_edges_match_the_plain_scan(
    needle: str, stores: Callable[[], Iterator[Store]]
) -> None:
    workflows = build(EDGE_NAMES)
    for store in stores():
        for item in workflows:
            store.insert_workflow(item)
        assert_same_answers(store, workflows, needle)
        store.close()


names = st.lists(st.text(st.sampled_from(TRICKY), max_size=10), max_size=24)


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(names=names, data=st.data())
def test_generated_names_match_the_plain_scan(
    names: list[str], data: st.DataObject, stores: Callable[[], Iterator[Store]]
) -> None:
    workflows = build(names)
    needles = data.draw(st.lists(st.text(st.sampled_from(TRICKY), max_size=4), max_size=4))
    for name in names[:4]:  # pieces of real names, so that searches also find something
        start = data.draw(st.integers(0, len(name)))
        needles.append(name[start : start + data.draw(st.integers(0, 5))])
        needles.append(fold(name)[start : start + 3].upper())
    for store in stores():
        for item in workflows:
            store.insert_workflow(item)
        for needle in needles:
            assert_same_answers(store, workflows, needle)
        store.close()


@settings(max_examples=100, derandomize=True, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["add", "rename", "remove", "search"]),
            st.text(st.sampled_from(TRICKY)),
        ),
        max_size=40,
    ),
    needle=st.text(st.sampled_from(TRICKY), min_size=1, max_size=4),
)
def test_the_name_index_stays_exact_through_reused_slots(
    steps: list[tuple[str, str]], needle: str
) -> None:
    """Renames and removals leave stale postings, freed slots are reused, names wait unposted
    until a search (which may come between any two writes): still exact."""
    index, live = NameIndex(), dict[int, str]()
    for action, name in steps:
        if action == "search":
            hits = index.search(fold(name) or "abc")
            assert sorted(hits) == sorted(s for s, n in live.items() if (fold(name) or "abc") in n)
        elif action == "add" or not live:
            slot = index.add(fold(name))
            live[slot] = fold(name)
        elif action == "rename":
            slot = sorted(live)[len(name) % len(live)]
            index.rename(slot, fold(name))
            live[slot] = fold(name)
        else:
            slot = sorted(live)[len(name) % len(live)]
            index.remove(slot)
            del live[slot]
        assert len(index) == len(live)
    found = index.search(fold(needle))
    assert sorted(found) == sorted(s for s, n in live.items() if fold(needle) in n)
    assert len(set(found)) == len(list(found))


def test_a_big_index_rebuilds_its_postings_and_stays_exact() -> None:
    index = NameIndex()
    slots = [index.add(f"laporan harian {n:05d}") for n in range(3000)]
    for slot in slots[:2500]:
        index.rename(slot, f"renamed {slot:05d}")
    for slot in slots[2500:2900]:
        index.remove(slot)
    assert sorted(index.search("laporan")) == slots[2900:]
    assert sorted(index.search("renamed 0001")) == list(range(10, 20))
    assert index._entries <= 2 * index._needed + 4096  # rebuilt, not only grown


def test_names_are_posted_by_the_first_search_not_by_each_add() -> None:
    """A burst of creates costs no trigram work; the next search posts them, once."""
    index = NameIndex()
    slots = [index.add(f"camera lobby {n}") for n in range(100)]
    assert index._postings == {} and index._entries == 0
    index.rename(slots[0], "renamed before posting")
    index.remove(slots[1])
    assert sorted(index.search("lobby")) == slots[2:]
    assert sorted(index.search("before post")) == [slots[0]]
    posted = index._entries
    assert sorted(index.search("lobby")) == slots[2:]
    assert index._entries == posted  # nothing posted twice
