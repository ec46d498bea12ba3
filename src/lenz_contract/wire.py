"""What crosses the wire that is the toolkit's own, not the contract's (a small common module).

The mock, the proxy and the conformance suite stand on `spec` and never on each other; the few
things two of them must agree on byte for byte live here: how a request body is read with a
cap, the header by which the mock says it is the mock (the suite then allows execution), and
how the two servers wrap their apps (a pure-ASGI middleware that sees HTTP only, the CORS layer
`--cors-origin` turns on).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

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


class HttpMiddleware(ABC):
    """A pure-ASGI middleware that acts on HTTP requests only (`http`); every other scope
    (lifespan, websocket) goes on to the app it wraps, untouched.

    Pure ASGI rather than Starlette's `BaseHTTPMiddleware`: no Request object, no response
    wrapping, on the path every request takes.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    @abstractmethod
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request (each subclass its own way)."""


CORS_MAX_AGE = 600
"""Seconds a browser may keep a preflight answer."""


def cors_middleware(
    origins: Sequence[str],
    *,
    methods: Sequence[str],
    headers: Sequence[str],
    middleware: type[CORSMiddleware] = CORSMiddleware,
) -> list[Middleware]:
    """The CORS layer that lets browsers on `origins` call a server (none when there are no
    origins: the server then adds no CORS header of its own). `middleware` may be a subclass of
    Starlette's, such as one that skips requests without `Origin`."""
    if not origins:
        return []
    return [
        Middleware(
            middleware,
            allow_origins=list(origins),
            allow_methods=list(methods),
            allow_headers=list(headers),
            max_age=CORS_MAX_AGE,
        )
    ]
