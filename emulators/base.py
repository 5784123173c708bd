"""A small threaded HTTP server on loopback with routing, call recording and fault injection.

Each vendor emulator (Jira, Slack, Sheets) subclasses `Emulator` and registers routes.
Faults are queued per path pattern and consumed one per matching request, so a test can
say "the next two searches answer 429 with Retry-After: 1" and nothing else.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; ValueError if it is not JSON or nests deeper than a JSON reader
        goes (Jira's reader stops at 1,000 levels; Python's near the same)."""
        try:
            return json.loads(self.body or b"null")
        except RecursionError:
            raise ValueError("the JSON body nests too deeply") from None

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode()).items()}

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    """Bytes sent as-is (e.g. malformed JSON); overrides ``body``."""


@dataclass
class Fault:
    """A canned misbehaviour for the next ``times`` requests whose path matches ``pattern``."""

    pattern: str
    status: int = 500
    times: int = 1
    retry_after: float | None = None
    delay: float = 0.0
    body: Any = None
    raw: bytes | None = None
    reset_connection: bool = False
    method: str | None = None
    when: Callable[[Request], bool] | None = None
    """Only requests this says yes to (e.g. a chat.postMessage whose text names something)."""
    rewrite: Callable[[Request, Any], Any] | None = None
    """Answer normally, then hand the request and the answer's JSON to this and send what it
    returns (a `Response` replaces the answer whole): a search that lists a ticket twice, a
    page that comes back, a field gone null."""


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    at: float


@dataclass(frozen=True)
class Exchange:
    """One request and the answer it got, as a spec check reads them (see `observe`)."""

    emulator: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Request headers, lower-case names, without Authorization."""
    body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: Any
    """The answer as JSON, or None (empty answer), or bytes (not JSON)."""
    fault: bool
    """An injected fault answered, not the emulated service."""


Handler = Callable[[Request, re.Match[str]], Response]
Observer = Callable[[Exchange], None]
_UNSET: Any = object()


class Emulator:
    """Base class: ``start()`` returns the base URL; ``calls`` records every request."""

    name = "emulator"
    default_retry_after: float | None = None
    """``Retry-After`` of an injected 429 unless the test says otherwise (None: no header)."""
    observers: ClassVar[list[Observer]] = []
    """Called with every `Exchange` of every emulator (spec checks); empty costs nothing."""
    latency_covers_work = False
    """False: ``latency`` is waited before a request is handled (a write lands late, and the
    answer comes after the handling too). True: the answer goes out ``latency`` after the
    request arrived, or when the handling is done if that is later — a server that answers in
    a fixed time, whatever this emulator's own Python costs (the bench's model)."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.calls: list[Call] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._address = ""
        """The base URL while started: every link in every answer starts with it."""
        self._thread: threading.Thread | None = None

    # -- routing -----------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method.upper(), re.compile(f"^{pattern}$"), handler))

    # -- faults ------------------------------------------------------------------------------
    def inject(self, pattern: str, *, retry_after: Any = _UNSET, **kwargs: Any) -> Fault:
        """Queue a fault. A 429 carries ``Retry-After: default_retry_after`` unless
        ``retry_after`` is given (``None`` sends none, as a misbehaving proxy might)."""
        if retry_after is _UNSET:
            status = kwargs.get("status", 500)
            retry_after = self.default_retry_after if status == 429 else None
        fault = Fault(pattern=pattern, retry_after=retry_after, **kwargs)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str, request: Request | None = None) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and re.search(fault.pattern, path):
                    if fault.method and fault.method.upper() != method:
                        continue
                    if fault.when is not None and (request is None or not fault.when(request)):
                        continue
                    fault.times -= 1
                    return fault
        return None

    def clock_time(self) -> float:
        """The server's clock, as its answers' ``Date`` header gives it (seconds since the
        epoch); an emulator with an injected clock says its own time."""
        return time.time()

    def calls_to(self, pattern: str, method: str | None = None) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if re.search(pattern, c.path) and (method is None or c.method == method.upper())
            ]

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        emulator = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet by design
                pass

            def date_time_string(self, timestamp: float | None = None) -> str:
                return super().date_time_string(
                    emulator.clock_time() if timestamp is None else timestamp
                )

            def _handle(self) -> None:
                emulator._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        # Headers and body leave in two writes; with Nagle on, the body waits for the client's
        # delayed ACK (~40 ms a request). Accepted sockets inherit this option on Linux.
        self._server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        bound_host, bound_port = self._server.server_address[:2]
        self._address = f"http://{bound_host}:{bound_port}"
        # A short poll so stop() returns at once instead of waiting out serve_forever's 0.5 s.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None, "emulator not started"
        return self._address

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- dispatch ----------------------------------------------------------------------------
    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
        )
        arrived = time.monotonic()
        if self.latency and not self.latency_covers_work:
            time.sleep(self.latency)
        fault = self._take_fault(request.method, request.path, request)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.reset_connection:
                self._record(request, 0)
                handler.close_connection = True
                try:
                    handler.connection.shutdown(2)
                except OSError:
                    pass
                return
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            response = Response(
                status=fault.status,
                body=fault.body if fault.body is not None else self.fault_body(fault.status),
                headers=headers,
                raw=fault.raw,
            )
            if fault.rewrite is not None:
                response = self._route(request)
                rewritten = fault.rewrite(request, response.body)
                if isinstance(rewritten, Response):
                    response = rewritten
                else:
                    response.body = rewritten
            elif fault.status == 200 and fault.raw is None and fault.body is None:
                response = self._route(request)  # a slow but otherwise normal answer
        else:
            response = self._route(request)
        self._record(request, response.status)
        if Emulator.observers:
            self._observe(request, response, fault is not None)
        payload = (
            response.raw
            if response.raw is not None
            else b""
            if response.body is None
            else self.encode(response.body)
        )
        if self.latency and self.latency_covers_work:
            time.sleep(max(0.0, arrived + self.latency - time.monotonic()))
        handler.send_response(response.status)
        content_type = response.headers.pop("Content-Type", "application/json;charset=UTF-8")
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for key, value in response.headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def encode(self, body: Any) -> bytes:
        """An answer's JSON bytes. Compact, as Jira and Slack answer: a search page is
        megabytes, and the spaces would be a tenth of what the client reads."""
        return json.dumps(body, separators=(",", ":")).encode()

    def _record(self, request: Request, status: int) -> None:
        try:
            parsed: Any = json.loads(request.body) if request.body else None
        except (ValueError, RecursionError):
            parsed = request.body.decode(errors="replace")
        with self._lock:
            self.calls.append(
                Call(request.method, request.path, request.query, parsed, status, time.time())
            )

    def _observe(self, request: Request, response: Response, fault: bool) -> None:
        if response.raw is not None:
            answer: Any = response.raw
        else:
            answer = json.loads(json.dumps(response.body))  # a snapshot, as it went out
        exchange = Exchange(
            emulator=self.name,
            method=request.method,
            path=request.path,
            query={k: list(v) for k, v in request.query.items()},
            headers={k: v for k, v in request.headers.items() if k != "authorization"},
            body=request.body,
            status=response.status,
            response_headers={k.lower(): v for k, v in response.headers.items()},
            response_body=answer,
            fault=fault,
        )
        for observe in list(Emulator.observers):
            observe(exchange)

    def _route(self, request: Request) -> Response:
        for method, pattern, handler in self._routes:
            if method != request.method:
                continue
            match = pattern.match(request.path)
            if match:
                try:
                    with self._lock:
                        return handler(request, match)
                except Exception as exc:  # an emulator bug must show up as a 500, not a hang
                    return Response(500, {"errorMessages": [f"emulator error: {exc!r}"]})
        return self.not_found(request)

    # -- vendor-specific error shapes (overridden) -------------------------------------------
    def not_found(self, request: Request) -> Response:
        return Response(404, {"error": f"no route for {request.method} {request.path}"})

    def fault_body(self, status: int) -> Any:
        return {"error": f"injected fault {status}"}
