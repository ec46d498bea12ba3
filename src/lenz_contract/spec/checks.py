"""Is a spec document a usable Lenz contract? Each problem comes with its JSON path.

Three layers: the OpenAPI 3.x rules (openapi-spec-validator), every local `$ref` resolving,
and the Lenz rules: every operation of the shipped contract is present with its method and path,
every operation needs the bearer token, and provenance is marked.
"""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import OpenAPIV31SpecValidator
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from .document import iter_refs, json_path, pointer_parts, resolve_pointer
from .errors import SpecProblem
from .model import HTTP_METHODS, Spec
from .provenance import provenance_problems, unshown_examples
from .resources import DOCS_REFERENCE_PATH

PROVENANCE_VALUES = ("documented", "inferred")


def check_document(document: dict[str, Any], reference: Spec | None = None) -> list[SpecProblem]:
    """All problems of `document`; `reference` (default: the shipped contract) lists the operations."""
    problems = check_refs(document)
    if problems:  # a broken $ref makes the OpenAPI validator fail with far less useful errors
        return problems
    problems += check_openapi(document)
    if problems:
        return problems
    reference = reference or Spec.load()
    problems += check_operations(document, reference)
    problems += check_security(document)
    problems += check_provenance(document)
    return problems


def check_refs(document: dict[str, Any]) -> list[SpecProblem]:
    problems = []
    for parts, ref in iter_refs(document):
        where = json_path(list(parts))
        if not ref.startswith("#/"):
            problems.append(
                SpecProblem(where, f"{ref!r}: only local references (#/...) are supported")
            )
            continue
        try:
            resolve_pointer(document, ref)
        except KeyError as missing:
            problems.append(
                SpecProblem(
                    where, f"{ref!r} does not resolve: no {missing.args[0]!r} under {_parent(ref)}"
                )
            )
    return problems


def _parent(ref: str) -> str:
    parts = pointer_parts(ref)
    return "#/" + "/".join(parts[:-1]) if len(parts) > 1 else "#"


def check_openapi(document: dict[str, Any]) -> list[SpecProblem]:
    version = str(document.get("openapi", ""))
    if not version.startswith("3.1"):
        return [SpecProblem("$.openapi", f"expected an OpenAPI 3.1.x document, found {version!r}")]
    problems: list[SpecProblem] = []
    errors: list[Exception] = []
    iterator = OpenAPIV31SpecValidator(document).iter_errors()
    while True:  # the semantic pass can trip over a document its schema pass already faulted
        try:
            errors.append(next(iterator))
        except StopIteration:
            break
        except Exception as exc:
            if not errors:
                errors.append(exc)
            break
    for error in errors:
        if isinstance(error, OpenAPIValidationError):
            where = json_path(list(getattr(error, "absolute_path", []) or []))
            problems.append(SpecProblem(where, _first_line(error.message)))
        else:
            problems.append(SpecProblem("$", _first_line(str(error))))
    return problems


def check_operations(document: dict[str, Any], reference: Spec) -> list[SpecProblem]:
    """Every operation of the reference contract is present, at the same method and path."""
    candidate = Spec(document)
    problems = []
    for op_id, expected in reference.operations.items():
        found = candidate.operations.get(op_id)
        where = json_path(["paths", expected.path, expected.method.lower()])
        if found is None:
            problems.append(
                SpecProblem(
                    where, f"operation {op_id} ({expected.method} {expected.path}) is missing"
                )
            )
        elif (found.method, found.path) != (expected.method, expected.path):
            problems.append(
                SpecProblem(
                    json_path(["paths", found.path, found.method.lower()]),
                    f"operation {op_id} should be {expected.method} {expected.path}",
                )
            )
    return problems


def check_security(document: dict[str, Any]) -> list[SpecProblem]:
    problems = []
    for op in Spec(document).operations.values():
        if not op.requires_auth:
            problems.append(
                SpecProblem(
                    _op_path(op.path, op.method),
                    f"{op.operation_id} does not require the bearer token",
                )
            )
    return problems


def check_provenance(document: dict[str, Any]) -> list[SpecProblem]:
    """Every operation and response says whether the docs state it; documented statements
    quote the docs (verbatim, or an example that shows them), inferred ones say why."""
    problems = []
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            problems += _provenance_of(op, ["paths", path, method])
            for status, response in (op.get("responses") or {}).items():
                if "$ref" in response:
                    response = resolve_pointer(document, response["$ref"])
                problems += _provenance_of(
                    response, ["paths", path, method, "responses", str(status)]
                )
    try:
        reference: str | None = DOCS_REFERENCE_PATH.read_text(encoding="utf-8")
    except OSError:
        reference = None
    problems += provenance_problems(document, reference)
    if not problems:
        problems += unshown_examples(document)
    return problems


def _provenance_of(node: dict[str, Any], parts: list[str | int]) -> list[SpecProblem]:
    source = node.get("x-lenz-source")
    where = json_path(parts)
    if source not in PROVENANCE_VALUES:
        return [
            SpecProblem(
                where, f"x-lenz-source must be one of {PROVENANCE_VALUES}, found {source!r}"
            )
        ]
    return []


def _op_path(path: str, method: str) -> str:
    return json_path(["paths", path, method.lower()])


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line if len(line) <= 300 else line[:297] + "..."
