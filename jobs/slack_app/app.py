"""The listener: a Bolt app that takes the desk's clicks on alerts, over Socket Mode (the
default: no public URL, ``SLACK_APP_TOKEN``) or HTTP (``--http PORT``: Slack POSTs to the
Request URL, each request verified with ``SLACK_SIGNING_SECRET``).

In HTTP mode Bolt's request verification is on, always: a request whose ``X-Slack-Signature``
does not match its body and ``X-Slack-Request-Timestamp``, or whose timestamp is more than
five minutes from now (a replay), is answered 401 before any handler runs. The server also
answers ``GET /healthz`` (the process is up) and ``GET /readyz`` (it can take clicks); in
Socket Mode a small server on ``slack_app.health_port`` answers the same, ``/readyz`` only
while the socket is connected.

Handlers acknowledge at once (Slack waits three seconds) and then do the work
(`jobs.slack_app.handlers`); the Home tab is published again for whoever opens it.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import urlsplit

from slack_bolt import Ack, App, BoltRequest
from slack_sdk import WebClient

from jobs.adapters.slack import DEFAULT_API_URL
from jobs.clock import Clock, SystemClock
from jobs.config import Settings
from jobs.ledger import open_ledger
from jobs.ledger.base import Ledger
from jobs.render.actions import PREFIX
from jobs.slack_app.access import Access
from jobs.slack_app.handlers import Services, handle_block_actions
from jobs.slack_app.settings import SlackAppSettings, slack_app_settings

log = logging.getLogger("jobs.slack_app")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_BODY = 1_000_000
"""Bytes: Slack's payloads are far smaller; anything bigger is refused unread."""


class ListenerError(Exception):
    """The listener cannot start: a missing secret, a token Slack refuses. One line, no secret."""


def build_app(services: Services, *, socket_mode: bool) -> App:
    """The Bolt app: request verification on, token checked with Slack (auth.test) now."""
    env = services.env
    token = (env.get("SLACK_BOT_TOKEN") or "").strip()
    secret = (env.get("SLACK_SIGNING_SECRET") or "").strip()
    if not token:
        raise ListenerError("SLACK_BOT_TOKEN is not set (the app's bot token, xoxb-...)")
    if not socket_mode and not secret:
        raise ListenerError(
            "SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request with it "
            "(Basic Information > App Credentials)"
        )
    client = WebClient(
        token=token,
        base_url=env.get("SLACK_API_URL") or DEFAULT_API_URL,
        timeout=int(services.settings.run.http_timeout.wall.total_seconds()) or 30,
    )
    try:
        app = App(
            client=client,
            signing_secret=secret,
            request_verification_enabled=True,
            token_verification_enabled=True,
            process_before_response=False,
            raise_error_for_unhandled_request=False,
            url_verification_enabled=True,
            ssl_check_enabled=True,
            logger=logging.getLogger("slack_bolt"),
        )
    except Exception as exc:  # Bolt's auth.test failure carries the answer, never the token
        raise ListenerError(f"Slack refused the bot token: {type(exc).__name__}") from None

    @app.action(re.compile(rf"^{re.escape(PREFIX)}"))
    def on_click(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        try:
            outcome = handle_block_actions(body, services)
            log.info("click: %s %s", outcome.result, outcome.item or "")
        except Exception:
            log.exception("a click failed")

    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab") != "home" or not isinstance(event.get("user"), str):
            return
        try:
            refresh_home(services, [event["user"]])
        except Exception:
            log.exception("the Home tab could not be published")

    return app


def refresh_home(services: Services, users: list[str]) -> None:
    from jobs.slack_app.home import publish_home

    ledger = services.open_ledger()
    try:
        jira = services.jira() if services.env.get("JIRA_URL") else None
        publish_home(
            services.settings,
            ledger,
            services.slack(),
            services.clock.now(),
            jira=jira,
            only=users,
            access=services.access,
        )
    finally:
        ledger.close()


# -- HTTP ----------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def _http_server(
    app: App | None, host: str, port: int, path: str, ready: Callable[[], bool]
) -> _Server:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "sla-monitor-slack"

        def log_message(self, format: str, *args: Any) -> None:  # no request lines, no secrets
            pass

        def _send(self, status: int, body: str, headers: Mapping[str, Any] | None = None) -> None:
            data = body.encode()
            self.send_response(status)
            sent_type = False
            for name, values in (headers or {}).items():
                for value in values if isinstance(values, list | tuple) else [values]:
                    if name.lower() == "content-length":
                        continue
                    sent_type = sent_type or name.lower() == "content-type"
                    self.send_header(name, str(value))
            if not sent_type:
                self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            route = urlsplit(self.path).path
            if route == "/healthz":
                self._send(200, "ok\n")
            elif route == "/readyz":
                self._send(200, "ready\n") if ready() else self._send(503, "not connected\n")
            else:
                self._send(404, "not found\n")

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            if app is None or parts.path != path:
                self._send(404, "not found\n")
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                self.close_connection = True
                self._send(413, "too large\n")
                return
            raw = self.rfile.read(length).decode("utf-8", errors="replace")
            grouped: dict[str, list[str]] = {}
            for name, value in self.headers.items():
                grouped.setdefault(name.lower(), []).append(value)
            headers: dict[str, str | Sequence[str]] = dict(grouped)
            request = BoltRequest(body=raw, query=parts.query, headers=headers)
            response = app.dispatch(request)
            self._send(response.status, response.body, response.headers)

    return _Server((host, port), Handler)


# -- the listener ----------------------------------------------------------------------------


@dataclass
class Listener:
    """A running listener; `stop` ends it (what `serve` does on SIGTERM or SIGINT)."""

    services: Services
    mode: str
    server: _Server | None = None
    socket: Any = None
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def port(self) -> int | None:
        return int(self.server.server_address[1]) if self.server is not None else None

    @property
    def url(self) -> str:
        """HTTP mode: the Request URL (on loopback when bound to every address)."""
        assert self.server is not None, "no HTTP server"
        host = str(self.server.server_address[0])
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"http://{host}:{self.port}{self.services.app.http_path}"

    def ready(self) -> bool:
        if self.mode == "http":
            return self.server is not None
        client = getattr(self.socket, "client", None)
        return bool(client is not None and client.is_connected())

    def stop(self) -> None:
        if self.socket is not None:
            try:
                self.socket.close()
            except Exception:  # closing a socket that already dropped
                log.debug("socket mode close failed", exc_info=True)
            self.socket = None
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        for thread in self.threads:
            thread.join(timeout=5)

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    settings: Settings,
    env: Mapping[str, str],
    *,
    http_port: int | None,
    clock: Clock | None = None,
    ledger: Callable[[], Ledger] | None = None,
    app_settings: SlackAppSettings | None = None,
    host: str | None = None,
) -> Listener:
    """Start the listener and return at once: HTTP on ``http_port`` (0: any free port), or
    Socket Mode when it is None. Raises `ListenerError` for what must be fixed first."""
    app_config = app_settings or slack_app_settings(settings)
    services = Services(
        settings=settings,
        app=app_config,
        env=dict(env),
        clock=clock or SystemClock(),
        open_ledger=ledger or (lambda: open_ledger(env.get("JOBS_LEDGER_URL") or None)),
        access=Access(settings, app_config),
    )
    socket_mode = http_port is None
    if socket_mode and not (env.get("SLACK_APP_TOKEN") or "").strip().startswith("xapp-"):
        raise ListenerError(
            "SLACK_APP_TOKEN is not set (an app-level token, xapp-..., with "
            "connections:write) for Socket Mode; or listen over HTTP with --http PORT"
        )
    app = build_app(services, socket_mode=socket_mode)
    listener = Listener(services=services, mode="socket" if socket_mode else "http")
    bind = host or app_config.http_host
    if not socket_mode:
        assert http_port is not None
        listener.server = _http_server(app, bind, http_port, app_config.http_path, listener.ready)
    else:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        listener.socket = SocketModeHandler(app, env["SLACK_APP_TOKEN"].strip())
        listener.socket.connect()
        if app_config.health_port is not None:
            listener.server = _http_server(
                None, bind, app_config.health_port, app_config.http_path, listener.ready
            )
    if listener.server is not None:
        thread = threading.Thread(
            target=listener.server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="slack-listener",
            daemon=True,
        )
        thread.start()
        listener.threads.append(thread)
    return listener


def serve(settings: Settings, env: Mapping[str, str], *, http_port: int | None, out: TextIO) -> int:
    """``python -m jobs serve slack``: listen until SIGTERM or SIGINT. Exit codes as the CLI's:
    0 stopped cleanly, 2 something to fix before it can start (said on one line)."""
    try:
        listener = start(settings, env, http_port=http_port)
    except ListenerError as exc:
        print(f"error: slack listener: {exc}", file=out)
        return EXIT_USAGE
    where = f"HTTP on {listener.url}" if listener.mode == "http" else "Socket Mode"
    print(f"slack listener: {where}; Ctrl-C or SIGTERM stops it", file=out, flush=True)
    stopping = threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda *_: stopping.set())
    try:
        stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("slack listener: stopped", file=out)
    return EXIT_OK
