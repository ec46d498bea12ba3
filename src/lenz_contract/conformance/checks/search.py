"""Search: partial and case-insensitive on the workflow name, as the docs say.

The run creates one workflow with a mixed-case name and looks it up by a fragment in its own
case, in lower case and in upper case; a term that matches nothing must not find it. A read-only
run does the same with a fragment of a workflow that is already there.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from .registry import DOCS, lenz_check
from .run import CheckRun, as_json, ids_of

LIST = "listWorkflows"
SEARCH = "#/components/parameters/search"


@dataclass(frozen=True)
class Subject:
    workflow_id: str
    name: str
    fragment: str  # a piece from the middle of the name, in the name's own case


def subject(run: CheckRun) -> Subject:
    return run.shared("search", _build)


def _mixed_case_token(run: CheckRun) -> str:
    letters = "".join(run.session.random.choice(string.ascii_letters) for _ in range(8))
    return "Qz" + letters + "Xy"  # upper and lower case for sure


def _build(run: CheckRun) -> Subject:
    if run.read_only:
        reply = run.client.list_workflows(limit=20)
        for item in reply.data if isinstance(reply.data, list) else []:
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str) and len(name) >= 6 and name.lower() != name.upper():
                middle = name[1:-1][:12]
                return Subject(str(item.get("id")), name, middle)
        run.skip("read-only run and no listed workflow has a name with letters to search for")
    token = _mixed_case_token(run)
    name = f"{run.ctx.name_prefix}Search-{token}-Found"
    _, data = run.create(name)
    return Subject(data["id"], name, f"h-{token}-F")


def _expect_found(run: CheckRun, it: Subject, term: str, how: str) -> None:
    reply = run.client.list_workflows(search=term, limit=100)
    if it.workflow_id not in ids_of(reply):
        run.fail(
            LIST,
            f"search={as_json(term)} ({how}) did not find the workflow named {as_json(it.name)}",
            expected=f"data holds {as_json(it.workflow_id)}",
            reply=reply,
        )


@lenz_check(DOCS, (LIST,), pointer=SEARCH, read_only=True)
def search_partial(run: CheckRun) -> None:
    """search matches part of a name (a fragment finds the workflow)"""
    it = subject(run)
    _expect_found(run, it, it.fragment, "a fragment of its name")


@lenz_check(DOCS, (LIST,), pointer=SEARCH, read_only=True)
def search_case_insensitive(run: CheckRun) -> None:
    """search ignores case (lower- and upper-case fragments find a mixed-case name)"""
    it = subject(run)
    _expect_found(run, it, it.fragment.lower(), "the fragment in lower case")
    _expect_found(run, it, it.fragment.upper(), "the fragment in upper case")


@lenz_check(DOCS, (LIST,), pointer=SEARCH, read_only=True)
def search_excludes(run: CheckRun) -> None:
    """a search term the name does not contain does not find it"""
    it = subject(run)
    term = f"{it.fragment}-{run.session.random.getrandbits(32):08x}-absent"
    reply = run.client.list_workflows(search=term, limit=100)
    if not reply.ok:
        run.fail(LIST, f"search={as_json(term)} did not answer 2xx", expected="2xx", reply=reply)
    elif it.workflow_id in ids_of(reply):
        run.fail(
            LIST,
            f"search={term!r} found {it.name!r}, whose name does not contain it",
            expected=f"data without {it.workflow_id!r}",
            reply=reply,
        )
