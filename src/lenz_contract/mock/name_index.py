"""Case-insensitive substring search over workflow names without reading every name.

The search rule is the store's (`store.fold`): a name matches when `fold(search)` is a
substring of `fold(name)` (Python `casefold()`, so `STRASSE` finds `Straße`). This index
answers exactly that, only faster: each slot's folded name is kept, and every trigram (three
consecutive code points) of it points at the slot. A name holding the needle holds each of the
needle's trigrams, so the slots listed under the needle's rarest trigram are a superset of the
answer; each is then checked with `needle in name`, which makes the answer exact whatever the
index holds (stale entries, duplicates). Needles of one or two code points have no trigram:
they are answered by reading every name, as before (they match most names anyway).

Measured at 100,000 names (the benchmark's, and random multi-word names with Greek, CJK and
German words), in-process, before choosing this (`bench/RESULTS.md`, section 3):

| needle | hits | plain scan | one joined string + offsets | trigrams |
|---|---:|---:|---:|---:|
| `grp-07` | 1,000 | 2.8 ms | 2.2 ms | 0.07 ms |
| `fr 0001` | 100 | 3.0 ms | 1.3 ms | 0.04 ms |
| `laporan` (every name) | 100,000 | 2.9 ms | 50.5 ms | 7.0 ms |
| `camera lobby` | 653 | 4.9 ms | 1.4 ms | 0.09 ms |

The joined string (`str.find` in C, then a bisect over the offsets per hit) wins only over a
plain scan and loses badly when many names match (a Python step per hit); it also has to be
rebuilt after every write. Trigrams cost ~0.5 s and ~11 MB per 100,000 names to build, and
~35 array appends per created workflow. In the server the plain scan measured 46-95 ms, not
3 ms: 100,000 names scattered through a 2 GB heap miss the CPU caches, and the scheduler thread
holds the GIL; a trigram lookup reads only the candidates.

Writes never rewrite posting lists: a rename or delete leaves stale entries that the check
drops, and the lists are rebuilt from the live names once they hold twice as many entries as
the live names need, so the cost stays amortised O(1) per write. A name added (or renamed
before it was posted) waits in `_pending` until the next search posts it: a burst of creates
(a CI job seeding, a load test) costs no trigram work until somebody searches, which took 10 %
of the mock's CPU at 50 concurrent creates.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection

SHORTEST_INDEXED = 3
REBUILD_FACTOR = 2
REBUILD_MINIMUM = 4096


def trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


class NameIndex:
    """Folded names by slot, and the slots of each trigram; `search` is exact (see module).

    Slots are small integers the caller keeps (the memory store maps ids to slots); a freed
    slot is reused by the next `add`.
    """

    def __init__(self) -> None:
        self._names: list[str | None] = []
        self._free: list[int] = []
        self._postings: dict[str, array[int]] = {}
        self._pending: set[int] = set()  # slots whose name is not posted yet
        self._entries = 0  # entries in all posting lists, stale ones included
        self._needed = 0  # entries the live names need

    def __len__(self) -> int:
        return len(self._names) - len(self._free)

    def add(self, folded: str) -> int:
        """A new slot for `folded`; returns it."""
        if self._free:
            slot = self._free.pop()
            self._names[slot] = folded
        else:
            slot = len(self._names)
            self._names.append(folded)
        self._pending.add(slot)
        return slot

    def rename(self, slot: int, folded: str) -> None:
        if slot in self._pending:  # nothing posted yet: the new name is posted instead
            self._names[slot] = folded
            return
        old = self._names[slot]
        self._names[slot] = folded
        before = trigrams(old) if old is not None else set()
        after = trigrams(folded)
        self._needed -= len(before)
        self._post(slot, after - before)  # the others are listed already
        self._needed += len(after & before)
        self._maybe_rebuild()

    def remove(self, slot: int) -> None:
        old = self._names[slot]
        if old is None:
            return
        self._names[slot] = None
        self._free.append(slot)
        if slot in self._pending:
            self._pending.discard(slot)
            return
        self._needed -= len(trigrams(old))
        self._maybe_rebuild()

    def clear(self) -> None:
        self._names, self._free, self._postings, self._pending = [], [], {}, set()
        self._entries = self._needed = 0

    def search(self, needle: str) -> Collection[int]:
        """The slots whose name holds `needle` (any order, no duplicates)."""
        names = self._names
        if len(needle) < SHORTEST_INDEXED:
            return [slot for slot, name in enumerate(names) if name is not None and needle in name]
        self.post_pending()
        rarest: array[int] | None = None
        for gram in trigrams(needle):
            listed = self._postings.get(gram)
            if listed is None:
                return ()
            if rarest is None or len(listed) < len(rarest):
                rarest = listed
        assert rarest is not None
        found = set()
        for slot in rarest:
            name = names[slot]
            if name is not None and needle in name:
                found.add(slot)
        return found

    def post_pending(self) -> None:
        """Post the names added since the last search (a search does it by itself)."""
        names = self._names
        for slot in self._pending:
            name = names[slot]
            if name is not None:
                self._post(slot, trigrams(name))
        self._pending.clear()

    def _post(self, slot: int, grams: set[str]) -> None:
        postings = self._postings
        for gram in grams:
            listed = postings.get(gram)
            if listed is None:
                postings[gram] = array("i", (slot,))
            else:
                listed.append(slot)
        self._entries += len(grams)
        self._needed += len(grams)

    def _maybe_rebuild(self) -> None:
        if self._entries > max(REBUILD_MINIMUM, REBUILD_FACTOR * self._needed):
            self._postings, self._pending = {}, set()
            self._entries = self._needed = 0
            for slot, name in enumerate(self._names):
                if name is not None:
                    self._post(slot, trigrams(name))
