"""The semantic checks: silent on the mock's whole journey, each catching its broken upstream."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from lenz_contract.proxy.semantics import differences, fits
from lenz_contract.proxy.violations import Violation

from ..conftest import load_fixture
from ..support.live import serve
from . import semantic_upstreams as upstreams
from .conftest import AUTH, ProxyFactory


def semantic(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every distinct semantic finding of a report, with its operation."""
    return [
        {**issue, "operation": op["operation"]}
        for op in report["operations"]
        for issue in op["issues"]
        if issue["rule"].startswith("semantic.")
    ]


def test_the_mock_journey_has_no_semantic_finding(
    proxy: ProxyFactory, mock_url: str, tmp_path: Path
) -> None:
    """Create, search, page, read, update, read again, execute, logs, delete, read the deleted:
    every rule has something to judge, and the mock keeps every one of them."""
    create = load_fixture("docs/createWorkflow.request.json")
    update = load_fixture("docs/updateWorkflow.request.json")
    with proxy(mock_url, log_path=tmp_path / "log.jsonl") as p:
        c = p.client

        def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
            return c.request(method, url, headers=AUTH, **kwargs)

        first = call("POST", "/api/workflows", json=create).json()["data"]["id"]
        second = call("POST", "/api/workflows", json={**create, "name": "Ekspor Mingguan"})
        steps = [
            call("GET", "/api/workflows", params={"search": "LAPORAN"}),
            call("GET", "/api/workflows", params={"search": "mingguan", "limit": 1}),
            call("GET", "/api/workflows", params={"page": 1, "limit": 1}),
            call("GET", "/api/workflows", params={"page": 2, "limit": 1}),
            call("GET", "/api/workflows", params={"page": 999}),
            call("GET", f"/api/workflows/{first}"),
            call("PUT", f"/api/workflows/{first}", json=update),
            call("GET", f"/api/workflows/{first}"),
            call("GET", "/api/workflows"),
            call("POST", f"/api/workflows/{first}/execute"),
            call("GET", f"/api/workflows/{first}/logs"),
            call("GET", f"/api/workflows/{first}/logs", params={"page": 2, "limit": 1}),
            call("POST", "/api/workflows/wf-uuid-001/execute"),
            call("GET", "/api/workflows/wf-uuid-001"),
            call("GET", "/api/workflows/wf-uuid-001/logs"),
            call("DELETE", f"/api/workflows/{first}"),
            call("GET", f"/api/workflows/{first}"),
            call("GET", f"/api/workflows/{first}/logs"),
            call("POST", f"/api/workflows/{first}/execute"),
            call("PUT", f"/api/workflows/{first}", json=update),
            call("GET", "/api/workflows"),
            call("DELETE", f"/api/workflows/{second.json()['data']['id']}"),
        ]
        assert [s.status_code for s in steps[-7:-1]] == [200, 404, 404, 404, 404, 200]
        report = p.flush()
    assert report["totals"]["violations"] == 0, semantic(report) or report["operations"]
    stats = report["semantics"]
    assert stats["findings"] == 0 and stats["disabled"] == {}
    assert stats["judged"] == 2 + len(steps) == report["totals"]["exchanges"]


def broken(
    proxy: ProxyFactory, app: Starlette, drive: Callable[[httpx.Client], None]
) -> list[dict[str, Any]]:
    """The semantic findings of a proxy in front of `app` while `drive` runs."""
    with serve(app) as url, proxy(url) as p:
        drive(p.client)
        report = p.flush()
    schema = [
        issue
        for op in report["operations"]
        for issue in op["issues"]
        if not issue["rule"].startswith("semantic.")
    ]
    assert schema == [], "the broken upstream must break semantics only"
    return semantic(report)


def only(found: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(found) == 1, found
    return found[0]


def test_identity_the_answer_is_the_workflow_asked_for(proxy: ProxyFactory) -> None:
    def drive(c: httpx.Client) -> None:
        c.get("/api/workflows/wf-1", headers=AUTH)

    issue = only(broken(proxy, upstreams.wrong_identity_app(), drive))
    assert (issue["rule"], issue["path"], issue["operation"]) == (
        "semantic.workflow-identity",
        "body.data.id",
        "getWorkflow",
    )
    assert issue["actual"] == '"wf-someone-else"' and '"wf-1"' in issue["expected"]
    assert issue["source"] == "documented"
    assert issue["basis"] == "documented: «id*string»; «ID Workflow (UUID).»"
    assert len(issue["rests_on"]) == 1


def test_pagination_arithmetic(proxy: ProxyFactory) -> None:
    def drive(c: httpx.Client) -> None:
        c.get("/api/workflows", params={"page": 2, "limit": 10}, headers=AUTH)

    found = {i["path"]: i for i in broken(proxy, upstreams.bad_pagination_app(), drive)}
    assert set(found) == {"body.total_page", "body.current_page", "body.data"}
    assert found["body.total_page"]["expected"] == "3: ceil(total_data 25 / limit 10)"
    assert found["body.current_page"]["expected"] == "2 (the page asked for)"
    assert found["body.data"]["actual"] == "12 items"
    assert {i["rule"] for i in found.values()} == {"semantic.pagination"}
    assert {i["source"] for i in found.values()} == {"documented"}
    assert "Nomor halaman, dimulai dari 1." in found["body.current_page"]["basis"]


def test_search_results_contain_the_term(proxy: ProxyFactory) -> None:
    def drive(c: httpx.Client) -> None:
        c.get("/api/workflows", params={"search": "LAPORAN"}, headers=AUTH)
        c.get("/api/workflows", headers=AUTH)  # no search: nothing to judge

    issue = only(broken(proxy, upstreams.bad_search_app(), drive))
    assert (issue["rule"], issue["path"], issue["actual"]) == (
        "semantic.search",
        "body.data[1].name",
        '"Ekspor Mingguan"',
    )
    assert "tidak case-sensitive" in issue["basis"]


def test_an_execution_belongs_to_its_workflow_in_pipeline_order(proxy: ProxyFactory) -> None:
    def drive(c: httpx.Client) -> None:
        c.post("/api/workflows/wf-foreign/execute", headers=AUTH)
        c.post("/api/workflows/wf-unseen/execute", headers=AUTH)  # workflow never seen: skipped
        c.get("/api/workflows/wf-order", headers=AUTH)
        c.post("/api/workflows/wf-order/execute", headers=AUTH)

    found = {i["path"]: i for i in broken(proxy, upstreams.foreign_execution_app(), drive)}
    assert set(found) == {"body.data.workflow_id", "body.data.node_results[1]"}
    assert found["body.data.workflow_id"]["actual"] == '"wf-someone-else"'
    order = found["body.data.node_results[1]"]
    assert "out of order or repeated; the pipeline is node-a, node-b" in order["expected"]
    assert {i["rule"] for i in found.values()} == {"semantic.execution-workflow"}
    assert "hasil setiap Action Node" not in found["body.data.workflow_id"]["basis"]
    assert "secara manual" in order["basis"]  # the execute operation's own words


def test_a_read_after_a_put_shows_the_update(proxy: ProxyFactory) -> None:
    update = load_fixture("docs/updateWorkflow.request.json")

    def drive(c: httpx.Client) -> None:
        c.put("/api/workflows/wf-1", json={**update, "name": "Nama Baru"}, headers=AUTH)
        c.get("/api/workflows/wf-1", headers=AUTH)
        c.get("/api/workflows/wf-1", headers=AUTH)  # judged once, by the first read

    found = broken(proxy, upstreams.stale_update_app(), drive)
    assert {i["path"] for i in found} == {
        "body.data.name",
        "body.data.description",
        "body.data.nodes",
    }
    name = next(i for i in found if i["path"] == "body.data.name")
    assert name["expected"].startswith('"Nama Baru" (sent by the PUT of exchange #1)')
    assert name["actual"] == '"Laporan Harian"'
    assert name["rests_on"] == [1, 2] and name["count"] == 1
    assert name["source"] == "universal" and "RFC 9110" in name["basis"]


def test_a_deleted_workflow_is_gone(proxy: ProxyFactory) -> None:
    def drive(c: httpx.Client) -> None:
        c.get("/api/workflows/wf-undead", headers=AUTH)  # before: fine
        c.delete("/api/workflows/wf-undead", headers=AUTH)
        c.get("/api/workflows/wf-undead", headers=AUTH)
        c.get("/api/workflows/wf-undead/logs", headers=AUTH)
        c.get("/api/workflows", headers=AUTH)

    found = {
        (i["operation"], i["path"]): i for i in broken(proxy, upstreams.undead_delete_app(), drive)
    }
    assert set(found) == {
        ("getWorkflow", "status"),
        ("listWorkflowLogs", "body.data"),
        ("listWorkflows", "body.data[0].id"),
    }
    read = found[("getWorkflow", "status")]
    assert read["expected"] == "a 4xx: the workflow was deleted by exchange #2"
    assert read["rests_on"] == [2, 3] and read["rule"] == "semantic.delete-gone"
    assert found[("listWorkflowLogs", "body.data")]["rests_on"] == [2, 4]
    assert {i["source"] for i in found.values()} == {"universal"}


def test_semantics_can_be_turned_off(proxy: ProxyFactory) -> None:
    app = upstreams.wrong_identity_app()
    with serve(app) as url, proxy(url, semantics=False) as p:
        p.client.get("/api/workflows/wf-1", headers=AUTH)
        report = p.flush()
    assert report["totals"]["violations"] == 0 and report["semantics"] is None


def test_findings_reach_the_log_and_the_console_with_their_exchanges(
    proxy: ProxyFactory, tmp_path: Path
) -> None:
    log = tmp_path / "log.jsonl"
    with serve(upstreams.undead_delete_app()) as url, proxy(url, log_path=log) as p:
        p.client.delete("/api/workflows/wf-1", headers=AUTH)
        p.client.get("/api/workflows/wf-1", headers=AUTH)
        p.flush()
    [line] = log.read_text().splitlines()
    violation = Violation.from_json(json.loads(line))
    assert violation.rests_on == (1, 2) and violation.engine == "semantic"
    assert violation.console_line().endswith("rests on exchanges #1, #2")
    assert "VIOLATION deleteWorkflow" not in p.console.getvalue()
    assert "VIOLATION getWorkflow response status: expected a 4xx" in p.console.getvalue()


@pytest.mark.parametrize(
    ("named", "fit"),
    [
        ([("a", "x"), ("b", "y")], True),
        ([("a", "x")], True),  # a run that stopped (or is still going)
        ([("b", "y")], True),
        ([("b", "y"), ("a", "x")], False),
        ([("a", "x"), ("a", "x")], False),
        ([("c", "z")], False),
        ([("a", "y")], False),  # the node's type is another
        ([("a", None)], True),
    ],
)
def test_node_results_fit_a_pipeline(named: list[tuple[Any, Any]], fit: bool) -> None:
    assert fits(named, (("a", "x"), ("b", "y"))) is fit


def test_differences_compare_only_what_was_sent() -> None:
    sent = {"name": "n", "is_active": False, "trigger_node": {"config": {"cron": "c"}}, "x": None}
    seen = {"name": "n", "is_active": 0, "trigger_node": {"type": "t", "config": {}}, "extra": 1}
    assert differences(sent, seen, "body.data") == [("body.data.is_active", False, 0)]
    assert differences({"nodes": [1, 2]}, {"nodes": [1]}, "d") == [
        ("d.nodes", "2 item(s)", "1 item(s)")
    ]
    assert differences({"n": 1}, {"n": 1.0}, "d") == []
