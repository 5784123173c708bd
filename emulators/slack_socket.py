"""Socket Mode for the Slack emulator: the WebSocket an app opens with the URL that
``apps.connections.open`` gave it, and over which Slack sends it events and interactions.

What Slack documents (https://docs.slack.dev/apis/events-api/using-socket-mode) and this
does: the app calls ``apps.connections.open`` with its app-level token (``xapp-``) and gets a
one-time ``url``; it opens a WebSocket there (RFC 6455: an HTTP Upgrade answered 101 with
``Sec-WebSocket-Accept``); Slack sends ``{"type": "hello"}``, then envelopes
``{"envelope_id", "type": "interactive" | "events_api", "payload", "accepts_response_payload"}``,
each of which the app acknowledges by sending back ``{"envelope_id"}`` within three seconds.
Pings are answered with pongs; frames from the app are masked, frames to it are not.

Loopback only, plain ``ws://`` (slack-sdk's client connects without TLS to a port other than 443).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import socketserver
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


@dataclass
class _Session:
    sock: socket.socket
    lock: threading.Lock = field(default_factory=threading.Lock)
    acks: dict[str, threading.Event] = field(default_factory=dict)
    open: bool = True

    def send(self, opcode: int, data: bytes) -> None:
        head = bytes([0x80 | opcode])
        if len(data) < 126:
            head += bytes([len(data)])
        elif len(data) < 1 << 16:
            head += bytes([126]) + struct.pack("!H", len(data))
        else:
            head += bytes([127]) + struct.pack("!Q", len(data))
        with self.lock:
            self.sock.sendall(head + data)


class SocketModeServer:
    """The WebSocket side of Socket Mode. `ticket` makes a one-time URL (apps.connections.open);
    `send` delivers a payload to the connected app and waits for its acknowledgement."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._tickets: set[str] = set()
        self._sessions: list[_Session] = []
        self._lock = threading.Lock()
        self.received: list[dict[str, Any]] = []
        """Every JSON message an app sent (acknowledgements)."""
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                server._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server((host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def ticket(self) -> str:
        """A one-time WebSocket URL, as apps.connections.open answers it."""
        value = secrets.token_hex(12)
        with self._lock:
            self._tickets.add(value)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={value}&app_id=A0SLAAPP1"

    def connected(self) -> bool:
        with self._lock:
            return any(s.open for s in self._sessions)

    def wait_connected(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.connected():
                return True
            time.sleep(0.02)
        return False

    def send(
        self, payload: dict[str, Any], *, kind: str = "interactive", timeout: float = 5.0
    ) -> bool:
        """Deliver ``payload`` in an envelope to the connected app; True once it acknowledged."""
        with self._lock:
            session = next((s for s in reversed(self._sessions) if s.open), None)
        if session is None:
            raise ConnectionError("no app is connected over Socket Mode")
        envelope_id = str(uuid.uuid4())
        acked = threading.Event()
        session.acks[envelope_id] = acked
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": False,
        }
        session.send(TEXT, json.dumps(envelope).encode())
        return acked.wait(timeout)

    def stop(self) -> None:
        with self._lock:
            sessions, self._sessions = list(self._sessions), []
        for session in sessions:
            session.open = False
            try:
                session.sock.close()
            except OSError:
                pass
        self._server.shutdown()
        self._server.server_close()

    # -- one connection ----------------------------------------------------------------------
    def _serve(self, sock: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = sock.recv(4096)
            if not chunk:
                return
            request += chunk
        head = request.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        headers = {
            k.strip().lower(): v.strip()
            for k, _, v in (line.partition(":") for line in head[1:])
            if k
        }
        ticket = head[0].split("ticket=", 1)[1].split("&", 1)[0].split(" ")[0] if head else ""
        with self._lock:
            valid = ticket in self._tickets
            self._tickets.discard(ticket)
        key = headers.get("sec-websocket-key", "")
        if not valid or headers.get("upgrade", "").lower() != "websocket" or not key:
            sock.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
            return
        accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
        sock.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        session = _Session(sock)
        with self._lock:
            self._sessions.append(session)
        hello = {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "emulator", "approximate_connection_time": 3600},
            "connection_info": {"app_id": "A0SLAAPP1"},
        }
        session.send(TEXT, json.dumps(hello).encode())
        try:
            self._read(session)
        finally:
            session.open = False

    def _read(self, session: _Session) -> None:
        buffer = b""

        def need(n: int) -> bytes:
            nonlocal buffer
            while len(buffer) < n:
                chunk = session.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                buffer += chunk
            data, buffer = buffer[:n], buffer[n:]
            return data

        try:
            while session.open:
                first, second = need(2)
                opcode, masked, length = first & 0x0F, second & 0x80, second & 0x7F
                if length == 126:
                    (length,) = struct.unpack("!H", need(2))
                elif length == 127:
                    (length,) = struct.unpack("!Q", need(8))
                mask = need(4) if masked else b"\0\0\0\0"
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(need(length)))
                if opcode == PING:
                    session.send(PONG, data)
                elif opcode == CLOSE:
                    session.send(CLOSE, data[:2])
                    return
                elif opcode == TEXT:
                    try:
                        message = json.loads(data)
                    except ValueError:
                        continue
                    self.received.append(message)
                    acked = session.acks.pop(str(message.get("envelope_id")), None)
                    if acked is not None:
                        acked.set()
        except (ConnectionError, OSError):
            return
