"""The mock over HTTP: node type errors are located by their branch; every refusal is listed.

The contract closes node and trigger types (a discriminated `oneOf`) and lists each error status
per operation instead of a `4XX` range; the mock, with its self-check on, must answer exactly
the documented refusals, with the place and the reason a developer can act on.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lenz_contract.mock import create_app

from ..conftest import load_fixture
from ..support.live import serve

AUTH = {"Authorization": "Bearer lenz-mock-token"}


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    app = create_app(self_check=True, scheduler=False)
    with serve(app) as base_url, httpx.Client(base_url=base_url, headers=AUTH) as c:
        yield c
    assert not app.state.mock.failures, app.state.mock.failures


def create_body() -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(load_fixture("docs/createWorkflow.request.json"))
    return body


def test_an_export_node_without_date_range_is_named(client: httpx.Client) -> None:
    body = create_body()
    del body["nodes"][0]["config"]["date_range"]
    answer = client.post("/api/workflows", json=body)
    assert (answer.status_code, answer.json()) == (
        400,
        {
            "ok": False,
            "message": "invalid request",
            "errors": [
                {"path": "body.nodes[0].config", "reason": '"date_range" is a required property'}
            ],
        },
    )


def test_an_unknown_node_type_is_refused_where_it_is(client: httpx.Client) -> None:
    body = create_body()
    body["nodes"][1]["type"] = "telegram_send"
    answer = client.put("/api/workflows/wf-uuid-001", json=body)
    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        {
            "path": "body.nodes[1].type",
            "reason": '"telegram_send" is not one of "event_history_export" or '
            '"telegram_send_attachment"',
        }
    ]


@pytest.mark.parametrize(
    ("method", "path", "headers", "content", "status"),
    [
        ("POST", "/api/workflows", {"Content-Type": "text/plain"}, b"{}", 415),
        ("PUT", "/api/workflows/wf-uuid-001", {"Content-Type": "text/plain"}, b"{}", 415),
        ("POST", "/api/workflows", {"Content-Type": "application/json"}, b"{", 400),
        ("GET", "/api/workflows/nope", {}, b"", 404),
        ("GET", "/api/workflows/nope/logs", {}, b"", 404),
        ("GET", "/api/workflows?limit=0", {}, b"", 400),
    ],
)
def test_each_refusal_is_a_listed_status_with_the_envelope(
    client: httpx.Client,
    method: str,
    path: str,
    headers: dict[str, str],
    content: bytes,
    status: int,
) -> None:
    answer = client.request(method, path, headers=headers, content=content)
    assert answer.status_code == status, answer.text  # the self-check would answer 500
    assert json.loads(answer.text)["ok"] is False
