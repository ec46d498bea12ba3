"""Provenance tells the truth: documented statements quote the docs, inferred ones say why.

The docs (`openapi/source/`, as published) are the only primary source: every quoted phrase must
be in them as written, every example a quote names must exist and show the statement, and the
statements the docs do not make must be marked inferred, each with its reason.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from lenz_contract.spec import Source, Spec, SpecError, provenance_at
from lenz_contract.spec.provenance import (
    provenance_problems,
    shown_by,
    statements,
    unshown_examples,
)
from lenz_contract.spec.resources import DOCS_REFERENCE_PATH

from ..conftest import FIXTURES, REPO

REFERENCE = REPO / "openapi" / "source" / "lenz-workflows-api-reference.txt"


def reference_text() -> str:
    return REFERENCE.read_text(encoding="utf-8")


def test_the_shipped_reference_is_the_one_in_the_repository() -> None:
    assert DOCS_REFERENCE_PATH.read_bytes() == REFERENCE.read_bytes()


def test_every_statement_is_marked_truthfully(spec: Spec) -> None:
    assert provenance_problems(spec.document, reference_text()) == []


def test_every_example_a_quote_names_shows_the_statement(spec: Spec) -> None:
    assert unshown_examples(spec.document) == []


def test_every_documented_statement_quotes_the_docs(spec: Spec) -> None:
    documented = [s for s in statements(spec.document) if s.provenance.source is Source.DOCUMENTED]
    assert len(documented) > 80
    assert all(s.provenance.quote for s in documented)


@pytest.mark.parametrize(
    ("pointer", "words"),
    [
        ("#/components/schemas/CronExpression/pattern", "seconds"),
        ("#/components/schemas/CronExpression/x-lenz-time-zone", "07:00:00Z"),
        ("#/paths/~1api~1workflows~1{id}~1execute/post/x-lenz-execute", "finished"),
        ("#/components/securitySchemes/bearerAuth/bearerFormat", "JWT"),
        ("#/paths/~1api~1workflows~1{id}/put/x-lenz-update", "is_active"),
        ("#/components/schemas/WorkflowInput/properties/name/minLength", "empty"),
        ("#/components/schemas/ActionNodeInput/properties/id/minLength", "empty"),
        ("#/components/schemas/WorkflowId/minLength", "empty"),
        ("#/components/parameters/page/schema/minimum", "dimulai dari 1"),
        ("#/components/parameters/limit/schema/minimum", "default"),
        ("#/components/schemas/WorkflowInput/properties/is_active/default", "active"),
        ("#/components/parameters/limit/x-lenz-limit-cap", "100"),
        ("#/components/schemas/EventHistoryExportConfig/required", "required"),
        ("#/components/schemas/TelegramSendAttachmentConfig/required", "required"),
        ("#/components/schemas/NodeResult/properties/started_at/oneOf", "never ran"),
        ("#/components/schemas/NodeResult/properties/finished_at/oneOf", "never ran"),
        ("#/components/schemas/Execution/properties/finished_at/oneOf", "in progress"),
        ("#/components/schemas/WorkflowInput/required", "required"),
        ("#/paths/~1api~1workflows/post/responses/201", "201"),
    ],
)
def test_what_the_docs_do_not_say_is_inferred_with_its_reason(
    spec: Spec, pointer: str, words: str
) -> None:
    found = provenance_at(spec.document, pointer)
    assert found.source is Source.INFERRED, found
    assert found.reason and words in found.reason


def test_the_cron_time_zone_is_decided(spec: Spec) -> None:
    assert spec.schema_at("#/components/schemas/CronExpression")["x-lenz-time-zone"] == "UTC"


@pytest.mark.parametrize(
    ("pointer", "quoted"),
    [
        ("#/components/parameters/search", "pencarian parsial, tidak case-sensitive"),
        ("#/components/securitySchemes/bearerAuth", "Semua endpoint memerlukan header"),
        ("#/components/parameters/page/schema", "Nomor halaman, dimulai dari 1."),
        ("#/components/schemas/Workflow/properties/updated_at", "CreateWorkflowResponse"),
        ("#/components/schemas/Pagination/properties/current_page/minimum", "dimulai dari 1"),
    ],
)
def test_documented_statements_carry_the_docs_words(spec: Spec, pointer: str, quoted: str) -> None:
    found = provenance_at(spec.document, pointer)
    assert found.source is Source.DOCUMENTED
    assert any(quoted in q for q in found.quote), found.quote


def test_a_stale_pointer_is_an_error_not_universal(spec: Spec) -> None:
    with pytest.raises(SpecError, match="does not resolve"):
        provenance_at(spec.document, "#/components/schemas/Workflow/properties/colour")


def test_a_quote_not_in_the_docs_is_reported(spec: Spec) -> None:
    document = copy.deepcopy(spec.document)
    document["components"]["parameters"]["page"]["x-lenz-quote"] = "Halaman dimulai dari 0."
    problems = provenance_problems(document, reference_text())
    assert [p.location for p in problems] == ["#/components/parameters/page"]
    assert "not in the docs" in problems[0].message


def test_an_example_that_does_not_show_the_statement_is_reported(spec: Spec) -> None:
    document = copy.deepcopy(spec.document)
    schema = document["components"]["schemas"]["Workflow"]["properties"]["name"]
    schema["x-lenz-quote"] = "example: ExecuteWorkflowResponse"  # an execution, not a workflow
    problems = unshown_examples(document)
    assert [p.location for p in problems] == ["#/components/schemas/Workflow/properties/name"]


def test_documented_without_a_quote_and_inferred_without_a_reason_are_reported(
    spec: Spec,
) -> None:
    document = copy.deepcopy(spec.document)
    del document["components"]["schemas"]["Timestamp"]["x-lenz-quote"]
    del document["components"]["schemas"]["FieldError"]["x-lenz-reason"]
    document["components"]["schemas"]["WorkflowId"]["x-lenz-inferred"]["maxLength"] = "why"
    messages = {p.location: p.message for p in provenance_problems(document)}
    assert "without an x-lenz-quote" in messages["#/components/schemas/Timestamp"]
    assert "without an x-lenz-reason" in messages["#/components/schemas/FieldError"]
    assert "not a key here" in messages["#/components/schemas/WorkflowId/maxLength"]


def test_shown_by_follows_refs_branches_and_conditions(spec: Spec) -> None:
    places = shown_by(spec.document, "CreateWorkflowRequest")
    assert "#/components/schemas/TelegramSendAttachmentConfig/properties/caption" in places
    assert "#/components/schemas/CronExpression" in places
    assert "#/paths/~1api~1workflows/post" in places
    assert "#/components/schemas/Workflow" not in places


def _payloads(text: str) -> list[Any]:
    """Every JSON object printed in the docs (a request body or an answer)."""
    decoder = json.JSONDecoder()
    found, position = [], 0
    while (start := text.find("{", position)) != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            position = start + 1
            continue
        found.append(value)
        position = end
    return found


def _request_bodies(text: str) -> list[Any]:
    return [json.loads(body) for body in re.findall(r"-d '(\{.*?\})'", text, flags=re.S)]


def test_every_docs_fixture_is_a_payload_printed_in_the_docs() -> None:
    text = reference_text()
    printed = _payloads(text) + _request_bodies(text)
    for path in sorted((FIXTURES / "docs").glob("*.json")):
        assert json.loads(path.read_text(encoding="utf-8")) in printed, path.name
