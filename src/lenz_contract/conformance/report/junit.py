"""JUnit XML for CI: one testcase per operation × check, failures with their message.

Built with `xml.etree` so it is well-formed whatever a server answered (characters XML 1.0 cannot
carry are replaced).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..results import Outcome, RunResult, Status
from .text import failure_text, verdict

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def render_junit(result: RunResult) -> bytes:
    """Testcases first, then the counts of the elements written, so that CI and the console
    say the same: one testcase per cell, one per run error, one for a lost target, one for
    workflows the run could not delete."""
    cases = [
        _testcase(result, outcome)
        for outcome in sorted(result.outcomes.values(), key=lambda o: (o.operation, o.check))
    ]
    for error in result.errors:
        cases.append(_run_case("run-error", error))
    if result.target_lost:
        cases.append(_run_case("target", f"the target stopped answering: {result.target_lost}"))
    if result.leftovers:
        text = "created by this run and still there: " + ", ".join(result.leftovers)
        cases.append(_run_case("cleanup", text))
    totals = {
        "tests": str(len(cases)),
        "failures": str(sum(1 for c in cases if c.find("failure") is not None)),
        "errors": str(sum(1 for c in cases if c.find("error") is not None)),
        "skipped": str(sum(1 for c in cases if c.find("skipped") is not None)),
        "time": f"{result.duration:.3f}",
    }
    suites = ET.Element("testsuites", {"name": "lenz-contract conform", **totals})
    suite = ET.SubElement(
        suites, "testsuite", {"name": f"lenz-contract.{result.profile}", **totals}
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("target", result.target),
        ("profile", result.profile),
        ("run_id", result.run_id),
        ("seed", str(result.seed)),
        ("requests", str(result.requests)),
        ("replay", result.replay),
        ("verdict", verdict(result)),
        *(("coverage", line) for line in result.coverage()),
        *(("safety", line) for line in result.safety),
    ):
        ET.SubElement(properties, "property", name=name, value=clean(value))
    suite.extend(cases)
    ET.indent(suites)
    data: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return data


def _run_case(name: str, text: str) -> ET.Element:
    case = ET.Element("testcase", classname="lenz.run", name=name, time="0")
    ET.SubElement(case, "error", message=clean(text[:300])).text = clean(text)
    return case


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
