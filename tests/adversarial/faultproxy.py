"""A fault-injecting HTTP/1.1 proxy on loopback, in front of a real registry: answer, hang, trickle or drop."""

from __future__ import annotations

import http
import re
import socket
import threading
from dataclasses import dataclass, field

HEAD_LIMIT = 64 << 10
MAX_HANG = 120.0  # seconds a hung exchange is held at most, so a broken test still ends
ENDLESS_LIMIT = 64 << 20  # an "endless" body stops here, so a broken client cannot make the test run forever
_METHOD = re.compile(rb"[A-Z]+ ")


@dataclass
class Fault:
    """What to do to requests matching `method` and the regex `path`: the `nth` match and `times - 1` after it.

    action: "answer" (status/headers/body without asking the registry; `endless` streams junk),
    "hang" (read the request head, never answer), "trickle" (forward, then relay the answer one byte
    every `interval` seconds), "drop" (forward half the request body, or of the answer when there is
    no body, then close both connections).
    """

    action: str
    method: str = ""
    path: str = ""
    nth: int = 1
    times: int = 1
    status: int = 503
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    endless: bool = False
    interval: float = 0.5
    seen: int = 0

    def applies(self, method: str, target: str) -> bool:
        if (self.method and method != self.method) or not re.search(self.path, target):
            return False
        self.seen += 1
        return self.nth <= self.seen < self.nth + self.times


class FaultProxy:
    """Forwards each request on its own upstream connection (Connection: close both ways); logs what it did."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, str]] = []  # (method, path and query, action or "pass")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.host = f"127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> "FaultProxy":
        self._spawn(self._accept_loop)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()

    def add(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def clear(self) -> None:
        """Forget the faults and the log: from here on every request passes."""
        with self._lock:
            self.faults.clear()
            self.log.clear()

    def actions(self, action: str) -> list[tuple[str, str]]:
        return [(method, target) for method, target, done in self.log if done == action]

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        with client:
            client.settimeout(30)
            try:
                head, rest = _read_head(client)
            except OSError:
                return
            if not head:
                return  # not HTTP (s2i's https probe, say): close, as a plain-HTTP registry would
            method, target = head.split(b" ", 2)[:2]
            method, target = method.decode(), target.decode()
            with self._lock:
                applying = [f for f in self.faults if f.applies(method, target)]  # each fault counts every match
                fault = applying[0] if applying else None
                self.log.append((method, target, fault.action if fault else "pass"))
            try:
                self._handle(client, fault, head, rest)
            except OSError:
                pass  # the client gave up (its timeout): nothing left to do

    def _handle(self, client: socket.socket, fault: Fault | None, head: bytes, rest: bytes) -> None:
        length = _content_length(head)
        if fault is None or fault.action in ("trickle", "drop"):
            self._forward(client, head, rest, length, fault)
        elif fault.action == "hang":
            self._stop.wait(MAX_HANG)
        elif fault.action == "answer":
            _drain(client, length - len(rest))
            self._answer(client, fault)
        else:
            raise ValueError(f"unknown fault action {fault.action!r}")

    def _answer(self, client: socket.socket, fault: Fault) -> None:
        lines = [f"HTTP/1.1 {fault.status} {http.HTTPStatus(fault.status).phrase}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in fault.headers.items()]
        if not fault.endless:
            lines.append(f"Content-Length: {len(fault.body)}")
        client.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + fault.body)
        sent = 0
        while fault.endless and sent < ENDLESS_LIMIT and not self._stop.is_set():
            client.sendall(b"x" * 65536)
            sent += 65536

    def _forward(self, client: socket.socket, head: bytes, rest: bytes, length: int, fault: Fault | None) -> None:
        drop = fault is not None and fault.action == "drop"
        with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30) as upstream:
            upstream.sendall(_closing(head))
            body_limit = length // 2 if drop and length else length
            upstream.sendall(rest[:body_limit])
            _relay(client, upstream, body_limit - len(rest[:body_limit]))
            if drop and length:
                return  # half a request body: both connections simply end
            answer_head, answer_rest = _read_head(upstream)
            client.sendall(_closing(answer_head))
            answer_limit = _content_length(answer_head) // 2 if drop else 1 << 62
            self._relay_answer(client, upstream, answer_rest, answer_limit, fault)

    def _relay_answer(self, client, upstream, data: bytes, limit: int, fault: Fault | None) -> None:
        trickle = fault is not None and fault.action == "trickle"
        sent = 0
        while sent < limit and not self._stop.is_set():
            if not data:
                data = upstream.recv(65536)
                if not data:
                    return
            piece = data[: 1 if trickle else limit - sent]
            client.sendall(piece)
            data, sent = data[len(piece):], sent + len(piece)
            if trickle and self._stop.wait(fault.interval):
                return


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """(head up to the blank line, body bytes read past it); (b"", b"") for a peer not speaking HTTP."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk or len(data) > HEAD_LIMIT:
            return b"", b""
        data += chunk
        if not (_METHOD.match(data) or data.startswith(b"HTTP/")) and len(data) >= 8:
            return b"", b""
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _content_length(head: bytes) -> int:
    match = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.IGNORECASE)
    return int(match[1]) if match else 0


def _closing(head: bytes) -> bytes:
    """The head with `Connection: close`, so each side ends the exchange by closing."""
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith((b"connection:", b"keep-alive:"))]
    return b"\r\n".join(lines + [b"Connection: close"]) + b"\r\n\r\n"


def _drain(client: socket.socket, remaining: int) -> None:
    while remaining > 0:
        chunk = client.recv(min(65536, remaining))
        if not chunk:
            return
        remaining -= len(chunk)


def _relay(client: socket.socket, upstream: socket.socket, remaining: int) -> None:
    while remaining > 0:
        chunk = client.recv(min(65536, remaining))
        if not chunk:
            return
        upstream.sendall(chunk)
        remaining -= len(chunk)
