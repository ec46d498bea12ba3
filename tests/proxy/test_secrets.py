"""Tokens and other secrets never reach the console, the log, the report or a recording."""

from __future__ import annotations

from pathlib import Path

import pytest

from lenz_contract.mock import create_app as create_mock
from lenz_contract.proxy.redact import REDACTED, Redactor, is_secret_name

from ..conftest import load_fixture
from ..support.live import serve
from .conftest import ProxyFactory
from .upstreams import SECRET_IN_BODY, Upstream

TOKEN = "s3cr3t-bearer-0123456789abcdef"
COOKIE = "cookie-value-5551234xyz"
PASSWORD = "hunter2-secret-pass"
QUERY_TOKEN = "query-token-9876543210"


def everything_written(root: Path, *texts: str) -> str:
    files = [p.read_text(encoding="utf-8") for p in sorted(root.rglob("*")) if p.is_file()]
    return "\n".join([*files, *texts])


def test_secrets_are_redacted_everywhere(
    proxy: ProxyFactory, broken: tuple[str, Upstream], tmp_path: Path
) -> None:
    url, state = broken
    out = tmp_path / "out"
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Cookie": f"session={COOKIE}",
        "X-Api-Key": "api-key-value-0000111",
    }
    body = load_fixture("docs/createWorkflow.request.json")
    body["password"] = PASSWORD  # not allowed by the schema: a request violation at body.password
    with proxy(url, log_path=out / "log.jsonl", record_dir=out / "rec") as p:
        assert p.client.get("/api/workflows/secret", headers=headers).status_code == 200
        assert p.client.get("/api/workflows/echo-token", headers=headers).status_code == 400
        p.client.get(f"/api/workflows?limit=abc&access_token={QUERY_TOKEN}", headers=headers)
        p.client.post("/api/workflows", json=body, headers=headers)
        p.client.get("/api/workflows/status-500", headers=headers)
        report = p.flush()
        html = p.client.get("/__proxy/report").text
        json_report = p.client.get("/__proxy/report?format=json").text
    assert state.received[-1].headers  # the upstream did get the real token...
    assert (
        dict((k.lower(), v) for k, v in state.received[-1].headers)["authorization"]
        == f"Bearer {TOKEN}"
    )
    written = everything_written(out, p.console.getvalue(), html, json_report)
    for secret in (TOKEN, COOKIE, PASSWORD, QUERY_TOKEN, SECRET_IN_BODY, "api-key-value-0000111"):
        assert secret not in written, secret  # ...but nothing the proxy wrote has it
    assert report["totals"]["violations"] >= 3
    assert "$LENZ_TOKEN" in written and REDACTED in written
    recorded = (out / "rec" / "examples" / "getWorkflow" / "200-secret.json").read_text()
    assert '"bot_token": "[REDACTED]"' in recorded
    assert '"credential_id": "cred-tg-001"' in recorded  # an id, not a secret: kept for the mock
    assert "echo [REDACTED]" in recorded  # the token echoed into a name is scrubbed by value
    password = next(
        i for op in report["operations"] for i in op["issues"] if i["path"] == "body.password"
    )
    assert password["actual"] == REDACTED


def test_a_recorded_journey_keeps_no_token(proxy: ProxyFactory, tmp_path: Path) -> None:
    mock = create_mock(tokens={TOKEN: "user-alfin"}, scheduler=False)
    with (
        serve(mock) as mock_url,
        proxy(mock_url, record_dir=tmp_path / "rec", log_path=tmp_path / "log.jsonl") as p,
    ):
        auth = {"Authorization": f"Bearer {TOKEN}"}
        wid = p.client.post(
            "/api/workflows", json=load_fixture("docs/createWorkflow.request.json"), headers=auth
        ).json()["data"]["id"]
        p.client.post(f"/api/workflows/{wid}/execute", headers=auth)
        p.client.get(f"/api/workflows/{wid}/logs?limit=abc", headers=auth)
        p.client.get("/api/workflows", headers={"Authorization": "Bearer wrong-token-value-1"})
        p.flush()
    written = everything_written(tmp_path, p.console.getvalue())
    assert TOKEN not in written and "wrong-token-value-1" not in written
    assert (tmp_path / "rec" / "seed" / "executions.json").read_text().count(
        '"triggered_by": "user-alfin"'
    ) == 1


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("bot_token", True),
        ("accessToken", True),
        ("client_secret", True),
        ("X-Api-Key", True),
        ("apiKey", True),
        ("password", True),
        ("credentials", True),
        ("session_id", True),
        ("Set-Cookie", True),
        ("private_key", True),
        ("credential_id", False),
        ("author", False),
        ("name", False),
        ("file", False),
        ("tokenizer_id", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_redactor_scrubs_by_name_shape_and_value() -> None:
    redactor = Redactor()
    redactor.learn_headers(
        [
            ("Authorization", "Bearer opaque-token-abcdef"),
            ("Cookie", "a=short; b=long-cookie-value-1"),
        ]
    )
    assert (
        redactor.text("it was opaque-token-abcdef and long-cookie-value-1")
        == f"it was {REDACTED} and {REDACTED}"
    )
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl"
    assert redactor.text(f"got {jwt}") == f"got {REDACTED}"
    assert redactor.text("Authorization: Bearer abc.def-123") == f"Authorization: Bearer {REDACTED}"
    assert redactor.json({"a": {"client_secret": {"x": 1}, "keep": ["opaque-token-abcdef"]}}) == {
        "a": {"client_secret": REDACTED, "keep": [REDACTED]}
    }
    assert redactor.header_value("Authorization", "Basic dXNlcjpwYXNz") == f"Basic {REDACTED}"
    assert redactor.query([("access_token", "x"), ("page", "1")]) == [
        ("access_token", REDACTED),
        ("page", "1"),
    ]
    assert redactor.path_is_secret('body.nodes[0].config["bot_token"]')
    assert not redactor.path_is_secret("body.nodes[0].config.credential_id")
