"""The proxy's side of the wire: the one upstream origin and the two clients that talk to it.

- `UpstreamURL` is the one place the proxy sends requests, fixed at startup.
- `FastClient` (the default) is `transport.FastTransport` bound to that origin and the proxy's
  timeouts: httpx's stock transport costs ~1 ms of CPU a request here, this one a tenth of it.
- `HttpxClient` is `httpx.AsyncClient` with httpcore, for when `fast` won't do; it never
  follows redirects, reads no proxy settings from the environment and keeps no cookies.

Both take the request as bytes, give an `UpstreamAnswer` whose body is read as it arrives, and
raise httpx's exceptions, so `forward.Forwarder` handles their failures one way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from .transport import FastTransport


class UpstreamURL:
    """The one place the proxy sends requests: `http(s)://host[:port][/prefix]`."""

    def __init__(self, url: str) -> None:
        parsed = urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"the upstream must be an http(s) URL with a host, got {url!r}")
        if parsed.username or parsed.password:
            raise ValueError("the upstream URL must not carry credentials (they would be logged)")
        if parsed.query or parsed.fragment:
            raise ValueError("the upstream URL must not have a query or a fragment")
        self.text = url.rstrip("/")
        base = httpx.URL(self.text)
        self.scheme = base.scheme
        self.host = base.host
        self.port = base.port or (443 if base.scheme == "https" else 80)
        self.host_header = base.netloc  # host[:port] as the upstream expects it in Host
        self.prefix = base.raw_path.rstrip(b"/")

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    def target(self, raw_path: bytes, query_string: bytes) -> bytes:
        """The request target sent upstream: the upstream's prefix, the path, the query."""
        return self.prefix + raw_path + (b"?" + query_string if query_string else b"")


class UpstreamAnswer(Protocol):
    status_code: int
    headers_raw: list[tuple[bytes, bytes]]

    def aiter_raw(self) -> AsyncIterator[bytes]: ...
    async def aclose(self) -> None: ...


class FastClient:
    """`FastTransport` bound to the upstream's origin and the proxy's timeouts (the default)."""

    def __init__(self, upstream: UpstreamURL, timeout: httpx.Timeout) -> None:
        self.upstream = upstream
        self.timeouts = timeout.as_dict()
        self.transport = FastTransport()

    async def send(
        self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> UpstreamAnswer:
        headers = [(b"host", self.upstream.host_header), *headers]
        return await self.transport.request(
            method, self.upstream.origin, target, headers, body, self.timeouts
        )

    async def aclose(self) -> None:
        await self.transport.aclose()


class _HttpxAnswer:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self.headers_raw = response.headers.raw

    def aiter_raw(self) -> AsyncIterator[bytes]:
        return self.response.aiter_raw()

    async def aclose(self) -> None:
        await self.response.aclose()


class HttpxClient:
    """httpx's own stack (httpcore): about 1 ms more CPU a request, for when `fast` won't do."""

    def __init__(self, upstream: UpstreamURL, timeout: httpx.Timeout) -> None:
        self.upstream = upstream
        self.client = httpx.AsyncClient(
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=256, max_keepalive_connections=128, keepalive_expiry=30
            ),
            follow_redirects=False,
            trust_env=False,  # never an HTTP(S)_PROXY from the environment: only the upstream
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),  # keep none
        )
        self.base = httpx.URL(upstream.text)

    async def send(
        self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> UpstreamAnswer:
        url = self.base.copy_with(raw_path=target)
        if (url.scheme, url.host, url.port) != (self.base.scheme, self.base.host, self.base.port):
            raise ValueError("request target would leave the upstream")  # defence in depth
        request = httpx.Request(method, url, headers=headers, content=body)
        return _HttpxAnswer(await self.client.send(request, stream=True))

    async def aclose(self) -> None:
        await self.client.aclose()
