"""Violations: none for a conforming journey, each fault once with its path and direction."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from lenz_contract.proxy.checks import FastChecker
from lenz_contract.proxy.exchange import Exchange
from lenz_contract.proxy.reference import ReferenceChecker, ReferenceJob
from lenz_contract.spec import Spec

from ..conftest import load_fixture
from .conftest import AUTH, ProxyFactory, issues
from .upstreams import Upstream


def test_a_conforming_journey_has_zero_violations(
    proxy: ProxyFactory, mock_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "violations.jsonl"
    create = load_fixture("docs/createWorkflow.request.json")
    update = load_fixture("docs/updateWorkflow.request.json")
    with proxy(mock_url, log_path=log) as p:
        c = p.client
        created = c.post("/api/workflows", json=create, headers=AUTH)
        assert created.status_code == 201, created.text
        wid = created.json()["data"]["id"]
        steps = [
            c.get("/api/workflows", params={"search": "LAPORAN"}, headers=AUTH),
            c.get("/api/workflows", params={"page": 1, "limit": 1}, headers=AUTH),
            c.get("/api/workflows", params={"page": 999}, headers=AUTH),
            c.get(f"/api/workflows/{wid}", headers=AUTH),
            c.put(f"/api/workflows/{wid}", json=update, headers=AUTH),
            c.post(f"/api/workflows/{wid}/execute", headers=AUTH),
            c.get(f"/api/workflows/{wid}/logs", headers=AUTH),
            c.delete(f"/api/workflows/{wid}", headers=AUTH),
        ]
        assert [s.status_code for s in steps] == [200] * len(steps)
        gone = [
            c.get(f"/api/workflows/{wid}", headers=AUTH),
            c.post(f"/api/workflows/{wid}/execute", headers=AUTH),
            c.get(f"/api/workflows/{wid}/logs", headers=AUTH),
        ]
        assert [g.status_code for g in gone] == [404] * 3
        report = p.flush()
    total = 1 + len(steps) + len(gone)
    assert report["totals"]["exchanges"] == total
    assert report["totals"]["violations"] == 0, issues(report)
    assert report["reference"]["checked"] == total  # openapi-core saw every exchange too
    assert report["reference"]["failed"] == 0
    assert log.read_text() == ""
    assert p.console.getvalue() == ""


BAD_CREATE: dict[str, Any] = copy.deepcopy(load_fixture("docs/createWorkflow.request.json"))
BAD_CREATE["trigger_node"]["config"]["cron"] = "every morning"
BAD_CREATE["bogus"] = True


def test_each_broken_rule_is_reported_once_with_its_path(
    proxy: ProxyFactory, broken: tuple[str, Upstream], tmp_path: Path
) -> None:
    url, _ = broken
    log = tmp_path / "violations.jsonl"
    with proxy(url, log_path=log) as p:
        c = p.client
        c.get("/api/workflows", params={"limit": 0}, headers=AUTH)
        for wid in ("status-500", "wrong-type", "html", "missing-id", "ok"):
            c.get(f"/api/workflows/{wid}", headers=AUTH)
        c.post("/api/workflows/wf-1/execute", headers=AUTH)
        c.post("/api/workflows", json=BAD_CREATE, headers=AUTH)
        c.post(
            "/api/workflows",
            content=b"name=x",
            headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
        )
        c.get("/api/workflows/ok")  # no token
        report = p.flush()
    found = sorted(issues(report))
    assert found == sorted(
        [
            ("listWorkflows", "request", "query.limit", 1),
            ("listWorkflows", "response", "body.data[0].is_active", 1),
            ("listWorkflows", "response", "body.total_page", 1),
            ("getWorkflow", "response", "status", 1),
            ("getWorkflow", "response", "header.Content-Type", 2),  # wrong-type and html
            ("getWorkflow", "response", "body", 1),  # html: not JSON
            ("getWorkflow", "response", "body.data.id", 1),
            ("getWorkflow", "request", "header.Authorization", 1),
            ("executeWorkflow", "response", "body.data.node_results", 1),
            ("createWorkflow", "request", "body.trigger_node.config.cron", 1),
            ("createWorkflow", "request", "body.bogus", 1),
            ("createWorkflow", "request", "header.Content-Type", 1),
        ]
    )
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(records) == report["totals"]["violations"] == 13
    assert {r["engine"] for r in records} == {"fast"}  # openapi-core agreed: nothing to add
    by_path = {(r["operation"], r["path"]): r for r in records}
    is_active = by_path[("listWorkflows", "body.data[0].is_active")]
    assert (is_active["direction"], is_active["expected"], is_active["actual"]) == (
        "response",
        "boolean",
        '"yes"',
    )
    assert is_active["source"] == "documented"
    assert is_active["spec"] == "#/components/schemas/Workflow/properties/is_active/type"
    status = by_path[("getWorkflow", "status")]
    assert (status["expected"], status["actual"], status["source"]) == (
        "status in [200, 400, 401, 404]",
        "500",
        "inferred",
    )
    limit = by_path[("listWorkflows", "query.limit")]
    assert (limit["direction"], limit["expected"], limit["actual"], limit["source"]) == (
        "request",
        ">= 1",
        "0",
        "inferred",
    )
    cron = by_path[("createWorkflow", "body.trigger_node.config.cron")]
    assert cron["expected"] == 'the CronExpression format (for example "0 0 7 * * *")'
    assert by_path[("getWorkflow", "body.data.id")]["actual"] == "missing"
    assert by_path[("getWorkflow", "body")]["actual"].startswith("malformed JSON")
    for record in records:
        assert record["curl"].startswith("curl -sS -X ")
        assert record["time"].endswith("Z") and record["url"].startswith("/api/workflows")
    assert '"Authorization: Bearer $LENZ_TOKEN"' in by_path[("getWorkflow", "status")]["curl"]
    console = p.console.getvalue().splitlines()
    assert len(console) == 13
    assert (
        "VIOLATION getWorkflow response status: expected status in [200, 400, 401, 404], "
        "got 500 [inferred] (GET /api/workflows/status-500 -> 500)"
    ) in console


def test_fail_on_violation_answers_502_naming_the_violation(
    proxy: ProxyFactory, broken: tuple[str, Upstream]
) -> None:
    url, _ = broken
    with proxy(url, fail_on_violation=True) as p:
        bad = p.client.get("/api/workflows/missing-id", headers=AUTH)
        undocumented = p.client.get("/api/workflows/status-500", headers=AUTH)
        good = p.client.get("/api/workflows/ok", headers=AUTH)
        only_request_bad = p.client.get("/api/workflows/ok")  # the client's fault: passed through
    assert bad.status_code == 502
    assert bad.headers["x-lenz-proxy"] == "contract-violation"
    body = bad.json()
    assert body["ok"] is False
    assert body["message"] == (
        "contract violation in the upstream's answer to getWorkflow (status 200): "
        'body.data.id: expected required property "id", got missing'
    )
    assert body["errors"] == [
        {"path": "body.data.id", "reason": 'expected required property "id", got missing'}
    ]
    assert body["violations"][0]["direction"] == "response"
    assert (
        undocumented.status_code == 502
        and "status: expected status in [" in undocumented.json()["message"]
    )
    assert good.status_code == 200 and good.json()["data"]["id"] == "ok"
    assert only_request_bad.status_code == 200


def test_report_as_json_and_as_html(proxy: ProxyFactory, broken: tuple[str, Upstream]) -> None:
    url, _ = broken
    with proxy(url) as p:
        p.client.get("/api/workflows/html", headers=AUTH)
        p.client.get("/not/in/the/spec")
        p.flush()
        by_accept = p.client.get("/__proxy/report", headers={"Accept": "application/json"})
        by_query = p.client.get("/__proxy/report?format=json")
        page = p.client.get("/__proxy/report", headers={"Accept": "text/html,*/*"})
    assert by_accept.headers["content-type"] == "application/json"
    data = by_accept.json()
    assert by_query.json()["totals"] == data["totals"]
    assert data["totals"] == {
        "exchanges": 2,
        "violations": 2,
        "request_violations": 0,
        "response_violations": 2,
        "unmatched": 1,
        "upstream_errors": 0,
    }
    get_op = next(op for op in data["operations"] if op["operation"] == "getWorkflow")
    assert get_op["path"] == "/api/workflows/{id}" and get_op["exchanges"] == 1
    assert {i["path"] for i in get_op["issues"]} == {"header.Content-Type", "body"}
    assert data["unmatched"] == [{"method": "GET", "path": "/not/in/the/spec", "count": 1}]
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<meta http-equiv="refresh"' in html
    assert "getWorkflow" in html and "header.Content-Type" in html and "text/html" in html
    assert "<html><body>Bad" not in html and "&lt;html&gt;&lt;body&gt;Bad" in html  # escaped


def test_the_reference_engine_runs_in_its_own_process(proxy: ProxyFactory, mock_url: str) -> None:
    with proxy(mock_url, reference="process") as p:
        assert p.client.get("/api/workflows?limit=abc", headers=AUTH).status_code == 400
        assert p.client.get("/api/workflows/wf-uuid-001", headers=AUTH).status_code == 200
        report = p.flush()
    assert report["reference"]["mode"] == "process"
    assert (report["reference"]["checked"], report["reference"]["failed"]) == (2, 0)
    assert issues(report) == [("listWorkflows", "request", "query.limit", 1)]  # not twice


def _exchange(
    method: str, path: str, status: int, body: Any, *, query: str = "", request: bytes = b""
) -> Exchange:
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return Exchange(
        id=1,
        time=0.0,
        method=method,
        path=path,
        query_string=query,
        query=[tuple(p.split("=", 1)) for p in query.split("&") if p],  # type: ignore[misc]
        request_headers=[("authorization", "Bearer t"), ("content-type", "application/json")],
        request_body=request,
        status=status,
        response_headers=[("content-type", "application/json")],
        response_body=raw,
    )


def test_a_reference_job_carries_no_credentials_and_the_decoded_body() -> None:
    """What is pickled to the reference worker: no bearer token, no cookie, a readable body."""
    exchange = _exchange("GET", "/api/workflows", 200, b"gzipped")
    exchange = replace(exchange, request_headers=[*exchange.request_headers, ("Cookie", "s=1")])
    job = ReferenceJob.of(exchange, b'{"ok": true}', "documented", None)
    assert job.exchange.request_headers == [
        ("authorization", "Bearer redacted"),
        ("content-type", "application/json"),
    ]
    assert job.exchange.response_body == b'{"ok": true}'
    assert (job.operation_source, job.response_source) == ("documented", None)
    assert exchange.response_body == b"gzipped"  # the proxy's own copy is untouched


def test_both_engines_locate_faults_at_the_same_paths(spec: Spec) -> None:
    """The reduplication rule (same direction and path) only works if the engines agree."""
    fast, reference = FastChecker(spec), ReferenceChecker(spec.document)
    workflow = load_fixture("docs/getWorkflow.response.json")
    broken = copy.deepcopy(workflow)
    broken["ok"] = "yes"
    broken["data"]["nodes"][0].pop("id")
    broken["data"]["updated_at"] = "yesterday"
    del broken["data"]["trigger_node"]
    cases = [
        _exchange("GET", "/api/workflows/wf-uuid-001", 200, broken),
        _exchange("GET", "/api/workflows", 200, {"ok": True}, query="limit=abc&page=0"),
        _exchange(
            "POST",
            "/api/workflows",
            201,
            load_fixture("docs/createWorkflow.response.json"),
            request=json.dumps(BAD_CREATE).encode(),
        ),
        _exchange("DELETE", "/api/workflows/x", 500, {"ok": False, "message": "boom"}),
    ]
    for exchange in cases:
        route = fast.route(exchange.method, exchange.path)
        mine = fast.check_request(exchange, route) + list(
            fast.check_response(exchange, route).findings
        )
        job = ReferenceJob(exchange, "documented", "inferred")
        theirs = reference.check(job)
        assert {(f.direction, f.path) for f in mine} == {(f.direction, f.path) for f in theirs}, (
            exchange.path
        )
        assert mine, exchange.path
