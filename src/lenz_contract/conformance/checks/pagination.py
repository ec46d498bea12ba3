"""Pagination: `total_page`, `limit`, `page` and `current_page` mean what they say.

The checks page through a set of three workflows this run creates under one name, found with
`search` set to that whole name (so a deployment's other data, and a search that matches whole
names only, do not disturb them). A read-only run pages through whatever the list holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..client import Reply
from .crud import instant
from .registry import DOCS, JSON_CONTENT, STRICT, lenz_check
from .run import CheckRun, as_json, ids_of, items_of

LIST = "listWorkflows"
PAGINATION = "#/components/schemas/Pagination"
LIST_MEDIA = f"{{listWorkflows}}/responses/200/{JSON_CONTENT}"
PAGE_SIZE = 2
SET_SIZE = 3
MAX_PAGES = 20


@dataclass(frozen=True)
class PageSet:
    """What the pagination checks page through."""

    search: str | None
    limit: int
    expected_ids: frozenset[str] | None  # the items this run created (None when read-only)
    pages: tuple[Reply, ...]  # page 1..n as answered


def page_set(run: CheckRun) -> PageSet:
    return run.shared("pagination", _build)


def _build(run: CheckRun) -> PageSet:
    if run.read_only:
        first = run.client.list_workflows(page=1, limit=1)
        total = first.field("total_data")
        if not first.ok or not isinstance(total, int):
            run.abort(LIST, "the list did not answer 2xx with total_data", reply=first)
        limit = min(100, max(PAGE_SIZE, math.ceil(total / MAX_PAGES))) if total else PAGE_SIZE
        walked = _walk(run, None, limit, total)
        return PageSet(None, answered_limit(walked[0], limit), None, walked)
    name = run.unique("pages")
    created = [run.create(name)[1]["id"] for _ in range(SET_SIZE)]
    pages = _walk(run, name, PAGE_SIZE, SET_SIZE)
    return PageSet(name, answered_limit(pages[0], PAGE_SIZE), frozenset(created), pages)


def answered_limit(reply: Reply, asked: int) -> int:
    """The page size the target says it used: `limit` of its answer when that is a cap of what
    was asked (any cap is allowed), else what was asked."""
    limit = reply.field("limit")
    return limit if isinstance(limit, int) and 1 <= limit <= asked else asked


def _walk(run: CheckRun, search: str | None, limit: int, total: int) -> tuple[Reply, ...]:
    first = run.client.list_workflows(page=1, limit=limit, search=search)
    size = answered_limit(first, limit)
    count = max(1, min(MAX_PAGES, math.ceil(total / size)))
    rest = [
        run.client.list_workflows(page=page, limit=limit, search=search)
        for page in range(2, count + 1)
    ]
    return (first, *rest)


@lenz_check(DOCS, (LIST,), pointer=f"{PAGINATION}/properties/total_page", read_only=True)
def pagination_total_page(run: CheckRun) -> None:
    """total_page is ceil(total_data / limit) (with no data: 0, or 1 in the docs profile)"""
    replies = list(page_set(run).pages)
    empty = run.client.list_workflows(search=run.unique("nothing-matches"), limit=PAGE_SIZE)
    for reply in [*replies, empty]:
        total_data, limit, total_page = (
            reply.field(k) for k in ("total_data", "limit", "total_page")
        )
        if not all(isinstance(v, int) for v in (total_data, limit, total_page)) or not limit:
            run.fail(LIST, "the page fields are missing or not integers", reply=reply)
            continue
        expected = math.ceil(total_data / limit)
        allowed = {expected} if total_data else {0, 1}  # strict adds its own check
        if total_page not in allowed:
            run.fail(
                LIST,
                f"total_page is {total_page} for total_data {total_data} and limit {limit}",
                expected=f"total_page {' or '.join(map(str, sorted(allowed)))}",
                actual=f"total_page {total_page}",
                reply=reply,
            )


@lenz_check(
    STRICT,
    (LIST,),
    pointer=f"{PAGINATION}/properties/total_page/x-lenz-empty-total-page",
    read_only=True,
)
def pagination_empty_total_page(run: CheckRun) -> None:
    """a list with no data answers total_page 0"""
    reply = run.client.list_workflows(search=run.unique("nothing-matches"), limit=PAGE_SIZE)
    if reply.field("total_data") != 0 or reply.field("total_page") != 0 or items_of(reply):
        run.fail(
            LIST,
            "a search that matches nothing did not answer total_data 0, total_page 0, no data",
            expected="data [], total_data 0, total_page 0",
            actual=f"total_data {reply.field('total_data')}, total_page {reply.field('total_page')}",
            reply=reply,
        )


@lenz_check(DOCS, (LIST,), pointer="#/components/parameters/page", read_only=True)
def pagination_walk(run: CheckRun) -> None:
    """walking every page yields each item once, total_data items in all"""
    pages = page_set(run)
    seen: dict[object, int] = {}
    for number, reply in enumerate(pages.pages, start=1):
        for item_id in ids_of(reply):
            if item_id in seen:
                run.fail(
                    LIST,
                    f"item {item_id!r} is on page {seen[item_id]} and again on page {number}",
                    expected="each item on one page only",
                    reply=reply,
                    steps=list(pages.pages[:number]),
                )
                return
            seen[item_id] = number
    if pages.expected_ids is not None and set(seen) != pages.expected_ids:
        missing = sorted(pages.expected_ids - set(map(str, seen)))
        run.fail(
            LIST,
            f"walking the pages of search={pages.search!r} (limit {pages.limit}) "
            f"did not yield the {len(pages.expected_ids)} workflows created under that name",
            expected=f"ids {sorted(pages.expected_ids)}",
            actual=f"ids {sorted(map(str, seen))}; missing {missing}",
            reply=pages.pages[-1],
        )
    total = pages.pages[0].field("total_data")
    if pages.expected_ids is not None and total != len(pages.expected_ids):
        run.fail(
            LIST,
            f"total_data is {total} for the {len(pages.expected_ids)} workflows named {pages.search!r}",
            expected=f"total_data {len(pages.expected_ids)}",
            actual=f"total_data {total}",
            reply=pages.pages[0],
        )


@lenz_check(DOCS, (LIST,), pointer="#/components/parameters/limit", read_only=True)
def pagination_limit(run: CheckRun) -> None:
    """a page holds at most `limit` items, and every page but the last exactly `limit`"""
    pages = page_set(run)
    total = pages.pages[0].field("total_data")
    if not isinstance(total, int):
        run.skip("the list answered no total_data")
    for number, reply in enumerate(pages.pages, start=1):
        expected = max(0, min(pages.limit, total - (number - 1) * pages.limit))
        got = len(items_of(reply))
        if got != expected or reply.field("limit") != pages.limit:
            run.fail(
                LIST,
                f"page {number} holds {got} items with limit {as_json(reply.field('limit'))}",
                expected=f"{expected} items, limit {pages.limit}",
                actual=f"{got} items, limit {as_json(reply.field('limit'))}",
                reply=reply,
            )
            return


@lenz_check(DOCS, (LIST,), pointer=f"{PAGINATION}/properties/current_page", read_only=True)
def pagination_current_page(run: CheckRun) -> None:
    """current_page echoes the page asked for"""
    pages = page_set(run)
    replies = list(pages.pages)
    if len(replies) < 2:
        replies.append(run.client.list_workflows(page=2, limit=pages.limit, search=pages.search))
    for number, reply in enumerate(replies, start=1):
        if reply.field("current_page") != number:
            run.fail(
                LIST,
                f"asked for page {number}, the answer says current_page {reply.field('current_page')}",
                expected=f"current_page {number}",
                actual=f"current_page {reply.field('current_page')}",
                reply=reply,
            )
            return


@lenz_check(
    STRICT, (LIST,), pointer="#/components/parameters/limit/x-lenz-limit-cap", read_only=True
)
def pagination_limit_cap(run: CheckRun) -> None:
    """limit is capped at the contract's cap, and the answer's limit says so"""
    param = run.spec.operation(LIST).parameter("limit")
    cap = param.extensions.get("x-lenz-limit-cap") if param is not None else None
    if not isinstance(cap, int):
        run.skip("the spec names no limit cap (x-lenz-limit-cap)")
    reply = run.client.list_workflows(limit=cap * 10)
    if reply.field("limit") != cap or len(items_of(reply)) > cap:
        run.fail(
            LIST,
            f"limit={cap * 10} answered limit {as_json(reply.field('limit'))} "
            f"with {len(items_of(reply))} items",
            expected=f"limit {cap}, at most {cap} items",
            reply=reply,
        )


@lenz_check(STRICT, (LIST,), pointer=f"{LIST_MEDIA}/x-lenz-order", read_only=True)
def pagination_order(run: CheckRun) -> None:
    """the list is ordered by created_at, then id, ascending"""
    pages = page_set(run)
    items = [item for reply in pages.pages for item in items_of(reply)]
    keys = [(instant(i.get("created_at")), str(i.get("id"))) for i in items]
    stamped = [(when, item_id) for when, item_id in keys if when is not None]
    if len(stamped) != len(keys):
        run.skip("an item has no readable created_at (response_conforms reports it)")
    ordered = sorted(stamped)
    if stamped != ordered:
        run.fail(
            LIST,
            "the items are not ordered by created_at, then id",
            expected=f"ids in order {[k[1] for k in ordered]}",
            actual=f"ids in order {[k[1] for k in stamped]}",
            reply=pages.pages[0],
            steps=list(pages.pages[1:]),
        )
