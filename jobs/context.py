"""Everything one run of one job may use: config, the instant it runs as of, adapters, ledger.

Adapters are built lazily but their credentials are checked up front
(`check_credentials`), so a missing token stops the run before anything is read or sent.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from jobs.adapters.http import CallCounter, CredentialError, RetryBudget
from jobs.calendar import (
    BusinessCalendar,
    HolidayLoader,
    calendar_from_settings,
    country_holidays,
    desk_calendar,
)
from jobs.config import JobConfig, PersonConfig, Settings
from jobs.render.templates import Templates
from jobs.sitecache import SiteCache

if TYPE_CHECKING:
    from jobs.adapters.jira import JiraAdapter
    from jobs.adapters.pacing import ChannelPacer
    from jobs.adapters.sheets import SheetsAdapter
    from jobs.adapters.slack import SlackAdapter
    from jobs.ledger.base import LedgerReader
    from jobs.rules.desk import Desk


REQUIRED_ENV = {
    "jira": ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN"),
    "slack": ("SLACK_BOT_TOKEN",),
    "sheets": (),
}


HOLIDAYS_TTL = timedelta(days=30)
"""How long a year's holidays, as the ``holidays`` package computed them, are kept in the
ledger (`jobs.sitecache`); another version of the package computes them afresh at once."""


def kept_holidays(cache: SiteCache) -> HolidayLoader:
    """`country_holidays` through the cache: a year computed by an earlier run (with this
    version of the ``holidays`` package, within `HOLIDAYS_TTL`) is not computed again, and
    the package (over 200 country modules) is not even imported."""
    package = _holidays_version()

    def load(country: str, subdivision: str | None, year: int) -> frozenset[date]:
        key = f"holidays {country} {subdivision or '-'} {year}"
        now = datetime.now(UTC)
        kept = cache.get(key, now=now, ttl=HOLIDAYS_TTL)
        if isinstance(kept, dict) and kept.get("package") == package:
            try:
                return frozenset(date.fromisoformat(str(d)) for d in kept.get("dates") or ())
            except ValueError:
                pass  # not what was written: computed afresh below
        dates = country_holidays(country, subdivision, year)
        cache.put(key, {"package": package, "dates": sorted(map(str, dates))}, now=now)
        return dates

    return load


def _holidays_version() -> str:
    """The installed ``holidays`` package's version, read without importing it."""
    from importlib.util import find_spec

    spec = find_spec("holidays")
    if spec is None or not spec.origin:
        return "none"
    version = Path(spec.origin).with_name("version.py")
    try:
        found = re.search(r"__version__\s*=\s*[\"']([^\"']+)", version.read_text())
        stat = version.stat()
    except OSError:
        return "unknown"
    return found.group(1) if found else f"mtime {stat.st_mtime_ns}"


def desk_of(settings: Settings, env: Mapping[str, str]) -> Desk:
    """The desk facts rules take (projects, priority installers, link base)."""
    from jobs.rules.desk import Desk, priority_installers

    config = settings.desk
    return Desk(
        service_desk_project=config.service_desk_project,
        config_project=config.config_project,
        priority_installers=priority_installers(tuple(settings.priority_installers)),
        browse_url=config.browse_url or env.get("JIRA_URL", ""),
    )


@dataclass
class RunContext:
    settings: Settings
    job_name: str
    job_config: JobConfig
    now: datetime
    dry_run: bool
    run_id: str
    env: Mapping[str, str]
    ledger: LedgerReader
    """Read-only: jobs read records, memory and silences; only the pipeline writes."""
    counter: CallCounter = field(default_factory=CallCounter)
    pacer: ChannelPacer | None = None
    """Slack writes' pace, shared by every job of one invocation (None: the adapter's own)."""
    out: TextIO = field(default_factory=lambda: sys.stdout)
    notes: dict[str, Any] = field(default_factory=dict)
    """Run-level facts a job wants in the report (e.g. which SLA source decided)."""
    allow_backwards: bool = False
    """Run even though ``now`` is before the job's last run (the operator said so)."""
    json_output: bool = False
    """A dry run prints each request as JSON (method and arguments) instead of as people see it."""
    cache: SiteCache = field(default_factory=SiteCache)
    """What earlier runs read of the systems' slow-changing facts (`jobs.sitecache`), shared by
    every job of one invocation; the pipeline writes what this run read back to the ledger."""

    @cached_property
    def budget(self) -> RetryBudget:
        return RetryBudget(total_seconds=self.settings.run.retry_budget.wall.total_seconds())

    @cached_property
    def desk(self) -> Desk:
        """The desk facts rules take (projects, priority installers, link base)."""
        return desk_of(self.settings, self.env)

    @cached_property
    def calendar(self) -> BusinessCalendar:
        years = range(self.now.year - 2, self.now.year + 3)
        return desk_calendar(self.settings, years, kept_holidays(self.cache))

    @cached_property
    def ping_hours(self) -> BusinessCalendar | None:
        """When people may be pinged (mentions, DMs): ``notify.quiet_hours``; None = any time."""
        notify = self.settings.notify
        if notify.quiet_hours == "off":
            return None
        hours = (
            self.settings.calendar.hours if notify.quiet_hours == "calendar" else notify.quiet_hours
        )
        cal = self.settings.calendar
        return calendar_from_settings(
            tz_name=self.settings.desk.timezone,
            mode="business",
            hours=hours,
            holiday_country=cal.holidays.country,
            holiday_subdivision=cal.holidays.subdivision,
            extra_holidays=cal.holidays.extra,
            years=range(self.now.year - 1, self.now.year + 2),
            loader=kept_holidays(self.cache),
        )

    def build_calendars(self) -> None:
        """The desk calendar and the hours people may be pinged, built now (before any read):
        ValueError when the settings' calendar cannot be built (an unknown country)."""
        _built = (self.calendar, self.ping_hours)

    @property
    def quiet(self) -> bool:
        """Outside the hours people may be pinged: alerts go out without mentions or DMs."""
        hours = self.ping_hours
        return hours is not None and not hours.is_open(self.now)

    @cached_property
    def templates(self) -> Templates:
        return Templates(self.settings.templates_dir)

    @property
    def timeout(self) -> float:
        return self.settings.run.http_timeout.wall.total_seconds()

    @property
    def alert_channel(self) -> str:
        return self.settings.desk.alert_channel

    def person(self, role: str) -> PersonConfig | None:
        return self.settings.person(role)

    # -- credentials and adapters ----------------------------------------------------------
    def check_credentials(self, systems: frozenset[str]) -> None:
        missing = [
            var
            for system in sorted(systems)
            for var in REQUIRED_ENV[system]
            if not self.env.get(var)
        ]
        if "sheets" in systems and self.settings.sheet.source == "google":
            if not self.env.get("GOOGLE_SERVICE_ACCOUNT_FILE"):
                missing.append("GOOGLE_SERVICE_ACCOUNT_FILE")
            if not self.settings.sheet.key:
                raise CredentialError("sheets", "sheet.key is required when sheet.source is google")
        if (
            "sheets" in systems
            and self.settings.sheet.source == "file"
            and not self.settings.sheet.path
        ):
            raise CredentialError("sheets", "sheet.path is required when sheet.source is file")
        if missing:
            raise CredentialError(
                "config",
                f"missing environment variable(s): {', '.join(missing)} (see .env.example)",
            )

    @cached_property
    def jira(self) -> JiraAdapter:
        from jobs.adapters.jira import JiraAdapter

        return JiraAdapter.for_desk(
            self.settings,
            self.env,
            counter=self.counter,
            budget=self.budget,
            timeout=self.timeout,
            cache=self.cache,
        )

    @cached_property
    def slack(self) -> SlackAdapter:
        from jobs.adapters.slack import SlackAdapter

        return SlackAdapter.from_env(
            self.env,
            counter=self.counter,
            budget=self.budget,
            timeout=self.timeout,
            pacer=self.pacer,
        )

    @cached_property
    def sheets(self) -> SheetsAdapter:
        from jobs.adapters.sheets import SheetsAdapter

        return SheetsAdapter.from_env(
            self.env, counter=self.counter, budget=self.budget, timeout=self.timeout
        )

    def browse_url(self, key: str) -> str:
        base = self.settings.desk.browse_url or self.env.get("JIRA_URL", "")
        return f"{base.rstrip('/')}/browse/{key}"

    def extra(self) -> dict[str, Any]:
        return {"job": self.job_name, "run_id": self.run_id, "dry_run": self.dry_run}
