"""The listener's settings: who may act, how long membership is trusted, how it listens.

Read from the settings file's ``slack_app:`` section (the config loader adds it); every key
has a default, so a desk that sets nothing gets: the alert channel's members may act and get
a Home tab, Socket Mode, 1 minute of trust in a membership list.
"""

from __future__ import annotations

import re
from typing import Any

from jobs.durations import DurationField, check_duration_bounds, parse_duration
from jobs.sections import Field, Section, field_validator

_GROUP = re.compile(r"S[A-Z0-9]{2,}")
_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,}")


class SlackAppSettings(Section):
    """``slack_app:`` in settings.yaml."""

    user_group: str | None = None
    """A Slack user group id (``S0123ABCD``): its members may act on alerts and get a Home
    tab. Unset: the members of ``desk.alert_channel``."""
    alert_channel_id: str | None = None
    """The alert channel's id (``C0123ABCD``). Unset: found by its name (conversations.list,
    public channels only; give the id for a private channel)."""
    assignable_jobs: list[str] = Field(default_factory=lambda: ["unassigned_first_response"])
    """Jobs whose alerts offer "Assign to me" (a ticket nobody has yet)."""
    membership_ttl: DurationField = parse_duration("1m")
    """How long a membership list is trusted before it is read again."""
    why_lines: int = Field(default=15, ge=1, le=40)
    """Decisions shown by "Why?" (newest first)."""
    retry_budget: DurationField = parse_duration("30s")
    """How long one click may wait on retries of Slack and Jira (a person is waiting)."""
    http_host: str = "0.0.0.0"
    """HTTP mode: the address to listen on."""
    http_path: str = "/slack/events"
    """HTTP mode: the Request URL's path (Interactivity and Event Subscriptions)."""
    health_port: int | None = Field(default=8080, ge=0, le=65535)
    """Socket Mode: a port answering ``GET /healthz`` (liveness) and ``/readyz``; None: none.
    In HTTP mode the listener's own port answers them."""
    home_snooze_label_days: int = Field(default=31, ge=0, le=366)
    """The Home tab lists tickets whose snooze label ends within this many days."""
    home_tab: bool = True
    """Publish every agent's Home tab after a scheduled run (``run`` without ``--dry-run``;
    see ``home_refresh``): it works without the listener. False: only when an agent opens it
    (listener running)."""
    home_refresh: DurationField = parse_duration("15m")
    """After a run, the Home tabs are published again only when the open alerts or silences
    changed, or when this long has passed since they last were (their "2 h ago" ages): a
    run that changed nothing costs no Slack calls. 0s: after every run."""

    @field_validator("membership_ttl", "retry_budget", "home_refresh")
    @classmethod
    def _bounded(cls, value: Any, info: Any) -> Any:
        check_duration_bounds(info.field_name, value)
        return value

    @field_validator("user_group")
    @classmethod
    def _group_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip().removeprefix("<!subteam^").removesuffix(">").split("|")[0]
        if not _GROUP.fullmatch(text):
            raise ValueError(f"{value!r} is not a Slack user group id (S0123ABCD)")
        return text

    @field_validator("alert_channel_id")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL.fullmatch(value.strip()):
            raise ValueError(f"{value!r} is not a Slack channel id (C0123ABCD)")
        return value.strip() if value else None

    @field_validator("http_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or any(ch.isspace() for ch in value):
            raise ValueError(f"{value!r} is not a URL path (/slack/events)")
        return value


def slack_app_settings(settings: Any) -> SlackAppSettings:
    """The ``slack_app`` section of loaded settings: a `SlackAppSettings`, a mapping (validated
    here), or absent (the defaults)."""
    section = getattr(settings, "slack_app", None)
    if isinstance(section, SlackAppSettings):
        return section
    return SlackAppSettings.model_validate(section or {})
