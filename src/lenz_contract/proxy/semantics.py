"""Semantic checks: what the proxy can judge from traffic that no schema says.

A schema says what an answer looks like; it cannot say that `GET /api/workflows/wf-1` answers
`wf-1`, that a page's arithmetic adds up, or that a workflow read after a successful PUT shows
the update. These checks do, from the exchanges the proxy sees, and only as the docs profile
asserts (what the docs promise, plus HTTP itself), so a deployment that decides an open point its
own way is never reported for it:

- `semantic.workflow-identity`: the answer to `/api/workflows/{id}` is that workflow;
- `semantic.pagination`: `total_page` is `ceil(total_data / limit)` (0 or 1 with no data), the
  page asked for is the page answered, a page holds at most `limit` items;
- `semantic.search`: every result's name contains the search term (partial, case-insensitive);
- `semantic.execution-workflow`: an execution belongs to its workflow, and its node results name
  nodes of that workflow in pipeline order (judged when the proxy has seen the workflow: any
  version it saw, since it may not see every update);
- `semantic.update-visible`: the first read of a workflow after a successful PUT shows what the
  PUT sent (only the fields it sent, and in objects only the keys both sides have: a deployment
  may merge, and the docs' answers drop node config keys);
- `semantic.delete-gone`: after a successful DELETE, the workflow is gone: a 4xx for it, no
  item of a list, and its logs a 4xx or an empty page.

Each rule's provenance is the spec's (`provenance_at` of the place it rests on): documented,
with the docs' words, or universal (HTTP's, RFC 9110). Each finding names the exchanges it rests
on. Which operation plays which part is read from the spec (a `WorkflowId` path parameter,
`page`/`limit` query parameters, the method), not from operation names. A place the spec no
longer has switches its rule off (listed in `stats()`), never the proxy.
"""

from __future__ import annotations

import math
import re
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from ..spec import Operation, Source, Spec, SpecError, provenance_at
from ..spec.document import resolve_pointer
from .exchange import Exchange, parse_json
from .violations import Finding, short_json

WORKFLOW_ID_SCHEMA = "#/components/schemas/WorkflowId"
PAGINATION = "#/components/schemas/Pagination"
MAX_WORKFLOWS = 10_000
MAX_VERSIONS = 8
MAX_FINDINGS = 20
POSITIVE = re.compile(r"^[1-9][0-9]{0,8}$")

IDENTITY = "semantic.workflow-identity"
PAGINATION_RULE = "semantic.pagination"
SEARCH = "semantic.search"
EXECUTION = "semantic.execution-workflow"
UPDATE = "semantic.update-visible"
DELETE = "semantic.delete-gone"
RULES = (IDENTITY, PAGINATION_RULE, SEARCH, EXECUTION, UPDATE, DELETE)

HTTP_PUT = "RFC 9110 §9.3.4: a successful PUT sets the state a later GET of the resource shows"
HTTP_DELETE = "RFC 9110 §9.3.5: a successful DELETE removes the resource from the server's view"


@dataclass(frozen=True)
class Basis:
    """What a rule rests on in the spec: the place, its source and the words (or reason)."""

    pointer: str
    source: str
    text: str


@dataclass(frozen=True)
class Role:
    """The part an operation plays, read from the spec."""

    kind: str  # list | create | get | update | delete | execute | logs | other
    id_param: str | None
    id_pointer: str | None
    search_pointer: str | None


NodeList = tuple[tuple[str, str | None], ...]
"""A workflow's pipeline as `(node id, node type)` pairs, in order."""


@dataclass
class Expectation:
    """A successful PUT (or DELETE) that later reads must reflect."""

    exchange: int
    completed: float
    sent: dict[str, Any] = field(default_factory=dict)


@dataclass
class Known:
    """What the proxy has seen of one workflow."""

    versions: deque[NodeList] = field(default_factory=lambda: deque(maxlen=MAX_VERSIONS))
    update: Expectation | None = None
    deleted: Expectation | None = None

    def learn(self, nodes: Any) -> None:
        pipeline = node_list(nodes)
        if pipeline is not None and pipeline not in self.versions:
            self.versions.append(pipeline)


def node_list(nodes: Any) -> NodeList | None:
    if not isinstance(nodes, list):
        return None
    out = []
    for node in nodes:
        if not isinstance(node, dict) or not isinstance(node.get("id"), str):
            return None
        kind = node.get("type")
        out.append((node["id"], kind if isinstance(kind, str) else None))
    return tuple(out)


class SemanticChecker:
    """Judges exchanges one after the other, keeping what it learnt of each workflow."""

    def __init__(self, spec: Spec, *, clock: Any = time.time) -> None:
        self.document = spec.document
        self.clock = clock
        self.roles = {op_id: self._role(op) for op_id, op in spec.operations.items()}
        self.disabled: dict[str, str] = {}
        self.bases: dict[tuple[str, str], Basis] = {}
        self.workflows: OrderedDict[str, Known] = OrderedDict()
        self.judged = 0
        self.findings = 0
        for op_id, op in spec.operations.items():
            self._bases_of(op_id, op)

    # -- reading the spec --------------------------------------------------------------------
    def _role(self, op: Operation) -> Role:
        id_param = id_pointer = None
        for param in op.parameters:
            raw = resolve_pointer(self.document, param.schema_pointer)
            is_id = isinstance(raw, dict) and raw.get("$ref") == WORKFLOW_ID_SCHEMA
            if param.location == "path" and is_id:
                id_param = param.name
                id_pointer = param.schema_pointer.rsplit("/", 1)[0]
        names = {p.name for p in op.query_parameters()}
        paginated = {"page", "limit"} <= names
        search = op.parameter("search")
        search_pointer = search.schema_pointer.rsplit("/", 1)[0] if search else None
        method = op.method
        if method == "GET" and paginated:
            kind = "logs" if id_param else "list"
        elif id_param is None:
            kind = "create" if method == "POST" else "other"
        else:
            kind = {"GET": "get", "PUT": "update", "DELETE": "delete", "POST": "execute"}.get(
                method, "other"
            )
        return Role(kind, id_param, id_pointer, search_pointer)

    def _bases_of(self, op_id: str, op: Operation) -> None:
        role = self.roles[op_id]
        path_item = op.pointer.rsplit("/", 1)[0]
        wanted: dict[str, tuple[str | None, str | None]] = {
            IDENTITY: (role.id_pointer, None),
            PAGINATION_RULE: (PAGINATION, None),
            SEARCH: (role.search_pointer, None),
            EXECUTION: (op.pointer, None),
            UPDATE: (path_item, HTTP_PUT),
            DELETE: (path_item, HTTP_DELETE),
        }
        for rule, (pointer, universal) in wanted.items():
            if pointer is None:
                continue
            try:
                found = provenance_at(self.document, pointer)
            except SpecError as exc:
                self.disabled[rule] = str(exc)
                continue
            if found.source is Source.UNIVERSAL:
                text = f"universal: {universal}" if universal else "universal"
            else:
                text = found.describe()
            self.bases[(rule, op_id)] = Basis(pointer, found.source.value, text)

    def basis(self, rule: str, op_id: str, *, child: str = "") -> Basis | None:
        if rule in self.disabled:
            return None
        found = self.bases.get((rule, op_id))
        if found is None or not child:
            return found
        pointer = f"{found.pointer}/properties/{child}"
        try:
            sub = provenance_at(self.document, pointer)
        except SpecError:
            return found
        return Basis(pointer, sub.source.value, sub.describe())

    # -- judging -------------------------------------------------------------------------------
    def check(
        self, exchange: Exchange, operation: Operation, params: dict[str, str], body: Any
    ) -> list[Finding]:
        """Findings of one complete exchange; `body` is its answer's JSON (None if it has none)."""
        role = self.roles.get(operation.operation_id)
        if role is None or not exchange.response_complete:
            return []
        self.judged += 1
        judge = _Judgement(self, exchange, operation.operation_id, role, params, body)
        judge.run()
        self.findings += len(judge.out)
        return judge.out[:MAX_FINDINGS]

    def known(self, workflow_id: str) -> Known:
        found = self.workflows.get(workflow_id)
        if found is None:
            found = self.workflows[workflow_id] = Known()
            if len(self.workflows) > MAX_WORKFLOWS:
                self.workflows.popitem(last=False)
        else:
            self.workflows.move_to_end(workflow_id)
        return found

    def peek(self, workflow_id: str) -> Known | None:
        return self.workflows.get(workflow_id)

    def stats(self) -> dict[str, Any]:
        return {
            "rules": list(RULES),
            "judged": self.judged,
            "findings": self.findings,
            "workflows_known": len(self.workflows),
            "disabled": dict(self.disabled),
        }


class _Judgement:
    """One exchange's judgement (keeps `check` short and each rule in a method of its own)."""

    def __init__(
        self,
        checker: SemanticChecker,
        exchange: Exchange,
        op_id: str,
        role: Role,
        params: dict[str, str],
        body: Any,
    ) -> None:
        self.checker = checker
        self.exchange = exchange
        self.op_id = op_id
        self.role = role
        self.body = body if isinstance(body, dict) else None
        self.workflow_id = params.get(role.id_param) if role.id_param else None
        self.ok = 200 <= exchange.status < 300
        self.out: list[Finding] = []
        self.query: dict[str, list[str]] = {}
        for key, value in exchange.query:
            self.query.setdefault(key, []).append(value)

    def finding(
        self,
        rule: str,
        path: str,
        expected: str,
        actual: str,
        *,
        earlier: int | None = None,
        child: str = "",
    ) -> None:
        basis = self.checker.basis(rule, self.op_id, child=child)
        if basis is None:
            return
        rests_on = (earlier, self.exchange.id) if earlier is not None else (self.exchange.id,)
        self.out.append(
            Finding(
                "response",
                path,
                rule,
                expected,
                actual,
                basis.source,
                basis.pointer,
                rests_on,
                basis.text,
            )
        )

    def run(self) -> None:
        kind = self.role.kind
        data = self.body.get("data") if self.body is not None else None
        if kind in ("get", "update", "execute", "logs") and self.workflow_id is not None:
            self.gone(data)
        if not self.ok:
            return
        if kind in ("list", "logs"):
            self.pagination(data)
        if kind == "list":
            self.search(data)
            for index, item in enumerate(data if isinstance(data, list) else []):
                self.read(item, f"body.data[{index}]")
        elif kind == "create" and isinstance(data, dict) and isinstance(data.get("id"), str):
            known = self.checker.known(data["id"])
            known.deleted = None
            known.learn(data.get("nodes"))
        elif kind == "get":
            self.identity(data)
            self.read(data, "body.data")
        elif kind == "update":
            self.identity(data)
            self.updated()
        elif kind == "delete" and self.workflow_id is not None:
            known = self.checker.known(self.workflow_id)
            known.deleted = Expectation(self.exchange.id, self.checker.clock())
            known.update = None
        elif kind == "execute":
            self.execution(data, "body.data")
        elif kind == "logs":
            for index, item in enumerate(data if isinstance(data, list) else []):
                self.execution(item, f"body.data[{index}]")

    # -- the rules -------------------------------------------------------------------------
    def identity(self, data: Any) -> None:
        if not isinstance(data, dict) or "id" not in data or self.workflow_id is None:
            return
        if data["id"] != self.workflow_id:
            self.finding(
                IDENTITY,
                "body.data.id",
                f"{short_json(self.workflow_id)} (the workflow the path names)",
                short_json(data["id"]),
            )

    def pagination(self, data: Any) -> None:
        body = self.body or {}
        numbers = {k: body.get(k) for k in ("limit", "current_page", "total_data", "total_page")}
        ints = {k: v for k, v in numbers.items() if isinstance(v, int) and not isinstance(v, bool)}
        limit, total, pages = ints.get("limit"), ints.get("total_data"), ints.get("total_page")
        if limit is not None and limit > 0 and total is not None and pages is not None:
            expected = {0, 1} if total == 0 else {math.ceil(total / limit)}
            if pages not in expected:
                words = "0 or 1 (no data)" if total == 0 else str(min(expected))
                self.finding(
                    PAGINATION_RULE,
                    "body.total_page",
                    f"{words}: ceil(total_data {total} / limit {limit})",
                    str(pages),
                    child="total_page",
                )
        asked = self.query.get("page", [])
        current = ints.get("current_page")
        echoes = len(asked) == 1 and POSITIVE.match(asked[0]) and current is not None
        if echoes and current != int(asked[0]):
            self.finding(
                PAGINATION_RULE,
                "body.current_page",
                f"{int(asked[0])} (the page asked for)",
                str(current),
                child="current_page",
            )
        if limit is not None and limit > 0 and isinstance(data, list) and len(data) > limit:
            self.finding(
                PAGINATION_RULE,
                "body.data",
                f"at most limit = {limit} item(s)",
                f"{len(data)} items",
                child="limit",
            )

    def search(self, data: Any) -> None:
        terms = self.query.get("search", [])
        if len(terms) != 1 or not terms[0] or not isinstance(data, list):
            return
        term = terms[0]
        for index, item in enumerate(data):
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str) and not _contains(name, term):
                self.finding(
                    SEARCH,
                    f"body.data[{index}].name",
                    f"a name containing {short_json(term)} (partial, case-insensitive)",
                    short_json(name),
                )

    def read(self, data: Any, where: str) -> None:
        """A workflow read (an item of a list, or one workflow): learn it, judge update/delete."""
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            return
        known = self.checker.peek(data["id"])
        deleted = known.deleted if known is not None else None
        listed = where != "body.data"  # a read of one workflow is judged by `gone`
        if deleted is not None and listed and self.exchange.time >= deleted.completed:
            self.finding(
                DELETE,
                f"{where}.id",
                f"no item {short_json(data['id'])}: deleted by exchange #{deleted.exchange}",
                short_json(data["id"]),
                earlier=deleted.exchange,
            )
        update = known.update if known is not None else None
        if update is not None and self.exchange.time >= update.completed:
            for path, sent, seen in differences(update.sent, data, where):
                self.finding(
                    UPDATE,
                    path,
                    f"{short_json(sent, 60)} (sent by the PUT of exchange #{update.exchange})",
                    short_json(seen, 60),
                    earlier=update.exchange,
                )
            assert known is not None
            known.update = None
        self.checker.known(data["id"]).learn(data.get("nodes"))

    def updated(self) -> None:
        if self.workflow_id is None:
            return
        known = self.checker.known(self.workflow_id)
        sent: Any = None
        if self.exchange.request_body:
            ok, value, _ = parse_json(self.exchange.request_body)
            sent = value if ok else None
        fields = {k: v for k, v in sent.items() if v is not None} if isinstance(sent, dict) else {}
        known.update = Expectation(self.exchange.id, self.checker.clock(), fields)
        if "nodes" in fields:
            known.learn(fields["nodes"])

    def gone(self, data: Any) -> None:
        assert self.workflow_id is not None
        known = self.checker.peek(self.workflow_id)
        if known is None or known.deleted is None or not self.ok:
            return
        if self.exchange.time < known.deleted.completed:
            return
        deleted = known.deleted.exchange
        if self.role.kind == "logs":
            if isinstance(data, list) and data:
                self.finding(
                    DELETE,
                    "body.data",
                    f"a 4xx or an empty page: the workflow was deleted by exchange #{deleted}",
                    f"{len(data)} execution(s)",
                    earlier=deleted,
                )
            return
        self.finding(
            DELETE,
            "status",
            f"a 4xx: the workflow was deleted by exchange #{deleted}",
            str(self.exchange.status),
            earlier=deleted,
        )

    def execution(self, data: Any, where: str) -> None:
        if not isinstance(data, dict) or self.workflow_id is None:
            return
        owner = data.get("workflow_id")
        if isinstance(owner, str) and owner != self.workflow_id:
            self.finding(
                EXECUTION,
                f"{where}.workflow_id",
                f"{short_json(self.workflow_id)} (the workflow the path names)",
                short_json(owner),
            )
            return
        known = self.checker.peek(self.workflow_id)
        results = data.get("node_results")
        if known is None or not known.versions or not isinstance(results, list):
            return
        named = [
            (r.get("node_id"), r.get("node_type")) if isinstance(r, dict) else (None, None)
            for r in results
        ]
        if any(fits(named, version) for version in known.versions):
            return
        index, why = misfit(named, known.versions[-1])
        self.finding(
            EXECUTION,
            f"{where}.node_results[{index}]",
            "a node of the workflow, in pipeline order (" + why + ")",
            short_json(results[index] if index < len(results) else None, 100),
        )


def _contains(name: str, term: str) -> bool:
    return term.casefold() in name.casefold() or term.lower() in name.lower()


def fits(named: list[tuple[Any, Any]], version: NodeList) -> bool:
    """Do node results name nodes of `version`, each once, in its order (a prefix or a subset
    of it: a run still going, or one that stopped at a failure)?"""
    order = {node_id: (index, kind) for index, (node_id, kind) in enumerate(version)}
    last = -1
    for node_id, kind in named:
        if node_id not in order:
            return False
        index, expected_kind = order[node_id]
        if index <= last:
            return False
        if isinstance(kind, str) and expected_kind is not None and kind != expected_kind:
            return False
        last = index
    return True


def misfit(named: list[tuple[Any, Any]], version: NodeList) -> tuple[int, str]:
    """The first node result that does not fit `version`, and why."""
    order = {node_id: (index, kind) for index, (node_id, kind) in enumerate(version)}
    ids = ", ".join(node_id for node_id, _ in version) or "no nodes"
    last = -1
    for position, (node_id, kind) in enumerate(named):
        if node_id not in order:
            return position, f"the workflow's nodes are {ids}"
        index, expected_kind = order[node_id]
        if index <= last:
            return position, f"out of order or repeated; the pipeline is {ids}"
        if isinstance(kind, str) and expected_kind is not None and kind != expected_kind:
            return position, f"node {node_id} is a {expected_kind} node"
        last = index
    return 0, f"the workflow's nodes are {ids}"


def differences(sent: Any, seen: Any, where: str) -> list[tuple[str, Any, Any]]:
    """Where a read differs from what a PUT sent: only what was sent, and in objects only the
    keys both have (a deployment may leave out what it does not echo)."""
    if isinstance(sent, dict) and isinstance(seen, dict):
        out: list[tuple[str, Any, Any]] = []
        for key, value in sent.items():
            if key in seen and value is not None:
                out += differences(value, seen[key], f"{where}.{key}")
        return out
    if isinstance(sent, list) and isinstance(seen, list):
        if len(sent) != len(seen):
            return [(where, f"{len(sent)} item(s)", f"{len(seen)} item(s)")]
        return [
            found
            for index, (a, b) in enumerate(zip(sent, seen, strict=True))
            for found in differences(a, b, f"{where}[{index}]")
        ]
    if isinstance(sent, bool) or isinstance(seen, bool):
        return [] if sent is seen else [(where, sent, seen)]
    numbers = isinstance(sent, int | float) and isinstance(seen, int | float)
    if type(sent) is not type(seen) and not numbers:
        return [(where, sent, seen)]
    return [] if sent == seen else [(where, sent, seen)]


def json_body(exchange: Exchange, parsed: bool, body: Any) -> Any:
    """The answer's JSON: the fast engine's parse when it made one, else a parse of our own."""
    if parsed:
        return body
    raw = exchange.decoded_response_body()
    if not raw:
        return None
    ok, value, _ = parse_json(raw)
    return value if ok else None
