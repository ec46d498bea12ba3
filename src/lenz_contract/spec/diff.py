"""`lenz-contract diff OLD NEW`: every change between two contracts, and whom it breaks.

The two documents are compared twice: as written (the clients' view: what generators and
frontends read) and in the DOCS view (what the conformance suite's docs profile asserts of a
deployment, `views.py`). Each comparison walks the operations matched by method and path, their
security, parameters, request bodies and answers (statuses matched exactly, else by the range
or `default` that covers them), and their schemas: `$ref`s followed, `allOf` merged, a union with
`null` read as a nullable schema, properties compared by name, items, unions by branch.

Each change gets an id, `<kind>:<place>`, stable across both comparisons and across runs:
`response-property-removed:Workflow.description`, `response-status-removed:createWorkflow:201`,
`request-max-length-tightened:WorkflowInput.name`. The place is where the changed keyword lives
(a component and a path in it), so one edit of a shared schema is one change, with every
operation it reaches. `diff_rules` says whom each kind breaks; a change seen only as written
does not concern the docs profile, one seen only in the DOCS view (a provenance mark moved) does
not concern clients.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from .diff_operations import Comparison
from .diff_rules import COMPATIBLE, Judgement, judge
from .diff_schema import DiffError
from .errors import SpecProblem
from .views import View, derive

__all__ = ["Change", "DiffError", "diff_documents", "iter_breaking"]

NOT_IN_DOCS = Judgement(
    COMPATIBLE, "the docs profile does not assert it (the DOCS view does not change here)"
)
NOT_IN_CONTRACT = Judgement(
    COMPATIBLE, "the contract as written does not change here; only the DOCS view does"
)


# -- both views, both audiences ---------------------------------------------------------------


@dataclass
class Change:
    """One change with its verdict for each audience."""

    id: str
    kind: str
    place: str
    detail: str
    old: str | None
    new: str | None
    operations: list[str]
    where: list[str]
    clients: Judgement
    deployments: Judgement
    views: list[str]

    def breaking_for(self, audiences: tuple[str, ...]) -> bool:
        return any(getattr(self, a).verdict == "breaking" for a in audiences)

    def to_json(self) -> dict[str, Any]:
        """The fields as they are, but `old` and `new`: each an object with its pointer."""
        return {**asdict(self), "old": {"pointer": self.old}, "new": {"pointer": self.new}}


def _docs_view(document: dict[str, Any], label: str) -> dict[str, Any]:
    try:
        return derive(document, View.DOCS)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise DiffError(
            [SpecProblem(label, f"its DOCS view cannot be derived: {type(exc).__name__}: {exc}")]
        ) from None


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change from `old` to `new`, each with the clients' and the deployments' verdict."""
    for label, document in (("OLD", old), ("NEW", new)):
        if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
            raise DiffError([SpecProblem(label, "not an OpenAPI 3.x document")])
    old_docs, new_docs = _docs_view(old, "OLD"), _docs_view(new, "NEW")
    try:
        written = Comparison(old, new).run()
        docs = Comparison(old_docs, new_docs, (old, new)).run()
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        # A document that is not a well-formed contract (a list where an object belongs...):
        # `lenz-contract spec validate` names the place; the diff says it cannot compare.
        raise DiffError(
            [
                SpecProblem(
                    "OLD/NEW",
                    f"cannot be compared ({type(exc).__name__}: {exc}); "
                    "check both with `lenz-contract spec validate FILE`",
                )
            ]
        ) from None
    out: list[Change] = []
    for change_id in sorted(set(written) | set(docs), key=_order):
        a, b = written.get(change_id), docs.get(change_id)
        base = a or b
        assert base is not None
        rule_a = judge(a.kind, a.flags) if a else None
        rule_b = judge(b.kind, b.flags) if b else None
        out.append(
            Change(
                id=change_id,
                kind=base.kind,
                place=base.place,
                detail=base.detail,
                old=base.old,
                new=base.new,
                operations=sorted((a.operations if a else set()) | (b.operations if b else set())),
                where=(a.where if a else [])
                + [w for w in (b.where if b else []) if not a or w not in a.where],
                clients=rule_a.clients if rule_a else NOT_IN_CONTRACT,
                deployments=rule_b.deployments if rule_b else NOT_IN_DOCS,
                views=[v for v, f in (("contract", a), ("docs", b)) if f is not None],
            )
        )
    return out


def _order(change_id: str) -> tuple[int, str]:
    kind = change_id.split(":", 1)[0]
    rank = 0 if kind.startswith("operation") else 1 if kind.startswith("security") else 2
    return rank, change_id


def iter_breaking(changes: list[Change], audiences: tuple[str, ...]) -> Iterator[Change]:
    return (c for c in changes if c.breaking_for(audiences))
