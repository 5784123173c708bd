"""Jira, Slack and Sheets emulators started together from one desk, with the env that points
the jobs at them.

    with start_stack(load_desk("emulators/fixtures/demo", now), now=now) as stack:
        env = stack.env()   # JIRA_URL, JIRA_EMAIL, JIRA_API_TOKEN, SLACK_*, SHEETS_*, ...

``now`` fixes the emulators' clock (tests and demos move it with ``stack.jira.advance``);
without it they follow the wall clock. Slack and Sheets start only if their modules exist.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emulators.jira import JiraEmulator


@dataclass
class Stack:
    jira: JiraEmulator
    slack: Any | None = None
    sheets: Any | None = None
    desk: dict[str, Any] = field(default_factory=dict)
    _workdir: Path | None = None
    _service_account_file: Path | None = None

    def env(self) -> dict[str, str]:
        """What the jobs read from the environment to reach these emulators."""
        env = {
            "JIRA_URL": self.jira.url,
            "JIRA_EMAIL": self.jira.email,
            "JIRA_API_TOKEN": self.jira.token,
        }
        if self.slack is not None:
            env["SLACK_BOT_TOKEN"] = self.slack.token
            env["SLACK_API_URL"] = f"{self.slack.url}/api/"
            signing_secret = getattr(self.slack, "signing_secret", None)
            if signing_secret:
                env["SLACK_SIGNING_SECRET"] = signing_secret
            app_token = getattr(self.slack, "app_token", None)
            if app_token:
                env["SLACK_APP_TOKEN"] = app_token
        if self.sheets is not None:
            env["SHEETS_API_URL"] = str(getattr(self.sheets, "api_url", self.sheets.url))
            if self._service_account_file is not None:
                env["GOOGLE_SERVICE_ACCOUNT_FILE"] = str(self._service_account_file)
        return env

    def stop(self) -> None:
        for emulator in (self.jira, self.slack, self.sheets):
            if emulator is not None:
                emulator.stop()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _optional(module: str, name: str) -> Any | None:
    try:
        mod = __import__(f"emulators.{module}", fromlist=[name])
    except ImportError:
        return None
    return getattr(mod, name, None)


def start_stack(
    desk: dict[str, Any],
    *,
    now: datetime | None = None,
    latency: float = 0.0,
    host: str = "127.0.0.1",
    ports: Mapping[str, int] | None = None,
) -> Stack:
    """Start every emulator on ``host`` (port 0 = any free port unless ``ports`` says)."""
    ports = dict(ports or {})
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    fixed = now
    clock = (lambda: fixed) if fixed is not None else None
    jira = JiraEmulator(desk, latency=latency, clock=clock)
    stack = Stack(jira=jira, desk=desk)
    try:
        jira.start(host, ports.get("jira", 0))
        slack_cls = _optional("slack", "SlackEmulator")
        if slack_cls is not None:
            slack = desk.get("slack") or {}
            stack.slack = slack_cls(
                list(slack.get("users") or []), list(slack.get("channels") or []), latency=latency
            )
            stack.slack.start(host, ports.get("slack", 0))
        sheets_cls = _optional("sheets", "SheetsEmulator")
        if sheets_cls is not None:
            spreadsheets = {
                key: list(sheet.get("tabs") or [])
                for key, sheet in (desk.get("sheets") or {}).items()
            }
            stack.sheets = sheets_cls(spreadsheets, latency=latency)
            stack.sheets.start(host, ports.get("sheets", 0))
            if hasattr(stack.sheets, "service_account_file"):
                stack._workdir = Path(tempfile.mkdtemp(prefix="emulators-"))
                stack._service_account_file = Path(
                    stack.sheets.service_account_file(stack._workdir)
                )
    except BaseException:
        stack.stop()
        raise
    return stack
