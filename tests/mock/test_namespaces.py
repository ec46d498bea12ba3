"""Namespaces: each one an isolated copy of the whole state, on every store.

A request picks one with `X-Lenz-Mock-Namespace` or a token bound to one; without either it is
in `default`. Each starts from the seed and has its own workflows, runs, schedules, clock,
request log and fault settings; the admin API acts on the request's namespace and lists them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from lenz_contract.mock.auth import parse_token_specs
from lenz_contract.mock.namespaces import NAMESPACE_HEADER, NamespaceError, check_name, is_name

from ..conftest import load_fixture
from ..support.live import serve
from ..support.threads import run_together
from .conftest import AUTH, AppFactory

CREATE = load_fixture("docs/createWorkflow.request.json")
anyio = pytest.mark.anyio


def ns(name: str) -> dict[str, str]:
    return {**AUTH, NAMESPACE_HEADER: name}


async def create(client: httpx.AsyncClient, name: str, namespace: str | None) -> str:
    headers = ns(namespace) if namespace else AUTH
    answer = await client.post("/api/workflows", json={**CREATE, "name": name}, headers=headers)
    assert answer.status_code == 201, answer.text
    created: str = answer.json()["data"]["id"]
    return created


async def ids(client: httpx.AsyncClient, namespace: str | None) -> list[str]:
    headers = ns(namespace) if namespace else AUTH
    answer = await client.get("/api/workflows", params={"limit": 100}, headers=headers)
    assert answer.status_code == 200, answer.text
    return [w["id"] for w in answer.json()["data"]]


@anyio
async def test_each_namespace_starts_from_the_seed_and_keeps_its_own_state(
    each_store_client: httpx.AsyncClient,
) -> None:
    client = each_store_client
    mine = await create(client, "only in team-a", "team-a")
    assert await ids(client, "team-a") == ["wf-uuid-001", mine]
    assert await ids(client, "team-b") == ["wf-uuid-001"]  # new: the seed, nothing else
    assert await ids(client, None) == ["wf-uuid-001"]  # the default namespace
    assert await ids(client, "default") == ["wf-uuid-001"]  # ... which has a name
    hidden = await client.get(f"/api/workflows/{mine}", headers=ns("team-b"))
    assert hidden.status_code == 404
    # Same seed ids, separate objects: deleting it in one namespace leaves the others alone.
    gone = await client.delete("/api/workflows/wf-uuid-001", headers=ns("team-b"))
    assert gone.status_code == 200
    assert await ids(client, "team-b") == []
    assert await ids(client, "team-a") == ["wf-uuid-001", mine]
    run = await client.post("/api/workflows/wf-uuid-001/execute", headers=ns("team-a"))
    assert run.status_code == 200
    logs_a = await client.get("/api/workflows/wf-uuid-001/logs", headers=ns("team-a"))
    logs_default = await client.get("/api/workflows/wf-uuid-001/logs", headers=AUTH)
    assert logs_a.json()["total_data"] == logs_default.json()["total_data"] + 1


@anyio
async def test_the_admin_api_works_per_namespace(each_store_client: httpx.AsyncClient) -> None:
    client = each_store_client
    mine = await create(client, "team-a's", "team-a")
    before = (await client.get("/api/workflows/wf-uuid-001/logs", headers=AUTH)).json()
    # the clock: moved in team-a only, and its schedules fire there only
    moved = await client.post(
        "/__mock/clock", json={"advance": 86400}, headers={NAMESPACE_HEADER: "team-a"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["namespace"] == "team-a"
    fired = {f["workflow_id"] for f in moved.json()["schedules"]["fired"]}
    assert fired == {"wf-uuid-001", mine}
    assert (await client.get("/__mock/clock")).json()["offset_seconds"] == 0
    team_clock = (await client.get("/__mock/clock", headers={NAMESPACE_HEADER: "team-a"})).json()
    assert team_clock["offset_seconds"] == 86400
    after = (await client.get("/api/workflows/wf-uuid-001/logs", headers=AUTH)).json()
    assert after == before
    # export and import
    exported = (await client.get("/__mock/state", headers={NAMESPACE_HEADER: "team-a"})).json()
    assert {w["id"] for w in exported["workflows"]} == {"wf-uuid-001", mine}
    imported = await client.put(
        "/__mock/state",
        json={k: exported[k] for k in ("workflows", "executions", "credentials")},
        headers={NAMESPACE_HEADER: "copy"},
    )
    assert imported.status_code == 200, imported.text
    assert set(await ids(client, "copy")) == {"wf-uuid-001", mine}
    # reset: team-a back to the seed, the copy untouched
    reset = await client.post("/__mock/reset", headers={NAMESPACE_HEADER: "team-a"})
    assert reset.json()["namespace"] == "team-a"
    assert await ids(client, "team-a") == ["wf-uuid-001"]
    assert set(await ids(client, "copy")) == {"wf-uuid-001", mine}
    # the list of namespaces
    listed = (await client.get("/__mock/namespaces")).json()["data"]
    by_name = {n["name"]: n for n in listed}
    assert {"default", "team-a", "copy"} <= set(by_name)
    assert by_name["copy"]["workflows"] == 2
    assert by_name["team-a"]["clock_offset_seconds"] == 86400


@anyio
async def test_request_log_and_faults_are_per_namespace(client: httpx.AsyncClient) -> None:
    await client.get("/api/workflows", headers=ns("team-a"))
    await client.get("/api/workflows", headers=ns("team-a"))
    await client.get("/api/workflows", headers=AUTH)
    mine = (await client.get("/__mock/requests", headers={NAMESPACE_HEADER: "team-a"})).json()
    assert [r["path"] for r in mine["data"]] == ["/api/workflows"] * 2  # team-a's two only
    failing = {"failures": {"listWorkflows": 503}}
    assert (
        await client.put("/__mock/config", json=failing, headers={NAMESPACE_HEADER: "team-a"})
    ).status_code == 200
    assert (await client.get("/api/workflows", headers=ns("team-a"))).status_code == 503
    assert (await client.get("/api/workflows", headers=AUTH)).status_code == 200


@anyio
@pytest.mark.parametrize(
    "name",
    ["Team-A", "team a", "", "-lead", "a" * 64, "ü", "team.a", "team/a", "x\ty"],
)
async def test_a_bad_namespace_name_is_a_400_with_the_rule(
    client: httpx.AsyncClient, name: str
) -> None:
    raw = [(NAMESPACE_HEADER.encode(), name.encode())]  # as a client sends it (UTF-8 bytes)
    auth = [(k.encode(), v.encode()) for k, v in AUTH.items()]
    answer = await client.get("/api/workflows", headers=auth + raw)
    assert answer.status_code == 400, answer.text
    error = answer.json()["errors"][0]
    assert error["path"] == f"header.{NAMESPACE_HEADER}"
    assert "lowercase letters a-z, digits, '-' and '_'" in error["reason"]
    admin = await client.get("/__mock/state", headers=raw)
    assert admin.status_code == 400


def test_the_name_rule() -> None:
    for good in ("default", "team-a", "ci-4711", "pr_12", "0", "a" * 63):
        assert is_name(good) and check_name(good) == good
    for bad in ("Team", "a.b", "a" * 64, "_x", "é"):
        assert not is_name(bad)


def test_tokens_bind_to_a_namespace_after_the_last_at() -> None:
    specs = {s.token: s for s in parse_token_specs(["a=u@team-a", "b=alice@example.com", "c"])}
    assert (specs["a"].user, specs["a"].namespace) == ("u", "team-a")
    assert (specs["b"].user, specs["b"].namespace) == ("alice@example.com", None)
    assert specs["c"].namespace is None
    both = parse_token_specs(["d=alice@example.com@ci-7"])[0]
    assert (both.user, both.namespace) == ("alice@example.com", "ci-7")


@anyio
async def test_a_bound_token_is_confined_to_its_namespace(make_app: AppFactory) -> None:
    app = make_app(tokens={"job-1": "ci", "open": "dev"}, token_namespaces={"job-1": "ci-1"})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as client:
        job = {"Authorization": "Bearer job-1"}
        created = await client.post("/api/workflows", json=CREATE, headers=job)
        assert created.status_code == 201
        wid = created.json()["data"]["id"]
        # no header: the token's namespace; the same name in a header: fine
        assert (await client.get(f"/api/workflows/{wid}", headers=job)).status_code == 200
        same = {**job, NAMESPACE_HEADER: "ci-1"}
        assert (await client.get(f"/api/workflows/{wid}", headers=same)).status_code == 200
        other = await client.get("/api/workflows", headers={**job, NAMESPACE_HEADER: "default"})
        assert other.status_code == 403
        assert "bound to namespace 'ci-1'" in other.json()["errors"][0]["reason"]
        dev = {"Authorization": "Bearer open"}
        assert (await client.get(f"/api/workflows/{wid}", headers=dev)).status_code == 404
        into = {**dev, NAMESPACE_HEADER: "ci-1"}
        assert (await client.get(f"/api/workflows/{wid}", headers=into)).status_code == 200
        # the admin API follows the token too
        exported = await client.get("/__mock/state", headers=job)
        assert wid in {w["id"] for w in exported.json()["workflows"]}


@anyio
async def test_a_deleted_namespace_takes_all_it_held_and_starts_again_from_the_seed(
    each_store_client: httpx.AsyncClient,
) -> None:
    client = each_store_client
    mine = await create(client, "job 9's", "ci-9")
    run = await client.post("/api/workflows/wf-uuid-001/execute", headers=ns("ci-9"))
    assert run.status_code == 200
    seed_runs = (await client.get("/api/workflows/wf-uuid-001/logs", headers=AUTH)).json()
    gone = await client.delete("/__mock/namespaces/ci-9")
    assert gone.status_code == 200, gone.text
    assert gone.json() == {"ok": True, "message": "namespace deleted", "namespace": "ci-9"}
    listed = (await client.get("/__mock/namespaces")).json()["data"]
    assert "ci-9" not in {n["name"] for n in listed}
    assert await ids(client, "ci-9") == ["wf-uuid-001"]  # named again: the seed, afresh
    logs = (await client.get("/api/workflows/wf-uuid-001/logs", headers=ns("ci-9"))).json()
    assert logs["total_data"] == seed_runs["total_data"]
    assert (await client.get(f"/api/workflows/{mine}", headers=ns("ci-9"))).status_code == 404
    assert await ids(client, None) == ["wf-uuid-001"]  # the others untouched
    missing = await client.delete("/__mock/namespaces/never-made")
    assert missing.status_code == 404
    assert missing.json()["errors"] == [
        {"path": "path.name", "reason": "there is no namespace 'never-made'"}
    ]
    bad = await client.delete("/__mock/namespaces/CI%209")
    assert bad.status_code == 400 and "is not a namespace name" in bad.text
    kept = await client.delete("/__mock/namespaces/default")
    assert kept.status_code == 400 and "cannot be deleted" in kept.text
    assert await ids(client, None) == ["wf-uuid-001"]


@anyio
async def test_a_bound_token_deletes_only_its_own_namespace(make_app: AppFactory) -> None:
    app = make_app(tokens={"job-1": "ci"}, token_namespaces={"job-1": "ci-1"})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as client:
        job = {"Authorization": "Bearer job-1"}
        assert (await client.get("/api/workflows", headers=job)).status_code == 200
        other = await client.delete("/__mock/namespaces/default", headers=job)
        assert other.status_code == 403, other.text
        own = await client.delete("/__mock/namespaces/ci-1", headers=job)
        assert own.status_code == 200, own.text


def test_deleting_a_namespace_frees_its_place_under_the_limit(make_app: AppFactory) -> None:
    namespaces = make_app().state.mock.namespaces
    namespaces.limit = len(namespaces.opened()) + 2
    namespaces.get("a"), namespaces.get("b")
    with pytest.raises(NamespaceError, match="DELETE /__mock/namespaces/NAME"):
        namespaces.get("c")
    assert namespaces.drop("a") and not namespaces.drop("a")
    assert namespaces.get("c").name == "c"


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_on_a_shared_store_the_least_recently_used_namespace_makes_room(
    make_app: AppFactory, kind: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    """A CI job that never deleted its namespace does not use up a replica: past the limit the
    namespace used longest ago is closed in this process, and its data waits in the store."""
    option: dict[str, Any] = (
        {"state_path": tmp_path / "s.sqlite"}
        if kind == "sqlite"
        else {"database_url": request.getfixturevalue("postgres_url")}
    )
    state = make_app(**option).state.mock
    try:
        namespaces = state.namespaces
        namespaces.limit = len(namespaces.opened()) + 2
        a, b = namespaces.get("a"), namespaces.get("b")
        kept = b.service.create_workflow({**CREATE, "name": "b's"})["id"]
        for name in ("default", "b", "a"):  # "default" is the idlest, but never closed
            namespaces.known(name)
        c = namespaces.get("c")
        assert {n.name for n in namespaces.opened()} == {"a", "default", "c"}
        assert namespaces.known("b") is None and c.name == "c" and namespaces.known("a") is a
        again = namespaces.get("b")  # reopened, not seeded again: its workflow is there
        assert again is not b and again.store.get_workflow(kept) is not None
    finally:
        state.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_processes_sharing_a_store_forget_a_namespace_another_one_deleted(
    make_app: AppFactory, kind: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    """Two mock states on one store, as two workers or two replicas: the second closes the
    namespace the first deleted at its next background check, not before."""
    option: dict[str, Any] = (
        {"state_path": tmp_path / "s.sqlite"}
        if kind == "sqlite"
        else {"database_url": request.getfixturevalue("postgres_url")}
    )
    first, second = make_app(**option).state.mock, make_app(**option).state.mock
    try:
        made = second.namespaces.get("ci-3")
        assert first.namespaces.get("ci-3").name == "ci-3"
        made.service.create_workflow({**CREATE, "name": "job 3's"})
        assert first.namespaces.drop("ci-3")
        assert second.namespaces.known("ci-3") is made  # not yet: no check has run
        second.namespaces.tick(fire=False)
        assert second.namespaces.known("ci-3") is None
        again = second.namespaces.get("ci-3")
        assert [w["id"] for w in again.store.list_workflows("", 0, 10).items] == ["wf-uuid-001"]
        assert second.namespaces.forget_dropped() == []  # what exists is kept
    finally:
        first.close()
        second.close()


@anyio
async def test_an_unauthenticated_request_creates_no_namespace(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/workflows", headers={NAMESPACE_HEADER: "nobody"})
    assert answer.status_code == 401
    listed = (await client.get("/__mock/namespaces")).json()["data"]
    assert "nobody" not in {n["name"] for n in listed}


JOBS = 6
ROUNDS = 5


def ci_job(base_url: str, job: int, seen: dict[int, set[str]], mine: dict[int, set[str]]) -> None:
    """One CI job's journey in its own namespace: create, list, execute, read the logs."""
    headers = ns(f"ci-{job}")
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
        for round_ in range(ROUNDS):
            made = http.post("/api/workflows", json={**CREATE, "name": f"job {job} #{round_}"})
            assert made.status_code == 201, made.text
            workflow_id = made.json()["data"]["id"]
            mine[job].add(workflow_id)
            listed = http.get("/api/workflows", params={"limit": 100}).json()["data"]
            seen[job] |= {w["id"] for w in listed}
            run = http.post(f"/api/workflows/{workflow_id}/execute")
            assert run.status_code == 200, run.text
            logs = http.get(f"/api/workflows/{workflow_id}/logs").json()
            assert [r["workflow_id"] for r in logs["data"]] == [workflow_id]
            seen[job] |= {r["workflow_id"] for r in logs["data"]}
        search = http.get("/api/workflows", params={"search": "job", "limit": 100}).json()
        seen[job] |= {w["id"] for w in search["data"]}
        assert search["total_data"] == ROUNDS


def run_jobs(base_url: str) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    seen: dict[int, set[str]] = {job: set() for job in range(JOBS)}
    mine: dict[int, set[str]] = {job: set() for job in range(JOBS)}
    run_together(lambda job: ci_job(base_url, job, seen, mine), JOBS)
    return seen, mine


def assert_isolated(seen: dict[int, set[str]], mine: dict[int, set[str]]) -> None:
    everyone = set().union(*mine.values())
    for job in range(JOBS):
        assert len(mine[job]) == ROUNDS
        assert seen[job] - {"wf-uuid-001"} == mine[job], f"job {job} saw another job's ids"
        assert not (seen[job] & (everyone - mine[job]))


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_parallel_ci_jobs_in_their_own_namespaces_never_see_each_other(
    make_app: AppFactory, kind: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    """Six jobs at once against one mock over real HTTP, each in its own namespace."""
    options: dict[str, Any] = {}
    if kind == "sqlite":
        options["state_path"] = tmp_path / "s.sqlite"
    if kind == "postgres":
        options["database_url"] = request.getfixturevalue("postgres_url")
    app: Starlette = make_app(**options)
    with serve(app) as base_url:
        seen, mine = run_jobs(base_url)
        assert_isolated(seen, mine)
        with httpx.Client(base_url=base_url, headers=AUTH) as http:
            assert [w["id"] for w in http.get("/api/workflows").json()["data"]] == ["wf-uuid-001"]


def test_namespaces_share_nothing_in_process(make_app: AppFactory) -> None:
    app = make_app()
    state = app.state.mock
    first, second = state.namespaces.get("a"), state.namespaces.get("b")
    assert first.store is not second.store and first.service.clock is not second.service.clock
    assert first.recorder is not second.recorder and first.faults is not second.faults
    assert asyncio.run(state.call(lambda: 1)) == 1
