"""`spec/requests.py`'s parameter reader (the mock's and the proxy's): the integer rule, query
decoding, repeats, empties, and the problem each refusal reports."""

from __future__ import annotations

from typing import Any

import pytest

from lenz_contract.spec import FieldError, Spec
from lenz_contract.spec.requests import RequestValidator, read_query


@pytest.fixture(scope="module")
def listing(spec: Spec) -> RequestValidator:
    return RequestValidator(spec, spec.operation("listWorkflows"))


def reasons(validator: RequestValidator, query: list[tuple[str, str]]) -> list[str]:
    return [str(e) for e in validator.validate(path_params={}, query=query).errors]


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", 1), ("10", 10), ("007", 7), ("-0", 0), ("-3", -3), ("9" * 40, int("9" * 40))],
)
def test_an_integer_is_an_optional_minus_and_ascii_digits(
    listing: RequestValidator, text: str, value: int
) -> None:
    ((_, read, problem),), _ = listing.read_parameters({}, [("limit", text)])
    assert problem is None and read == value and type(read) is int


@pytest.mark.parametrize(
    "text",
    [
        "1_0",  # int() takes Python's digit separators
        "+1",
        " 10",
        "10 ",
        " 10 ",
        "10\n",
        "\uff11\uff10",  # full-width １０
        "\u0661\u0660",  # Arabic-Indic ١٠
        "\u0967",  # Devanagari १
        "1.0",
        "1e1",
        "0x10",
        "--1",
        "- 1",
        "ten",
    ],
)
def test_anything_else_is_refused_where_it_is(listing: RequestValidator, text: str) -> None:
    assert reasons(listing, [("limit", text)]) == [f"query.limit: must be an integer, got {text!r}"]


def test_the_issue_example_reads_as_the_issue_says(listing: RequestValidator) -> None:
    assert reasons(listing, [("limit", "1_0")]) == ["query.limit: must be an integer, got '1_0'"]


def test_an_integer_beyond_what_python_converts_is_refused_not_a_crash(
    listing: RequestValidator,
) -> None:
    (reason,) = reasons(listing, [("page", "9" * 5000)])
    assert reason.startswith("query.page: must be an integer of at most 4300 digits, got '999")


def test_schema_rules_come_after_reading(listing: RequestValidator) -> None:
    assert [e.path for e in listing.validate(path_params={}, query=[("limit", "0")]).errors] == [
        "query.limit"
    ]
    # Every problem, in declaration order (page is declared before limit), read or schema.
    query = [("limit", "x"), ("page", "0")]
    assert [e.path for e in listing.validate(path_params={}, query=query).errors] == [
        "query.page",
        "query.limit",
    ]


def test_empty_and_repeated_values(listing: RequestValidator) -> None:
    assert reasons(listing, [("limit", "")]) == ["query.limit: must not be empty"]
    assert listing.validate(path_params={}, query=[("search", "")]).ok  # allowEmptyValue
    assert reasons(listing, [("limit", "1"), ("limit", "2")]) == [
        "query.limit: given 2 times; give it once"
    ]


def test_each_problem_says_the_rule_for_the_proxy(listing: RequestValidator) -> None:
    values, defaults = listing.read_parameters(
        {}, [("page", "1"), ("page", "2"), ("limit", "1_0"), ("search", "x")]
    )
    problems = [(p.where, p.rule, p.expected, p.actual) for _, _, p in values if p]
    assert problems == [
        ("query.page", "repeated", "one value", "2 values"),
        ("query.limit", "type", "an integer", '"1_0"'),
    ]
    assert [(rule.name, value) for rule, value, p in values if not p] == [("search", "x")]
    assert defaults == {}


def test_read_query_decodes_utf8_and_refuses_anything_else() -> None:
    assert read_query(b"") == ([], None)
    assert read_query(b"limit=%2010&search=a+b&x=%EF%BC%91&limit=10%20") == (
        [("limit", " 10"), ("search", "a b"), ("x", "\uff11"), ("limit", "10 ")],
        None,
    )
    assert read_query(b"limit=%2B1&search=") == ([("limit", "+1"), ("search", "")], None)
    for raw in (b"search=%FF", b"search=\xff", b"limit=%C0"):
        pairs, problem = read_query(raw)
        assert pairs == [] and isinstance(problem, FieldError) and problem.path == "query"


def typed_spec() -> Spec:
    """A contract with number, boolean, array and header parameters (the Lenz one has none)."""
    parameters: list[dict[str, Any]] = [
        {"name": "ratio", "in": "query", "schema": {"type": "number", "maximum": 1}},
        {"name": "flag", "in": "query", "schema": {"type": "boolean"}},
        {"name": "tag", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}}},
        {"name": "X-Count", "in": "header", "required": True, "schema": {"type": "integer"}},
    ]
    return Spec(
        {
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/t": {
                    "get": {
                        "operationId": "t",
                        "parameters": parameters,
                        "responses": {"200": {"description": ""}},
                    }
                }
            },
        }
    )


def test_numbers_booleans_arrays_and_headers() -> None:
    spec = typed_spec()
    validator = RequestValidator(spec, spec.operation("t"))

    def check(query: list[tuple[str, str]], headers: list[tuple[str, str]]) -> list[str]:
        verdict = validator.validate(path_params={}, query=query, headers=headers)
        return [str(e) for e in verdict.errors]

    count = [("x-count", "3")]  # header names are case-insensitive
    assert check([("ratio", "0.5"), ("flag", "TRUE"), ("tag", "1"), ("tag", "-2")], count) == []
    assert check([("ratio", "1e-3")], count) == []
    assert check([("ratio", " 0.5")], count) == ["query.ratio: must be a number, got ' 0.5'"]
    assert check([("ratio", "1_0.5")], count) == ["query.ratio: must be a number, got '1_0.5'"]
    assert check([("ratio", "nan")], count) == ["query.ratio: must be a number, got 'nan'"]
    assert check([("ratio", "1e999")], count) == [
        "query.ratio: must be a finite number, got '1e999'"
    ]
    assert check([("ratio", "2")], count)[0].startswith("query.ratio: ")  # maximum
    assert check([("flag", "yes")], count) == ["query.flag: must be true or false, got 'yes'"]
    assert check([("tag", "1"), ("tag", "+2")], count) == [
        "query.tag: must be an integer, got '+2'"
    ]
    assert check([], []) == ["header.X-Count: is required"]
    assert check([], [("X-Count", "٣")]) == ["header.X-Count: must be an integer, got '٣'"]
    # Without headers (a caller that does not read them), header parameters are not read.
    assert validator.validate(path_params={}, query=[]).ok
