"""Acting on alerts from Slack: the listener (buttons on alerts), the Home tab, and what it
takes to deploy them.

What the rest of the project calls (each imports Slack's libraries only when called):

- `serve` — ``python -m jobs serve slack`` (or ``python -m jobs.slack_app``): listen until
  stopped, over Socket Mode or HTTP;
- `publish_home` — after a scheduled run: every agent's Home tab, no listener needed;
- `SlackAppSettings` — the ``slack_app:`` settings section;
- `jobs.slack_app.deploy` — the systemd unit and the Kubernetes Deployment;
- `jobs.slack_app.manifest` — the Slack app's scopes, events and settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from jobs.slack_app.settings import SlackAppSettings, slack_app_settings

if TYPE_CHECKING:
    from jobs.adapters.slack import SlackAdapter
    from jobs.config import Settings
    from jobs.context import RunContext
    from jobs.ledger.base import LedgerReader
    from jobs.slack_app.home import HomeReport

__all__ = ["SlackAppSettings", "publish_home", "serve", "slack_app_settings"]


def serve(settings: Settings, env: Mapping[str, str], *, http_port: int | None, out: TextIO) -> int:
    """Listen for clicks until SIGTERM/SIGINT: Socket Mode (``SLACK_APP_TOKEN``) when
    ``http_port`` is None, else HTTP on that port (``SLACK_SIGNING_SECRET``). Returns the exit
    code: 0 stopped, 2 cannot start (a missing secret, a refused token; said on ``out``)."""
    from jobs.slack_app.app import serve as run

    return run(settings, env, http_port=http_port, out=out)


def publish_home(
    source: RunContext | Settings,
    ledger: LedgerReader,
    slack: SlackAdapter,
    now: datetime,
    **options: Any,
) -> HomeReport:
    """Every agent's Home tab (see `jobs.slack_app.home.publish_home`; ``jira=`` with plain
    settings)."""
    from jobs.slack_app.home import publish_home as publish

    return publish(source, ledger, slack, now, **options)
