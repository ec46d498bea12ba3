"""Logged runs kept as compact bytes in the memory store, decoded only when a page is read.

Why: as Python objects a run of the docs' shape (two node results) holds about 2.3 KB of
dicts and strings, so a million logged runs, what a long soak or a deployment's recording
reaches, took 2.3 GB. As JSON text it is ~730 bytes; deflated against a dictionary of earlier
runs (runs of one deployment repeat the same keys, node ids, names and statuses) it is ~50-70
bytes, and with its list slot and its place (start, arrival) a run costs ~120 bytes.

The text is written by `spec.jsontext` (every number exactly as the client sent it: integers
beyond 64 bits, long decimals) and read back with orjson alone unless the writer said the text
holds such a number (then `jsontext.loads`), the same rule as the SQLite store.

The dictionary is learnt from the runs themselves (`RunCodec`): until 32 runs were seen they
are deflated plainly; then the last runs seen, newest last, become the dictionary (zlib uses
the end of a dictionary best). When later runs compress clearly worse than the first ones did
under the current dictionary (other workflows, other node types), a new one is learnt from the
latest runs. Every blob names its dictionary in its first byte, so older runs stay readable.
Measured on the benchmark's runs (`bench/scale.py`): 733-byte runs became 49 bytes with a
16 KB dictionary, level 6, in ~9 µs to write and ~1 µs to inflate (plain deflate: 316 bytes).
"""

from __future__ import annotations

import struct
import zlib
from bisect import insort
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from ..spec import jsontext
from ..spec.timestamps import parse_rfc3339

JSONDict = dict[str, Any]

LEVEL = 6
WINDOW_BITS = -15
"""Raw deflate (no zlib header or checksum: 6 bytes a run) with a 32 KB window."""
DICTIONARY_BYTES = 16 * 1024
FIRST_TRAINING = 32
"""Runs seen before the first dictionary is learnt."""
SAMPLES = 64
"""Recent runs kept (raw) to learn a dictionary from."""
WINDOW = 4096
"""Runs per comparison window of the drift check."""
DRIFT = 1.5
"""A new dictionary is learnt when a window's mean size exceeds the first window's by this."""
MAX_DICTIONARIES = 127
EXACT = 0x80
"""Header bit: the text holds a number only `jsontext.loads` reads back as written."""


class RunCodec:
    """Runs to compact bytes and back; see the module. Not thread-safe: the store's lock
    guards `encode`; `decode` only reads dictionaries, which are never changed once added."""

    def __init__(self) -> None:
        self._dictionaries: list[bytes] = [b""]  # id 0: plain deflate
        self._compressors: list[Any] = [self._compressor(b"")]
        self._samples: deque[bytes] = deque(maxlen=SAMPLES)
        self._seen = 0
        self._window_bytes = 0
        self._window_runs = 0
        self._baseline: float | None = None

    @property
    def dictionaries(self) -> int:
        """How many dictionaries were learnt (plain deflate not counted)."""
        return len(self._dictionaries) - 1

    def encode(self, run: JSONDict) -> bytes:
        text, exact = jsontext.write_json(run)
        current = len(self._dictionaries) - 1
        compressor = self._compressors[current].copy()
        packed: bytes = compressor.compress(text) + compressor.flush()
        self._learn(text, len(packed))
        return bytes((current | (EXACT if exact else 0),)) + packed

    def decode(self, blob: bytes, start: int = 0) -> JSONDict:
        """The run `encode` wrote into `blob[start:]`."""
        header = blob[start]
        inflater = zlib.decompressobj(WINDOW_BITS, zdict=self._dictionaries[header & ~EXACT])
        text = inflater.decompress(memoryview(blob)[start + 1 :]) + inflater.flush()
        value: JSONDict = jsontext.loads(text) if header & EXACT else orjson.loads(text)
        return value

    @staticmethod
    def _compressor(dictionary: bytes) -> Any:
        if not dictionary:
            return zlib.compressobj(LEVEL, zlib.DEFLATED, WINDOW_BITS)
        return zlib.compressobj(
            LEVEL,
            zlib.DEFLATED,
            WINDOW_BITS,
            zlib.DEF_MEM_LEVEL,
            zlib.Z_DEFAULT_STRATEGY,
            dictionary,
        )

    def _learn(self, text: bytes, packed: int) -> None:
        """Keep samples; learn the first dictionary, or a new one when the runs drifted."""
        self._samples.append(text)
        self._seen += 1
        if len(self._dictionaries) == 1:
            if self._seen >= FIRST_TRAINING:
                self._train()
            return
        self._window_bytes += packed
        self._window_runs += 1
        if self._window_runs < WINDOW:
            return
        mean = self._window_bytes / self._window_runs
        self._window_bytes = self._window_runs = 0
        if self._baseline is None:
            self._baseline = mean
        elif mean > DRIFT * self._baseline and len(self._dictionaries) <= MAX_DICTIONARIES:
            self._train()

    def _train(self) -> None:
        dictionary = b"".join(self._samples)[-DICTIONARY_BYTES:]
        self._dictionaries.append(dictionary)
        self._compressors.append(self._compressor(dictionary))
        self._baseline = None
        self._window_bytes = self._window_runs = 0


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_PLACE = struct.Struct(">QQ")
PLACE_BYTES = _PLACE.size


def run_key(started_at: Any) -> int:
    """A run's place in its log: its start as microseconds since 1970 (UTC).

    Runs are validated (`started_at` is an RFC 3339 timestamp) before they reach a store; a
    value that is not one sorts first, as a missing one always did.
    """
    parsed = parse_rfc3339(started_at)
    if parsed is None:
        return -(2**63)
    return (parsed - _EPOCH) // _MICROSECOND


def placed(key: int, seq: int, blob: bytes) -> bytes:
    """`blob` behind 16 bytes that sort as (start, arrival): big-endian, the start offset by
    2**63 so that it is unsigned. Byte order is then the documented order, so a log is a plain
    sorted list of bytes (no per-workflow arrays of keys: ~400 bytes a workflow saved)."""
    return _PLACE.pack(key + 2**63, seq) + blob


class RunLog:
    """One workflow's runs, oldest first, as `placed` bytes (a sorted list).

    Runs usually arrive in time order (an append); one that started earlier than the last is
    inserted where (start, arrival) puts it, as the documented order asks.
    """

    __slots__ = ("blobs",)

    def __init__(self) -> None:
        self.blobs: list[bytes] = []

    def __len__(self) -> int:
        return len(self.blobs)

    def add(self, entry: bytes) -> None:
        blobs = self.blobs
        if not blobs or blobs[-1] <= entry:
            blobs.append(entry)
        else:
            insort(blobs, entry)

    def newest_first(self, offset: int, limit: int) -> list[bytes]:
        """The entries of one page, newest first (still `placed`: decode from `PLACE_BYTES`)."""
        end = len(self.blobs) - offset
        if end <= 0:
            return []
        chosen = self.blobs[max(0, end - limit) : end]
        chosen.reverse()
        return chosen


def in_arrival_order(logs: Iterable[RunLog]) -> list[bytes]:
    """Every entry of `logs` by (start, arrival): the order a state export lists them in."""
    return sorted(entry for log in logs for entry in log.blobs)
