"""What crosses the wire that is the toolkit's own, not the contract's (a small common module).

The mock, the proxy and the conformance suite stand on `spec` and never on each other; the few
things two of them must agree on byte for byte live here: how a request body is read with a
cap, and the header by which the mock says it is the mock (the suite then allows execution).
"""

from __future__ import annotations

from starlette.types import Receive

MOCK_HEADER = "x-lenz-mock"
"""Every answer of the mock carries it; a conformance run that sees it may execute workflows."""
MOCK_HEADER_VALUE = "lenz-contract"


class BodyTooLarge(Exception):
    """The request body passed the cap; nothing more of it was kept."""


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body, refused as soon as it passes `limit` bytes (read as it streams,
    never buffered past the cap); `ClientGone` if the client leaves half way."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
