"""A threaded HTTP server with routes and a queue of scripted faults per route.

Faults, served in order before the real answer: ``Fault(429, retry_after=1)``, ``Fault(418)``,
``Fault(500)``/``Fault(503)``, ``Fault("truncated")`` (Content-Length larger than the body, the
connection closed early), ``Fault("malformed")`` (200 with a body that is not JSON).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

Handler = Callable[[str, dict[str, str]], tuple[int, bytes, dict[str, str]]]


@dataclass
class Fault:
    kind: int | str
    retry_after: float | None = None


class StandinHTTPServer:
    def __init__(self) -> None:
        self.routes: list[tuple[str, Handler]] = []
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.requests: list[tuple[str, dict[str, str], int]] = []
        self.extra_headers: dict[str, str] = {}
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer._serve(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def route(self, prefix: str, handler: Handler) -> None:
        self.routes.append((prefix, handler))

    def fail(self, prefix: str, *faults: Fault) -> None:
        self.faults[prefix].extend(faults)

    def count(self, prefix: str) -> int:
        return sum(1 for p, _, _ in self.requests if p.startswith(prefix))

    def start(self) -> StandinHTTPServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> StandinHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        u = urlparse(h.path)
        params = {k: v[-1] for k, v in parse_qs(u.query).items()}
        for prefix, handler in self.routes:  # noqa: B007 - the matching route is used below
            if u.path.startswith(prefix):
                break
        else:
            self._send(h, 404, b'{"error":"not found"}')
            self.requests.append((u.path, params, 404))
            return
        queue = self.faults.get(prefix)
        if queue:
            fault = queue.popleft()
            self.requests.append((u.path, params, -1))
            self._fault(h, fault, handler, u.path, params)
            return
        status, body, headers = handler(u.path, params)
        self.requests.append((u.path, params, status))
        self._send(h, status, body, headers)

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        *,
        length: int | None = None,
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in {**self.extra_headers, **(headers or {})}.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()

    def _fault(
        self,
        h: BaseHTTPRequestHandler,
        fault: Fault,
        handler: Handler,
        path: str,
        params: dict[str, str],
    ) -> None:
        if fault.kind in (429, 418):
            headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            self._send(h, int(fault.kind), b'{"code":-1003,"msg":"Too many requests."}', headers)
        elif isinstance(fault.kind, int):
            self._send(h, fault.kind, b"<html><body>Service Unavailable</body></html>")
        elif fault.kind == "truncated":
            status, body, headers = handler(path, params)
            self._send(h, status, body[: len(body) // 2], headers, length=len(body))
            h.close_connection = True
        elif fault.kind == "malformed":
            status, body, headers = handler(path, params)
            self._send(h, 200, body[: len(body) // 2] + b"<!-- cut -->", headers)
        else:
            raise ValueError(f"unknown fault {fault.kind!r}")


def json_body(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()
