"""Who may act on alerts from Slack, and who gets a Home tab: the members of a configured user
group, else the members of the alert channel. Membership is read from Slack and trusted for
``slack_app.membership_ttl``; someone not in the list is looked up again once before being
refused, so a person just added is not turned away by a stale list.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from jobs.adapters.slack import SlackAdapter
from jobs.config import Settings
from jobs.slack_app.settings import SlackAppSettings

RECHECK_AFTER = 5.0
"""Seconds: a list this fresh is not read again for someone missing from it."""


class NoAlertChannel(Exception):
    """The alert channel cannot be found by name (private, renamed, or the bot not in it)."""


class Access:
    def __init__(
        self,
        settings: Settings,
        app: SlackAppSettings,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._channel_name = settings.desk.alert_channel
        self._channel_id = app.alert_channel_id
        self._group = app.user_group
        self._ttl = app.membership_ttl.wall.total_seconds()
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._members: frozenset[str] = frozenset()
        self._read_at: float | None = None

    @property
    def where(self) -> str:
        """Who may act, in words: ``#support-sla`` or ``the user group S0123``."""
        if self._group:
            return f"<!subteam^{self._group}>"
        return self._channel_name

    def note_channel(self, channel_id: str, name: str) -> None:
        """A payload said which channel it came from: if it is the alert channel, its id is
        known without a lookup."""
        if self._channel_id is None and f"#{name.lstrip('#')}" == self._channel_name:
            with self._lock:
                self._channel_id = channel_id

    def channel_id(self, slack: SlackAdapter) -> str:
        with self._lock:
            known = self._channel_id
        if known is not None:
            return known
        found = slack.channel_id(self._channel_name)
        if found is None:
            raise NoAlertChannel(
                f"no public channel {self._channel_name}: set slack_app.alert_channel_id "
                "(a private channel) or desk.alert_channel"
            )
        with self._lock:
            self._channel_id = found
        return found

    def agents(self, slack: SlackAdapter, *, fresh: bool = False) -> frozenset[str]:
        """User ids of everyone who may act (bots included: the caller skips them)."""
        now = self._monotonic()
        with self._lock:
            age = None if self._read_at is None else now - self._read_at
            if not fresh and age is not None and age < self._ttl:
                return self._members
        if self._group:
            members = frozenset(slack.group_members(self._group))
        else:
            members = frozenset(slack.channel_members(self.channel_id(slack)))
        with self._lock:
            self._members, self._read_at = members, self._monotonic()
        return members

    def may_act(self, slack: SlackAdapter, user_id: str) -> bool:
        if user_id in self.agents(slack):
            return True
        with self._lock:
            age = None if self._read_at is None else self._monotonic() - self._read_at
        if age is not None and age < RECHECK_AFTER:
            return False
        return user_id in self.agents(slack, fresh=True)
