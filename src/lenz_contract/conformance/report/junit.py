"""JUnit XML for CI: one testcase per operation × check, failures with their message.

Built with `xml.etree` so it is well-formed whatever a server answered (characters XML 1.0 cannot
carry are replaced).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..results import Outcome, RunResult, Status
from .text import failure_text

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def render_junit(result: RunResult) -> bytes:
    counts = result.counts()
    suites = ET.Element(
        "testsuites",
        name="lenz-contract conform",
        tests=str(len(result.outcomes)),
        failures=str(counts[Status.FAILED]),
        errors=str(counts[Status.ERROR] + len(result.errors)),
        skipped=str(counts[Status.SKIPPED]),
        time=f"{result.duration:.3f}",
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"lenz-contract.{result.profile}",
        tests=str(len(result.outcomes)),
        failures=str(counts[Status.FAILED]),
        errors=str(counts[Status.ERROR]),
        skipped=str(counts[Status.SKIPPED]),
        time=f"{result.duration:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("target", result.target),
        ("profile", result.profile),
        ("run_id", result.run_id),
        ("seed", str(result.seed)),
        ("requests", str(result.requests)),
        ("replay", result.replay),
    ):
        ET.SubElement(properties, "property", name=name, value=clean(value))
    for outcome in sorted(result.outcomes.values(), key=lambda o: (o.operation, o.check)):
        suite.append(_testcase(result, outcome))
    for error in result.errors:
        case = ET.SubElement(suite, "testcase", classname="lenz.run", name="run-error")
        ET.SubElement(case, "error", message=clean(error[:300])).text = clean(error)
    if result.leftovers:
        case = ET.SubElement(suite, "testcase", classname="lenz.run", name="cleanup")
        text = "created by this run and still there: " + ", ".join(result.leftovers)
        ET.SubElement(case, "error", message=clean(text[:300])).text = clean(text)
    ET.indent(suites)
    data: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return data


def _testcase(result: RunResult, outcome: Outcome) -> ET.Element:
    case = ET.Element(
        "testcase", classname=f"lenz.{outcome.operation}", name=outcome.check, time="0"
    )
    rule = outcome.rule
    if outcome.status is Status.FAILED:
        first = outcome.failures[0] if outcome.failures else None
        message = first.message.splitlines()[0] if first and first.message else rule.text
        body = "\n\n".join(failure_text(result, f) for f in outcome.failures)
        if outcome.dropped:
            body += f"\n\n(and {outcome.dropped} more failures of this check on this operation)"
        node = ET.SubElement(case, "failure", message=clean(message[:500]), type=outcome.check)
        node.text = clean(body)
    elif outcome.status is Status.ERROR:
        ET.SubElement(case, "error", message=clean(outcome.detail[:500])).text = clean(
            outcome.detail
        )
    elif outcome.status is Status.SKIPPED:
        ET.SubElement(case, "skipped", message=clean(outcome.detail[:500]))
    ET.SubElement(case, "system-out").text = clean(rule.describe())
    return case
