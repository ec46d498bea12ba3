"""Write the diff corpus: pairs of contracts, each one change apart, with the expected verdicts.

    .venv/bin/python -m tests.diff.make_corpus        # rewrites tests/diff/corpus/

Every pair is made from the shipped spec, with its prose, examples and links taken out (the
diff never reads them, and 40 copies of them would be most of the corpus): `old.yaml` is that
base (with the case's `setup`, when the change needs something to change from), `new.yaml` is
`old.yaml` with the case's one `edit`. `expected.json` holds what a reviewer expects of the
change, written here by hand: its id and its verdict for clients and for deployments, and the
exit code. The pairs are frozen once written: the shipped spec may move on; they need not.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lenz_contract.spec import Spec

CORPUS = Path(__file__).resolve().parent / "corpus"
B, W, C = "breaking", "warning", "compatible"
PROSE = ("description", "summary", "x-lenz-quote", "x-lenz-reason", "examples", "example")
Doc = dict[str, Any]
Edit = Callable[[Doc], object]
INFERRED = {"x-lenz-source": "inferred", "x-lenz-reason": "a corpus case"}


def strip(node: Any, parent: str = "") -> Any:
    """The spec without prose, examples and links; names inside `properties` are kept."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if parent != "properties" and (key in PROSE or key == "links"):
                continue
            if key in ("x-lenz-inferred", "x-lenz-admits") and isinstance(value, dict):
                out[key] = dict.fromkeys(value, "-")
                continue
            out[key] = strip(value, key)
        return out
    if isinstance(node, list):
        return [strip(item) for item in node]
    return node


def base() -> Doc:
    document: Doc = strip(copy.deepcopy(Spec.load().document))
    document.get("components", {}).pop("examples", None)
    document["info"]["description"] = "The diff corpus's base: the shipped spec without prose."
    for item in document["paths"].values():
        for op in item.values():
            if isinstance(op, dict):
                for response in (op.get("responses") or {}).values():
                    if "$ref" not in response:
                        response["description"] = "."
    for response in document["components"]["responses"].values():
        response["description"] = "."
    return document


def S(doc: Doc) -> Doc:  # the components' schemas (short: the cases read as one line each)
    schemas: Doc = doc["components"]["schemas"]
    return schemas


def op(doc: Doc, path: str, method: str) -> Doc:
    found: Doc = doc["paths"][path][method]
    return found


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    edit: Edit
    expected: list[tuple[str, str, str]]
    setup: Edit | None = None

    @property
    def exit(self) -> int:
        return 1 if any(B in (c, d) for _, c, d in self.expected) else 0


def _patch_op(doc: Doc) -> None:
    doc["paths"]["/api/workflows/{id}"]["patch"] = {
        "operationId": "patchWorkflow",
        **INFERRED,
        "security": [{"bearerAuth": []}],
        "responses": {
            "200": {
                "description": ".",
                **INFERRED,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/WorkflowResponse"}
                    }
                },
            }
        },
    }


def _enum(values: list[str]) -> Edit:
    def edit(doc: Doc) -> None:
        S(doc)["Execution"]["properties"]["status"]["enum"] = values

    return edit


def _param(name: str, required: bool) -> Edit:
    def edit(doc: Doc) -> None:
        op(doc, "/api/workflows", "get")["parameters"].append(
            {
                "name": name,
                "in": "query",
                "required": required,
                "schema": {"type": "string"},
                **INFERRED,
            }
        )

    return edit


def _name_max(length: int) -> Edit:
    def edit(doc: Doc) -> None:
        S(doc)["WorkflowInput"]["properties"]["name"]["maxLength"] = length

    return edit


def _format_enum(values: list[str]) -> Edit:
    def edit(doc: Doc) -> None:
        S(doc)["EventHistoryExportConfig"]["properties"]["format"]["enum"] = values

    return edit


def _no_min_length(doc: Doc) -> None:
    name = S(doc)["WorkflowInput"]["properties"]["name"]
    del name["minLength"]
    del name["x-lenz-inferred"]["minLength"]
    if not name["x-lenz-inferred"]:
        del name["x-lenz-inferred"]


def _documented_min_length(doc: Doc) -> None:
    name = S(doc)["WorkflowInput"]["properties"]["name"]
    del name["x-lenz-inferred"]["minLength"]
    if not name["x-lenz-inferred"]:
        del name["x-lenz-inferred"]


def _no_telegram_node(doc: Doc) -> None:
    union = S(doc)["ActionNodeInput"]
    union["oneOf"] = [b for b in union["oneOf"] if "Telegram" not in b["$ref"]]
    del union["discriminator"]["mapping"]["telegram_send_attachment"]


def _anonymous_get(doc: Doc) -> None:
    op(doc, "/api/workflows/{id}", "get")["security"] = []


def _csv_logs(doc: Doc) -> None:
    content = op(doc, "/api/workflows/{id}/logs", "get")["responses"]["200"]["content"]
    content["text/csv"] = {"schema": {"type": "string"}}


CASES = [
    Case(
        "operation-removed",
        "DELETE /api/workflows/{id} is gone",
        lambda d: d["paths"]["/api/workflows/{id}"].pop("delete"),
        [("operation-removed:deleteWorkflow", B, C)],
    ),
    Case(
        "operation-added",
        "PATCH /api/workflows/{id} is new",
        _patch_op,
        [("operation-added:patchWorkflow", C, B)],
    ),
    Case(
        "operation-id-changed",
        "getWorkflow is renamed readWorkflow",
        lambda d: op(d, "/api/workflows/{id}", "get").update(operationId="readWorkflow"),
        [("operation-id-changed:getWorkflow", B, C)],
    ),
    Case(
        "response-status-removed",
        "a create no longer answers 200 (201 stays)",
        lambda d: op(d, "/api/workflows", "post")["responses"].pop("200"),
        [("response-status-removed:createWorkflow:200", B, C)],
    ),
    Case(
        "response-status-added",
        "a delete may answer 409",
        lambda d: op(d, "/api/workflows/{id}", "delete")["responses"].update(
            {"409": {"$ref": "#/components/responses/NotFound"}}
        ),
        [("response-status-added:deleteWorkflow:409", W, C)],
    ),
    Case(
        "response-media-type-removed",
        "the logs are no longer answered as text/csv",
        lambda d: op(d, "/api/workflows/{id}/logs", "get")["responses"]["200"]["content"].pop(
            "text/csv"
        ),
        [("response-media-type-removed:listWorkflowLogs:200:text/csv", B, B)],
        setup=_csv_logs,
    ),
    Case(
        "response-required-property-added",
        "every workflow answered has an `owner`",
        lambda d: (
            S(d)["Workflow"]["properties"].update(owner={"type": "string"}),
            S(d)["Workflow"]["required"].append("owner"),
        ),
        [("response-property-added:Workflow.owner", C, B)],
    ),
    Case(
        "response-optional-property-added",
        "a workflow may carry `tags`",
        lambda d: S(d)["Workflow"]["properties"].update(
            tags={"type": "array", "items": {"type": "string"}}
        ),
        [("response-property-added:Workflow.tags", C, C)],
    ),
    Case(
        "response-property-removed",
        "workflows no longer carry `description`",
        lambda d: S(d)["Workflow"]["properties"].pop("description"),
        [("response-property-removed:Workflow.description", B, C)],
    ),
    Case(
        "response-property-became-optional",
        "`created_at` may be left out of a workflow",
        lambda d: S(d)["Workflow"]["required"].remove("created_at"),
        [
            ("response-property-became-optional:Workflow.created_at", B, C),
            # The docs view lets an optional answer field be null: NEW's docs view admits null
            # where OLD's did not; a loosening, only in what the docs profile asserts.
            ("response-type-widened:Workflow.created_at", C, C),
        ],
    ),
    Case(
        "response-property-became-required",
        "every workflow answered has a `description`",
        lambda d: S(d)["Workflow"]["required"].append("description"),
        [("response-property-became-required:Workflow.description", C, B)],
    ),
    Case(
        "response-type-widened",
        "a workflow's `name` may be null",
        lambda d: S(d)["Workflow"]["properties"]["name"].update(type=["string", "null"]),
        [("response-type-widened:Workflow.name", B, C)],
    ),
    Case(
        "response-type-changed",
        "`total_data` becomes a string",
        lambda d: S(d)["Pagination"]["properties"]["total_data"].update(type="string"),
        [("response-type-changed:Pagination.total_data", B, B)],
    ),
    Case(
        "response-format-changed",
        "timestamps become dates",
        lambda d: S(d)["Timestamp"].update(format="date"),
        [("response-format-changed:Timestamp", B, B)],
    ),
    Case(
        "response-enum-added",
        "an execution's status is an enum (a narrower answer)",
        _enum(["success", "failed"]),
        [("response-enum-added:Execution.status", C, B)],
    ),
    Case(
        "response-enum-widened",
        "an execution may be `running`",
        _enum(["success", "failed", "running"]),
        [("response-enum-value-added:Execution.status", W, C)],
        setup=_enum(["success", "failed"]),
    ),
    Case(
        "response-enum-narrowed",
        "an execution is no longer `running`",
        _enum(["success", "failed"]),
        [("response-enum-value-removed:Execution.status", C, B)],
        setup=_enum(["success", "failed", "running"]),
    ),
    Case(
        "response-additional-properties-closed",
        "a workflow answered may carry no field the contract does not name",
        lambda d: S(d)["Workflow"].update(additionalProperties=False),
        [("response-additional-properties-closed:Workflow", C, B)],
    ),
    Case(
        "request-required-property-added",
        "a create or update must send `owner_id`",
        lambda d: (
            S(d)["WorkflowInput"]["properties"].update(owner_id={"type": "string"}),
            S(d)["WorkflowInput"]["required"].append("owner_id"),
        ),
        [("request-property-added:WorkflowInput.owner_id", B, B)],
    ),
    Case(
        "request-optional-property-added",
        "a create or update may send `tags`",
        lambda d: S(d)["WorkflowInput"]["properties"].update(
            tags={"type": "array", "items": {"type": "string"}}
        ),
        [("request-property-added:WorkflowInput.tags", C, B)],
    ),
    Case(
        "request-property-removed",
        "a create or update may no longer send `description` (the body is closed)",
        lambda d: S(d)["WorkflowInput"]["properties"].pop("description"),
        [("request-property-removed:WorkflowInput.description", B, C)],
    ),
    Case(
        "request-property-became-required",
        "a create or update must send `description` (an inferred `required`)",
        lambda d: S(d)["WorkflowInput"]["required"].append("description"),
        [("request-property-became-required:WorkflowInput.description", B, C)],
    ),
    Case(
        "request-max-length-tightened",
        "a workflow's name is at most 100 characters (documented)",
        _name_max(100),
        [("request-max-length-tightened:WorkflowInput.name", B, B)],
    ),
    Case(
        "request-max-length-loosened",
        "a workflow's name may be 200 characters",
        _name_max(200),
        [("request-max-length-loosened:WorkflowInput.name", C, C)],
        setup=_name_max(100),
    ),
    Case(
        "request-min-length-loosened",
        "an empty name is no longer refused (an inferred minLength goes)",
        _no_min_length,
        [("request-min-length-loosened:WorkflowInput.name", C, C)],
    ),
    Case(
        "docs-constraint-added",
        "the name's minLength becomes documented: the docs profile now asserts it",
        _documented_min_length,
        [("request-min-length-tightened:WorkflowInput.name", C, B)],
    ),
    Case(
        "request-pattern-added",
        "a workflow's name may hold no angle brackets (documented)",
        lambda d: S(d)["WorkflowInput"]["properties"]["name"].update(pattern="^[^<>]*$"),
        [("request-pattern-added:WorkflowInput.name", B, B)],
    ),
    Case(
        "response-maximum-tightened",
        "a page's `limit` is at most 100",
        lambda d: S(d)["Pagination"]["properties"]["limit"].update(maximum=100),
        [("response-maximum-tightened:Pagination.limit", C, B)],
    ),
    Case(
        "format-added-both-sides",
        "workflow ids are UUIDs, as the docs say (a path parameter and an answer field)",
        lambda d: S(d)["WorkflowId"].update(format="uuid"),
        [
            ("request-format-added:WorkflowId", B, B),
            ("response-format-added:WorkflowId", C, B),
        ],
    ),
    Case(
        "request-pattern-changed",
        "the cron pattern changes (an inferred pattern)",
        lambda d: S(d)["CronExpression"].update(pattern=r"^\S+( \S+){5}$"),
        [("request-pattern-changed:CronExpression", B, C)],
    ),
    Case(
        "request-enum-narrowed",
        "an export's format may no longer be xlsx",
        _format_enum(["csv"]),
        [("request-enum-value-removed:EventHistoryExportConfig.format", B, C)],
        setup=_format_enum(["csv", "xlsx"]),
    ),
    Case(
        "request-enum-widened",
        "an export's format may be xlsx",
        _format_enum(["csv", "xlsx"]),
        [("request-enum-value-added:EventHistoryExportConfig.format", C, C)],
        setup=_format_enum(["csv"]),
    ),
    Case(
        "request-union-branch-removed",
        "a pipeline may no longer hold a Telegram node",
        _no_telegram_node,
        [
            (
                "request-union-branch-removed:ActionNodeInput|TelegramSendAttachmentNodeInput",
                B,
                C,
            )
        ],
    ),
    Case(
        "request-body-became-optional",
        "a create may come without a body",
        lambda d: op(d, "/api/workflows", "post")["requestBody"].update(required=False),
        [("request-body-became-optional:createWorkflow", C, C)],
    ),
    Case(
        "request-required-parameter-added",
        "a list must say `tenant`",
        _param("tenant", True),
        [("request-required-parameter-added:listWorkflows:query.tenant", B, B)],
    ),
    Case(
        "request-optional-parameter-added",
        "a list may say `sort`",
        _param("sort", False),
        [("request-optional-parameter-added:listWorkflows:query.sort", C, C)],
    ),
    Case(
        "request-parameter-removed",
        "a list no longer takes `search`",
        lambda d: op(d, "/api/workflows", "get")["parameters"].remove(
            {"$ref": "#/components/parameters/search"}
        ),
        [("request-parameter-removed:listWorkflows:query.search", W, C)],
    ),
    Case(
        "request-parameter-became-required",
        "`page` must be sent",
        lambda d: d["components"]["parameters"]["page"].update(required=True),
        [
            ("request-parameter-became-required:listWorkflowLogs:query.page", B, B),
            ("request-parameter-became-required:listWorkflows:query.page", B, B),
        ],
    ),
    Case(
        "request-parameter-type-changed",
        "`limit` becomes a string (the docs profile asserts no query value)",
        lambda d: d["components"]["parameters"]["limit"]["schema"].update(type="string"),
        [("request-type-changed:parameters.limit", B, C)],
    ),
    Case(
        "security-added",
        "reading a workflow needs the token again",
        lambda d: op(d, "/api/workflows/{id}", "get").update(security=[{"bearerAuth": []}]),
        [("security-added:getWorkflow", B, B)],
        setup=_anonymous_get,
    ),
    Case(
        "security-removed",
        "anyone may read a workflow",
        _anonymous_get,
        [("security-removed:getWorkflow", C, C)],
    ),
    Case(
        "security-scheme-changed",
        "the token goes in an X-API-Key header",
        lambda d: d["components"]["securitySchemes"].update(
            bearerAuth={"type": "apiKey", "in": "header", "name": "X-API-Key"}
        ),
        [("security-scheme-changed:bearerAuth", B, B)],
    ),
    Case(
        "no-change-prose",
        "only a description changes",
        lambda d: S(d)["Workflow"].update(description="Reworded."),
        [],
    ),
]


def write(case: Case) -> None:
    old = base()
    if case.setup is not None:
        case.setup(old)
    new = copy.deepcopy(old)
    case.edit(new)
    folder = CORPUS / case.name
    folder.mkdir(parents=True, exist_ok=True)
    for name, document in (("old.yaml", old), ("new.yaml", new)):
        text = yaml.safe_dump(
            document, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
        )
        (folder / name).write_text(f"# {case.name}: {case.what}\n{text}", encoding="utf-8")
    expected = {
        "change": case.what,
        "exit": case.exit,
        "changes": [
            {"id": change_id, "clients": clients, "deployments": deployments}
            for change_id, clients, deployments in case.expected
        ],
    }
    (folder / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    for case in CASES:
        write(case)
    print(f"{len(CASES)} case(s) in {CORPUS}")


if __name__ == "__main__":
    main()
