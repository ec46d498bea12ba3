"""A loopback HTTP/1.1 upstream whose every byte a test writes: real sockets, no framework.

`RawUpstream(script)` listens on 127.0.0.1:<free port>; each connection it accepts runs
`script(conn)` in a thread of its own, where `conn` (a `RawConnection`) reads requests and
writes whatever the test wants: an answer, half of one, nothing, or a close at any point.
Every request head read is appended to `upstream.received` with the connection's number, so a
test can count exactly how often the upstream saw a request and on which connection.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

Script = Callable[["RawConnection"], None]


@dataclass(frozen=True)
class Seen:
    connection: int
    method: str
    target: str
    headers: dict[str, str]  # names lowercased

    @property
    def line(self) -> tuple[int, str, str]:
        return (self.connection, self.method, self.target)


def answer(
    body: bytes = b'{"ok": true}', status: str = "200 OK", headers: Sequence[str] = ()
) -> bytes:
    """A complete answer with a Content-Length (keep-alive, HTTP/1.1's default)."""
    lines = [
        f"HTTP/1.1 {status}",
        f"Content-Length: {len(body)}",
        "Content-Type: application/json",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class RawConnection:
    def __init__(self, upstream: RawUpstream, number: int, sock: socket.socket) -> None:
        self.upstream = upstream
        self.number = number
        self.sock = sock
        self.buffer = b""

    def read_head(self) -> Seen | None:
        """The next request's head (recorded); None if the proxy closed the connection."""
        while b"\r\n\r\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buffer += data
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        request_line, *fields = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = {}
        for field in fields:
            name, _, value = field.partition(":")
            headers[name.strip().lower()] = value.strip()
        seen = Seen(self.number, method, target, headers)
        self.upstream.record(seen)
        return seen

    def read_body(self, size: int) -> bytes:
        """Up to `size` bytes of body (fewer only if the connection closes first)."""
        while len(self.buffer) < size:
            data = self.sock.recv(65536)
            if not data:
                break
            self.buffer += data
        body, self.buffer = self.buffer[:size], self.buffer[size:]
        return body

    def read_request(self) -> tuple[Seen, bytes] | None:
        seen = self.read_head()
        if seen is None:
            return None
        return seen, self.read_body(int(seen.headers.get("content-length", "0")))

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        self.sock.close()


def serve_all(conn: RawConnection, body: bytes = b'{"ok": true}') -> None:
    """Answer every request on the connection, keeping it alive."""
    while conn.read_request() is not None:
        conn.send(answer(body))


class RawUpstream:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.received: list[Seen] = []
        self.connections = 0
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._open: list[RawConnection] = []
        self._accepter = threading.Thread(target=self._accept, name="raw-upstream", daemon=True)

    def __enter__(self) -> RawUpstream:
        self._accepter.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._accepter.join(5)
        self._listener.close()
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)  # a script still waiting gets EOF
        for thread in self._threads:
            thread.join(5)

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.received.append(seen)

    def lines(self) -> list[tuple[int, str, str]]:
        """`(connection, method, target)` of every request head received, in order."""
        with self._lock:
            return [seen.line for seen in self.received]

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(10)
            with self._lock:
                self.connections += 1
                conn = RawConnection(self, self.connections, sock)
                self._open.append(conn)
            thread = threading.Thread(target=self._run, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, conn: RawConnection) -> None:
        try:
            self.script(conn)
        except (ConnectionError, TimeoutError):
            pass  # the proxy went away: not this upstream's concern
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            conn.close()
