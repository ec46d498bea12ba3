"""`spec/requests.py`: query coercion, defaults, bodies and located reasons (no server)."""

from __future__ import annotations

import json

import pytest

from lenz_contract.spec import Spec
from lenz_contract.spec.requests import RequestValidator, compile_request_validators, media_type

from ..conftest import load_fixture


@pytest.fixture(scope="module")
def validators(spec: Spec) -> dict[str, RequestValidator]:
    return compile_request_validators(spec)


def paths(verdict: object) -> list[str]:
    return [e.path for e in verdict.errors]  # type: ignore[attr-defined]


def test_query_defaults_come_from_the_spec(validators: dict[str, RequestValidator]) -> None:
    verdict = validators["listWorkflows"].validate(path_params={}, query=[])
    assert verdict.ok
    assert verdict.query == {"page": 1, "limit": 10}


def test_query_values_are_typed(validators: dict[str, RequestValidator]) -> None:
    verdict = validators["listWorkflows"].validate(
        path_params={}, query=[("page", "2"), ("limit", "500"), ("search", "")]
    )
    assert verdict.ok
    assert verdict.query == {"page": 2, "limit": 500, "search": ""}


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ([("limit", "0")], "query.limit"),
        ([("limit", "abc")], "query.limit"),
        ([("limit", "")], "query.limit"),
        ([("limit", "1.5")], "query.limit"),
        ([("page", "-1")], "query.page"),
        ([("page", "1"), ("page", "2")], "query.page"),
        ([("page", "9" * 5000)], "query.page"),
    ],
)
def test_bad_query_values_are_located(
    validators: dict[str, RequestValidator], query: list[tuple[str, str]], where: str
) -> None:
    verdict = validators["listWorkflows"].validate(path_params={}, query=query)
    assert verdict.status == 400
    assert paths(verdict) == [where]


def test_every_problem_is_reported(validators: dict[str, RequestValidator]) -> None:
    verdict = validators["listWorkflows"].validate(
        path_params={}, query=[("page", "x"), ("limit", "0")]
    )
    assert paths(verdict) == ["query.page", "query.limit"]


def test_huge_integers_are_valid_integers(validators: dict[str, RequestValidator]) -> None:
    verdict = validators["listWorkflows"].validate(path_params={}, query=[("page", "9" * 40)])
    assert verdict.ok
    assert verdict.query["page"] == int("9" * 40)


def test_empty_path_parameter_is_refused(validators: dict[str, RequestValidator]) -> None:
    verdict = validators["getWorkflow"].validate(path_params={"id": ""}, query=[])
    assert paths(verdict) == ["path.id"]


def body_of(
    validators: dict[str, RequestValidator], raw: bytes, content_type: str = "application/json"
) -> object:
    return validators["createWorkflow"].validate(
        path_params={}, query=[], content_type=content_type, body=raw
    )


def test_docs_body_is_valid_and_gets_defaults(validators: dict[str, RequestValidator]) -> None:
    body = load_fixture("docs/createWorkflow.request.json")
    body.pop("is_active")
    verdict = body_of(validators, json.dumps(body).encode())
    assert verdict.ok  # type: ignore[attr-defined]
    assert verdict.body["is_active"] is True  # type: ignore[attr-defined]


def test_invalid_cron_is_located(validators: dict[str, RequestValidator]) -> None:
    body = load_fixture("docs/createWorkflow.request.json")
    body["trigger_node"]["config"]["cron"] = "every morning"
    verdict = body_of(validators, json.dumps(body).encode())
    assert verdict.status == 400  # type: ignore[attr-defined]
    assert "body.trigger_node.config.cron" in paths(verdict)


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"\xff\xfe\x00",
        b'{"name": NaN}',
        b'"\\ud800"',
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_malformed_bodies_are_400_not_crashes(
    validators: dict[str, RequestValidator], raw: bytes
) -> None:
    verdict = body_of(validators, raw)
    assert verdict.status == 400  # type: ignore[attr-defined]
    assert paths(verdict) == ["body"]


def test_missing_body_and_wrong_media_type(validators: dict[str, RequestValidator]) -> None:
    assert body_of(validators, b"").status == 400  # type: ignore[attr-defined]
    wrong = body_of(validators, b"{}", "text/plain")
    assert wrong.status == 415  # type: ignore[attr-defined]
    assert paths(wrong) == ["header.Content-Type"]
    assert body_of(validators, b"{}", "Application/JSON; charset=utf-8").status == 400  # type: ignore[attr-defined]


def test_media_type() -> None:
    assert media_type("application/json; charset=UTF-8") == "application/json"
    assert media_type(None) == ""
