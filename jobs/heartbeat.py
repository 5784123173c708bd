"""Dead-man's-switch pings, start then success or failure: healthchecks.io's or Cronitor's format.

A job that silently stops running is noticed by the receiver, not by us. Pinging is best
effort: a failed ping is logged and never changes the job's outcome.

healthchecks.io (``heartbeat_format: healthchecks``, the default), ``heartbeat_url`` being the
check's ping URL:

- ``GET  <url>/start?rid=<run uuid>`` when the run starts;
- ``POST <url>/<exit code>?rid=<run uuid>`` when it ends (0 is success, anything else a
  failure), with the run's one-line summary, or for a failure its one-line reason, as the body
  (redacted; healthchecks.io shows it in the check's log).

Cronitor (``heartbeat_format: cronitor``), ``heartbeat_url`` being the monitor's telemetry URL
``https://cronitor.link/p/<key>/<monitor>``:

- ``GET <url>?state=run&series=<run uuid>``;
- ``GET <url>?state=complete|fail&series=<run uuid>&status_code=<exit code>&message=<line>``.

The run uuid pairs each start with its end, so overlapping runs are told apart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from jobs.secrets import redact

log = logging.getLogger("jobs.heartbeat")

MAX_BODY = 10_000
MAX_MESSAGE = 1_000
FORMATS = ("healthchecks", "cronitor")

Opener = Callable[..., Any]


class Heartbeat:
    def __init__(
        self,
        url: str | None,
        *,
        fmt: str = "healthchecks",
        dry_run: bool = False,
        timeout: float = 5.0,
        run_id: str | None = None,
        opener: Opener | None = None,
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"heartbeat format {fmt!r} is not one of {', '.join(FORMATS)}")
        self.url = url.rstrip("/") if url else None
        self.fmt = fmt
        self.enabled = bool(url) and not dry_run
        self.timeout = timeout
        self.run_id = run_id or (_run_uuid() if self.enabled else "")
        """Pairs a start with its end in the service's log (a disabled beat sends nothing)."""
        self._open = opener
        """None: urllib's, imported on the first ping (most jobs have no heartbeat)."""

    def _send(self, url: str, body: str | None = None) -> None:
        import urllib.request

        opener = self._open or urllib.request.urlopen
        data = body.encode("utf-8") if body is not None else None
        request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
        if data is not None:
            request.add_header("Content-Type", "text/plain; charset=utf-8")
        try:
            with opener(request, timeout=self.timeout) as response:
                response.read()
        except Exception as exc:  # never fail the job because the monitor is down
            log.warning("heartbeat ping failed: %s", type(exc).__name__)

    def _cronitor(self, **params: str | int) -> str:
        assert self.url is not None
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}{urlencode(params)}"

    def start(self) -> None:
        if not self.enabled or self.url is None:
            return
        if self.fmt == "cronitor":
            self._send(self._cronitor(state="run", series=self.run_id))
        else:
            self._send(f"{self.url}/start?rid={self.run_id}")

    def finish(self, exit_code: int, reason: str = "") -> None:
        """Report the run's end; ``reason`` is one line (the failure's, or a summary)."""
        if not self.enabled or self.url is None:
            return
        line = " ".join(redact(reason).split())
        if self.fmt == "cronitor":
            self._send(
                self._cronitor(
                    state="complete" if exit_code == 0 else "fail",
                    series=self.run_id,
                    status_code=exit_code,
                    message=line[:MAX_MESSAGE],
                )
            )
        else:
            # /<exit code>: healthchecks.io takes 0 as success and 1-255 as a failure.
            self._send(f"{self.url}/{exit_code}?rid={self.run_id}", line[:MAX_BODY] or "-")


def _run_uuid() -> str:
    # Imported here: most jobs have no heartbeat, and ``uuid`` brings ``platform`` with it.
    import uuid

    return str(uuid.uuid4())
