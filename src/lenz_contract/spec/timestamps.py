"""Timestamps as the contract has them: RFC 3339 (`format: date-time`), compared as instants.

One reader for every part of the project: the docs write `2025-04-30T07:00:00Z`, a deployment
may write `2025-04-30T14:00:00.123456789+07:00` or `2025-04-30t07:00:00z`; all are the same
kind of value, and two of them are compared as instants, never as strings.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

RFC3339 = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>[Zz]|[+-]\d{2}:\d{2})$"
)


def parse_rfc3339(text: object) -> datetime | None:
    """The instant an RFC 3339 timestamp names (aware), or None when it is not one.

    Fractions beyond microseconds are cut (Python keeps six digits); `-00:00` is UTC.
    """
    if not isinstance(text, str):
        return None
    found = RFC3339.match(text)
    if found is None:
        return None
    fraction = (found["fraction"] or "")[:6].ljust(6, "0")
    try:
        when = datetime.fromisoformat(f"{found['date']}T{found['time']}.{fraction}")
    except ValueError:
        return None
    zone = found["zone"]
    if zone in ("Z", "z"):
        return when.replace(tzinfo=UTC)
    sign = 1 if zone[0] == "+" else -1
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if hours > 23 or minutes > 59:
        return None
    return when.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))


def format_utc(when: datetime) -> str:
    """`2025-04-30T07:00:00Z`: how the mock writes every timestamp (whole seconds, UTC, Z)."""
    if when.tzinfo is None:
        raise ValueError(f"a timezone-aware datetime is needed, got naive {when.isoformat()}")
    # isoformat is C and several times faster than strftime (every create writes one)
    return when.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"
