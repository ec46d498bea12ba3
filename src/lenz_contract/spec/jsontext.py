"""JSON text in and out, strictly and with every number kept: the mock's one JSON codec.

The JSON text a client sends is the source of truth. What the mock guarantees for a number it
accepted (in a request body, then in every answer and in both stores):

- an integer comes back as the same integer, whatever its size (`1180591620717411303424`, not
  `1.1805916207174113e+21`);
- any other number comes back as the same decimal value. When the nearest double's shortest
  form has that value, the number is a plain float and may come back re-spelled (`1.50` as
  `1.5`, `1E2` as `100.0`: same value). When it has not (a double cannot hold
  `0.1000000000000000055511151231257827`, nor `1e-400`), it is an `ExactNumber`: a float for
  arithmetic and comparisons, that is written back as the very text it was read from.
- a number must be finite as a double (|x| < 1.8e308): `1e400`, and integers that large, are
  refused (RFC 8259 §6 lets an implementation limit the range; a double is what every JSON
  client can read).

Strictness (all refused with a located reason, never a 500): malformed JSON, NaN and Infinity,
lone surrogates, bytes that are not UTF-8, nesting deeper than 1024. orjson decides all of
that, on every document: it is the hot path. Only a document that holds a number orjson cannot
keep (a run of 16+ digits, or a negative 3-digit exponent: `_needs_care`) is read again, by an
iterative reader that keeps them (no recursion: 1024 levels are fine). Writing is orjson too,
with `ExactNumber`s as `orjson.Fragment`s; an integer beyond 64 bits or nesting deeper than
orjson writes (254) takes an iterative writer instead, so whatever was read can be written.
`write_json` also says whether the text holds such a number, so that a store reads back only
those documents with `read_json` and every other one with orjson alone (`mock.sqlite_store`).

Why ≤ 15 digits are safe: any decimal of at most 15 significant digits within the normal range
survives decimal → double → shortest decimal with its value (DBL_DIG = 15), so orjson's reading
of it is exact; `_needs_care` only sends longer numbers (and some strings) to the slow reader.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, NamedTuple

import orjson

_CLASSES = bytes.maketrans(b"0123456789.eE-", b"\0" * 11 + b"\1\1\2")
"""Digits and `.` → 0, `e E` → 1, `-` → 2: a valid JSON text holds no raw control byte, so after
`translate` substring searches find long digit runs and negative exponents."""
_LONG_NUMBER = b"\0" * 16
_TINY_EXPONENT = b"\0\1\2\0\0\0"

_TOKEN = re.compile(
    r'[ \t\n\r]*(?:("[^"\\]*(?:\\.[^"\\]*)*")'
    r"|(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"
    r"|(true|false|null)|([][{}:,]))",
    re.DOTALL,
)
_WORDS = {"true": True, "false": False, "null": None}


class ExactNumber(float):
    """A JSON number a double cannot hold, as its float (for arithmetic) and its `text`.

    jsonschema-rs refuses float subclasses: validate `plain(value)` instead of the value.
    """

    text: str

    def __new__(cls, text: str) -> ExactNumber:
        number = super().__new__(cls, text)
        number.text = text
        return number

    def __repr__(self) -> str:
        return f"ExactNumber({self.text!r})"

    def __str__(self) -> str:
        return self.text

    def __reduce__(self) -> tuple[type[ExactNumber], tuple[str]]:
        return ExactNumber, (self.text,)

    def __deepcopy__(self, memo: dict[int, Any]) -> ExactNumber:
        return self


class JsonTextError(ValueError):
    """The bytes are not a JSON document the mock takes; `reason` says why (for a 400)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Parsed(NamedTuple):
    """A document, and whether some number in it is an `ExactNumber` (validate `plain(value)`)."""

    value: Any
    exact_numbers: bool


def read_json(raw: bytes | str) -> Parsed:
    """Parse strict JSON (see the module), keeping every number; raises `JsonTextError`."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise JsonTextError(f"malformed JSON: {exc}") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # defensive: never a 500
        raise JsonTextError(f"malformed JSON: {type(exc).__name__}") from None
    if not _needs_care(raw.encode() if isinstance(raw, str) else raw):
        return tuple.__new__(Parsed, (value, False))  # hot path: a NamedTuple's `__new__` is slow
    text = raw if isinstance(raw, str) else raw.decode("utf-8")  # orjson took it: UTF-8
    return Parsed(*_read_exactly(text))


def loads(raw: bytes | str) -> Any:
    """`read_json(raw).value` (for stored documents, already known to be good JSON)."""
    return read_json(raw).value


def dumps(value: Any) -> bytes:
    """JSON text of `value`, every `ExactNumber` and big integer as it was read."""
    try:
        return orjson.dumps(value, default=_fragment)
    except orjson.JSONEncodeError as exc:
        if exc.__cause__ is not None:  # `_fragment` refused a type: not JSON at all
            raise
        return _write_slowly(value)  # beyond 64 bits, or deeper than orjson writes


def write_json(value: Any) -> tuple[bytes, bool]:
    """`(dumps(value), needs_care)`: whether some number in the text is one plain orjson would
    not read back as written (an `ExactNumber`, an integer beyond 64 bits), so that a store can
    read only such documents with `read_json` and all the others with orjson alone."""
    kept: list[ExactNumber] = []

    def fragment(number: Any) -> Any:
        if isinstance(number, ExactNumber):
            kept.append(number)
        return _fragment(number)

    try:
        return orjson.dumps(value, default=fragment), bool(kept)
    except orjson.JSONEncodeError as exc:
        if exc.__cause__ is not None:
            raise
        return _write_slowly(value), True


def plain(value: Any) -> Any:
    """A copy of `value` with every `ExactNumber` as a plain float: what a schema validator
    takes. Iterative (no recursion limit); only called when a document holds one."""
    if isinstance(value, ExactNumber):
        return float(value)
    if not isinstance(value, dict | list):
        return value
    root: list[Any] = [value]
    todo: list[tuple[Any, Any, Any]] = [(root, 0, value)]  # (parent copy, key, original)
    while todo:
        parent, key, node = todo.pop()
        copied: Any
        if isinstance(node, dict):
            copied = dict(node)
            todo += [(copied, k, v) for k, v in node.items() if isinstance(v, dict | list | float)]
        elif isinstance(node, list):
            copied = list(node)
            todo += [
                (copied, i, v) for i, v in enumerate(node) if isinstance(v, dict | list | float)
            ]
        elif isinstance(node, ExactNumber):
            copied = float(node)
        else:
            continue
        parent[key] = copied
    return root[0]


def _needs_care(data: bytes) -> bool:
    """Whether `data` may hold a number orjson does not keep: 16+ digits (counting a point), or
    a negative exponent of 3+ digits after a digit (`1e-400`: below a double's normal range;
    a positive one is exact with at most 15 digits, or refused as infinite). Strings can match
    too (a long numeric id): they only cost the exact reading. One `translate` and two
    substring searches, about 1 ns a byte; a regex takes ten times that.
    """
    classes = data.translate(_CLASSES)
    return _LONG_NUMBER in classes or _TINY_EXPONENT in classes


def _fragment(value: Any) -> Any:
    if isinstance(value, ExactNumber):
        return orjson.Fragment(value.text)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def _number(text: str) -> int | float:
    """The Python value that keeps the JSON number `text` (see the module's guarantee)."""
    if "." not in text and "e" not in text and "E" not in text:
        return int(text)  # at most 309 digits: orjson refused larger ones as infinite
    number = float(text)
    if Decimal(repr(number)) == Decimal(text):
        return number
    return ExactNumber(text)


def _read_exactly(text: str) -> tuple[Any, bool]:
    """Read a document orjson has already accepted (so: well-formed), keeping every number.

    An explicit stack, no recursion. Strings are decoded by orjson, one token at a time.
    """
    containers: list[Any] = []
    keys: list[str | None] = []
    kept = False
    position = 0
    while True:
        token = _TOKEN.match(text, position)
        if token is None:
            raise JsonTextError("malformed JSON")  # cannot happen after orjson: defensive
        position = token.end()
        string, number, word, mark = token.groups()
        value: Any
        if mark is not None:
            if mark in ":,":
                continue
            if mark in "[{":
                containers.append([] if mark == "[" else {})
                keys.append(None)
                continue
            value = containers.pop()
            keys.pop()
        elif string is not None:
            value = orjson.loads(string)
            if containers and keys[-1] is None and isinstance(containers[-1], dict):
                keys[-1] = value
                continue
        elif number is not None:
            value = _number(number)
            kept = kept or isinstance(value, ExactNumber)
        else:
            value = _WORDS[word]
        if not containers:
            return value, kept
        top = containers[-1]
        if isinstance(top, list):
            top.append(value)
        else:
            top[keys[-1]] = value
            keys[-1] = None


class _Text(bytes):
    """JSON punctuation (or a key), already written: `_write_slowly` emits it as it is."""


def _write_slowly(value: Any) -> bytes:
    """What `orjson.dumps` writes, for any depth and integers of any size (no recursion)."""
    out: list[bytes] = []
    todo: list[Any] = [value]
    while todo:
        item = todo.pop()
        if type(item) is _Text:
            out.append(item)
        elif isinstance(item, dict):
            todo.append(_Text(b"}"))
            members = list(item.items())
            for index in range(len(members) - 1, -1, -1):
                key, member = members[index]
                if not isinstance(key, str):
                    raise TypeError("Dict key must be str")
                todo.append(member)
                todo.append(_Text((b"," if index else b"") + orjson.dumps(key) + b":"))
            todo.append(_Text(b"{"))
        elif isinstance(item, list | tuple):
            todo.append(_Text(b"]"))
            for index in range(len(item) - 1, -1, -1):
                todo.append(item[index])
                if index:
                    todo.append(_Text(b","))
            todo.append(_Text(b"["))
        elif isinstance(item, int) and not isinstance(item, bool):
            out.append(str(int(item)).encode())
        else:
            out.append(orjson.dumps(item, default=_fragment))
    return b"".join(out)
