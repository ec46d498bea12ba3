"""`spec/jsontext.py`: strict JSON that keeps every number, fast path and slow path alike."""

from __future__ import annotations

import copy
import pickle
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lenz_contract.spec import jsontext
from lenz_contract.spec.jsontext import ExactNumber, JsonTextError, dumps, loads, plain, read_json

SETTINGS = settings(max_examples=300, deadline=None, database=None, derandomize=True)

BIG = 1180591620717411303424  # 2**70
LONG = "0.1000000000000000055511151231257827"


def test_the_issue_numbers_come_back_exactly() -> None:
    raw = f'{{"n": {BIG}, "x": {LONG}, "neg": -{BIG}}}'.encode()
    value, exact_numbers = read_json(raw)
    assert exact_numbers
    assert value["n"] == BIG and type(value["n"]) is int
    assert isinstance(value["x"], ExactNumber) and value["x"].text == LONG
    assert dumps(value) == raw.replace(b" ", b"")
    assert plain(value) == {"n": BIG, "x": 0.1, "neg": -BIG}
    assert type(plain(value)["x"]) is float


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("1.50", "1.5"),  # same value, orjson's spelling
        ("1E2", "100.0"),
        ("-0.0", "-0.0"),
        ("1e-400", "1e-400"),  # a double holds 0.0: kept as written
        ("4.9e-324", "4.9e-324"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("123456789012345678", "123456789012345678"),
        ("0.30000000000000004", "0.30000000000000004"),  # a double's shortest form: a float
    ],
)
def test_every_number_keeps_its_value(text: str, written: str) -> None:
    out = dumps(loads(f"[{text}]".encode())).decode()
    assert out == f"[{written}]"
    assert Decimal(out[1:-1]) == Decimal(text)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b"{",
        b'{"a": 1,}',
        b'{"a": NaN}',
        b"[Infinity]",
        b"[-Infinity]",
        b"[1e400]",  # not finite as a double
        b"[" + b"9" * 400 + b"]",
        b'["\\ud800"]',  # a lone surrogate, escaped
        b'["\xed\xa0\x80"]',  # ... and as (invalid) UTF-8
        b'{"name": "\xff\xfe"}',
        b"\xff\xfe[\x001\x00]\x00",  # UTF-16: JSON between systems is UTF-8
        b"[" * 1025 + b"]" * 1025,
        b'{"a":' * 1025 + b"1" + b"}" * 1025,
        b"[1] [2]",
    ],
)
def test_what_is_refused_stays_refused(raw: bytes) -> None:
    with pytest.raises(JsonTextError) as refused:
        read_json(raw)
    assert refused.value.reason.startswith("malformed JSON")


def test_1024_levels_are_read_and_written_back_with_their_numbers() -> None:
    for leaf, as_float in (
        (b"1", b"1"),
        (str(BIG).encode(), str(BIG).encode()),
        (LONG.encode(), b"0.1"),
    ):
        raw = b"[" * 1023 + b'{"k":' + leaf + b"}" + b"]" * 1023
        assert dumps(loads(raw)) == raw
        assert dumps(plain(loads(raw))) == raw.replace(leaf, as_float)  # no recursion either


def test_strings_that_look_like_numbers_stay_strings() -> None:
    raw = b'{"id": "12345678901234567890", "e": "1e-400", "n": 12345678901234567890}'
    value, exact_numbers = read_json(raw)
    assert value == {"id": "12345678901234567890", "e": "1e-400", "n": 12345678901234567890}
    assert not exact_numbers


def test_an_exact_number_behaves_as_its_float() -> None:
    number = ExactNumber(LONG)
    assert number == 0.1 and number + 1 == 1.1 and isinstance(number, float)
    assert str(number) == f"{number}" == LONG and repr(number) == f"ExactNumber({LONG!r})"
    assert pickle.loads(pickle.dumps(number)).text == LONG
    assert copy.deepcopy([number])[0].text == LONG


def test_write_json_says_which_texts_need_the_exact_reader() -> None:
    plain_document = {"a": [1, 0.5, "x" * 20, 2**63], "b": {"c": None}}
    assert jsontext.write_json(plain_document) == (orjson.dumps(plain_document), False)
    deep = loads(b"[" * 300 + b"]" * 300)  # deeper than orjson writes: the slow writer
    for needs_care in ({"n": BIG}, {"x": ExactNumber(LONG)}, {"deep": deep}):
        text, flag = jsontext.write_json(needs_care)
        assert flag and text == dumps(needs_care)
    with pytest.raises(TypeError):
        jsontext.write_json({"a": object()})


@pytest.mark.parametrize(
    "text",
    [
        b'{"id": "01a23372-90d2-7000-833a-6effbaaa1f1a"}',  # a UUID: its groups stay apart
        b'{"id": "exec-cacecdc5e82e42dc9d6da603de77b5c6"}',  # `5e82...`: not a negative exponent
        b'{"at": "2025-04-30T07:00:00.123456Z", "n": 123456789012345, "x": 1.5e300, "y": 1e-99}',
    ],
)
def test_ordinary_documents_take_the_fast_path(text: bytes) -> None:
    assert not jsontext._needs_care(text)


def test_what_is_not_json_is_not_written() -> None:
    with pytest.raises(TypeError):
        dumps({"a": object()})
    with pytest.raises(TypeError):
        dumps({"a": [BIG, object()]})  # through the slow writer too
    with pytest.raises(TypeError):
        dumps({1: [BIG]})


# --- properties -------------------------------------------------------------------------------

CHARACTERS = st.characters(exclude_categories=["Cs"])  # no lone surrogate: not JSON text
KEYS = st.text(CHARACTERS, max_size=8)
STRINGS = st.text(CHARACTERS, max_size=20) | st.sampled_from(
    ['"', "\\", "\n", "\u2028", "\x00", "1e-400", "12345678901234567890", "é😀"]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | STRINGS
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=25,
)


@SETTINGS
@given(DOCUMENTS)
def test_the_exact_reader_builds_what_orjson_builds(document: Any) -> None:
    raw = orjson.dumps(document)
    exact, kept = jsontext._read_exactly(raw.decode())
    assert exact == orjson.loads(raw) and not kept


@SETTINGS
@given(DOCUMENTS)
def test_the_slow_writer_writes_what_orjson_writes(document: Any) -> None:
    assert jsontext._write_slowly(document) == orjson.dumps(document)


@SETTINGS
@given(st.integers(-(10**300), 10**300), DOCUMENTS)
def test_any_integer_comes_back_exactly(number: int, neighbour: Any) -> None:
    document = {"n": number, "other": neighbour}
    raw = dumps(document)
    assert loads(raw) == document and dumps(loads(raw)) == raw


@SETTINGS
@given(
    st.booleans(),
    st.text("0123456789", min_size=1, max_size=30),
    st.text("0123456789", max_size=40),
    st.none() | st.integers(-420, 300),
)
def test_any_decimal_comes_back_with_its_value(
    negative: bool, whole: str, fraction: str, exponent: int | None
) -> None:
    whole = whole.lstrip("0") or "0"
    text = ("-" if negative else "") + whole + (f".{fraction}" if fraction else "")
    text += f"e{exponent}" if exponent is not None else ""
    assume(abs(Decimal(text)) < Decimal("1e308"))
    raw = f'{{"x": {text}, "s": "t"}}'.encode()
    value = loads(raw)
    written = dumps(value)
    number = written.removeprefix(b'{"x":').removesuffix(b',"s":"t"}')  # the number's text
    assert Decimal(number.decode()) == Decimal(text)
    assert loads(written) == value and dumps(loads(written)) == written
    integer = "." not in text and "e" not in text
    assert plain(value)["x"] == (int(text) if integer else float(text))  # the nearest double
