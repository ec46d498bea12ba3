"""One request/response pair as the proxy saw it: the unit that is checked, logged and recorded."""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from typing import Any

from ..spec.jsontext import JsonTextError, plain, read_json

JSON_MEDIA_TYPE = "application/json"


def media_type(content_type: str | None) -> str:
    """`Application/JSON; charset=utf-8` → `application/json`; '' when absent."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    """The first value of a header, case-insensitively."""
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


@dataclass(frozen=True)
class Exchange:
    """Everything the checks and the recorder need, copied out of the ASGI and httpx objects.

    `response_body` is the body as it went over the wire (still content-encoded); None when it
    was not captured (larger than the capture limit). `response_complete` is False when the
    upstream stream broke mid-way: such an answer is neither judged nor recorded.
    """

    id: int
    time: float
    method: str
    path: str
    query_string: str
    query: list[tuple[str, str]]
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    response_headers: list[tuple[str, str]]
    response_body: bytes | None
    response_complete: bool = True

    @property
    def request_content_type(self) -> str | None:
        return header(self.request_headers, "content-type")

    @property
    def response_content_type(self) -> str | None:
        return header(self.response_headers, "content-type")

    def decoded_response_body(self) -> bytes | None:
        """The body with its Content-Encoding undone; None when it cannot be (br, zstd, broken)."""
        body = self.response_body
        if body is None:
            return None
        encoding = (header(self.response_headers, "content-encoding") or "identity").lower()
        try:
            for step in reversed([e.strip() for e in encoding.split(",") if e.strip()]):
                if step == "gzip" or step == "x-gzip":
                    body = gzip.decompress(body)
                elif step == "deflate":
                    try:
                        body = zlib.decompress(body)
                    except zlib.error:
                        body = zlib.decompress(body, -zlib.MAX_WBITS)
                elif step != "identity":
                    return None
        except (OSError, EOFError, zlib.error):
            return None
        return body


def parse_json(raw: bytes) -> tuple[bool, Any, str]:
    """`(ok, value, why_not)`: JSON as the mock reads it (`spec.jsontext`: strict RFC 8259 in
    UTF-8, no NaN/Infinity, no lone surrogate, at most 1024 levels; integers of any size).

    A number a double cannot hold comes back as its float: the value is for the validators.
    """
    try:
        value, exact_numbers = read_json(raw)
    except JsonTextError as exc:
        return False, None, exc.reason
    return True, plain(value) if exact_numbers else value, ""
