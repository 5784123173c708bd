"""Approved on the financier's onboarding sheet but no "EverBright Partner Onboarding" ticket.

SOP 000/001: when a customer says they applied but no ticket was generated, support checks
the financier onboarding sheet (second tab, column B account name, column L status). This job
does that check for every approved row, every half hour, and alerts the support channel
about each approved account the automation has not opened a ticket for (re-alerted at most
once a day per account). The rule and its matching are in `jobs.rules.onboarding_missing_ticket`
and `jobs.rules.names`.

Reads: the sheet (Google Sheets by key, or a local .csv/.xlsx export) and ONE Jira search for
the candidate tickets (onboarding subject, created within ``lookback``, any status); the sheet's
values never enter the JQL. Sends: one grouped Slack message per severity. Remembers (the
pipeline writes it after a real run, never in a dry run), per account:
``{"account", "first_seen_approved"}`` while no ticket is found (the grace period and "missing
for" count from it), ``{"account", "ticket"}`` once one is (so a ticket that ages out of the
look-back still counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import Field, field_validator, model_validator

from jobs.config import JobConfig
from jobs.durations import Duration, DurationField, parse_duration
from jobs.job import Job, JobSpec, Work
from jobs.model import Action, Evaluation, Finding, Severity, Ticket
from jobs.rules.onboarding_missing_ticket import DEFAULT_HEADER_LABELS
from jobs.rules.onboarding_missing_ticket import JOB as JOB_NAME

if TYPE_CHECKING:
    from jobs.context import RunContext
    from jobs.rules.onboarding_missing_ticket import (
        AccountMemory,
        OnboardingSheet,
        SheetLayout,
    )

TICKET_FIELDS = ("summary", "status", "created", "Organizations", "description", "labels")


class OnboardingMissingTicketConfig(JobConfig):
    schedule: str = "*/30 * * * *"
    grace: DurationField = parse_duration("1h")
    """An account first seen approved less than this ago is not missing yet (the automation
    that opens the ticket may still be running)."""
    realert: DurationField = parse_duration("24h")
    lookback: DurationField = parse_duration("120d")
    """Candidate tickets: created within this window. Tickets matched once are remembered, so
    this only needs to cover how long the automation can lag, plus the first run's history."""
    match_threshold: int = Field(90, ge=1, le=100)
    """Name score (0-100) from which a ticket counts as the account's. 90 accepts only the
    same words (case, punctuation, '&'/'and', LLC/Inc... and order aside); 85 would also
    accept spelling and spacing variants ("Brightpath" for "Bright Path")."""
    near_miss_threshold: int = Field(75, ge=0, le=100)
    """Scores from here up to match_threshold are reported as 'possible match, check'."""
    max_candidates: int = Field(3, ge=1, le=10)
    """Possible matches listed per account."""
    header_labels: list[str] = Field(default_factory=lambda: list(DEFAULT_HEADER_LABELS))
    """A row whose name and status cells both read one of these is a header row."""
    onboarding_subject: str = "EverBright Partner Onboarding"
    channel: str | None = None
    """Slack channel for the alerts; default: desk.alert_channel."""

    @field_validator("grace", "lookback")
    @classmethod
    def _wall_clock(cls, value: Duration) -> Duration:
        if value.is_business:
            raise ValueError(f"{value} is in business days; use hours or days (e.g. 1h, 120d)")
        return value

    @field_validator("lookback")
    @classmethod
    def _positive(cls, value: Duration) -> Duration:
        if value.wall.total_seconds() < 60:
            raise ValueError("lookback must be at least a minute (e.g. 120d)")
        return value

    @field_validator("onboarding_subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("onboarding_subject must not be empty")
        return value.strip()

    @field_validator("header_labels")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        labels = [v.strip() for v in value if v.strip()]
        if not labels:
            raise ValueError("header_labels needs at least one label (e.g. Account Name, Status)")
        return labels

    @model_validator(mode="after")
    def _thresholds(self) -> OnboardingMissingTicketConfig:
        if self.near_miss_threshold > self.match_threshold:
            raise ValueError(
                f"near_miss_threshold ({self.near_miss_threshold}) must not exceed "
                f"match_threshold ({self.match_threshold})"
            )
        return self


SPEC = JobSpec(
    name=JOB_NAME,
    description="Approved accounts on the financier's onboarding sheet with no onboarding ticket",
    config_model=OnboardingMissingTicketConfig,
    systems=frozenset({"jira", "slack", "sheets"}),
)


@dataclass
class OnboardingData:
    sheet: OnboardingSheet
    tickets: list[Ticket]
    memory: dict[str, AccountMemory] = field(default_factory=dict)


def _config(ctx: RunContext) -> OnboardingMissingTicketConfig:
    config = ctx.job_config
    assert isinstance(config, OnboardingMissingTicketConfig)
    return config


def lookback_clause(lookback: Duration) -> str:
    """JQL relative date: whole days read best ("-120d"); anything else in minutes."""
    seconds = int(lookback.wall.total_seconds())
    if seconds % 86400 == 0:
        return f"-{seconds // 86400}d"
    return f"-{max(seconds // 60, 1)}m"


def candidates_jql(project: str, subject: str, lookback: Duration) -> str:
    """The one search: onboarding subject, recent, any status. Only config values, quoted."""
    from jobs.adapters.jira import jql_quote

    return (
        f"project = {jql_quote(project)} AND summary ~ {jql_quote(subject)} "
        f"AND created >= {lookback_clause(lookback)} ORDER BY created DESC"
    )


def sheet_layout(ctx: RunContext) -> SheetLayout:
    from jobs.rules.onboarding_missing_ticket import SheetLayout

    sheet = ctx.settings.sheet
    return SheetLayout(
        name_column=sheet.name_column,
        status_column=sheet.status_column,
        header_labels=tuple(_config(ctx).header_labels),
        where=sheet_place(ctx),
    )


def sheet_place(ctx: RunContext) -> str:
    """'onboarding sheet tab 2', 'export.xlsx tab 2' or 'export.csv' (a CSV has one tab)."""
    sheet = ctx.settings.sheet
    if sheet.source == "google":
        return f"onboarding sheet tab {sheet.tab_index + 1}"
    name = Path(sheet.path or "").name
    return name if name.lower().endswith(".csv") else f"{name} tab {sheet.tab_index + 1}"


def sheet_url(ctx: RunContext) -> str | None:
    sheet = ctx.settings.sheet
    if sheet.source != "google" or not sheet.key:
        return None
    return f"https://docs.google.com/spreadsheets/d/{quote(sheet.key, safe='')}/edit"


def read_sheet_frame(ctx: RunContext) -> Any:
    sheet = ctx.settings.sheet
    if sheet.source == "google":
        assert sheet.key is not None  # check_credentials refuses a google source without a key
        return ctx.sheets.read_tab(sheet.key, sheet.tab_index)
    from jobs.adapters.sheets import read_sheet_file

    assert sheet.path is not None
    return read_sheet_file(sheet.path, sheet.tab_index)


# -- the Slack message -------------------------------------------------------------------------


def _candidate_text(candidate: dict[str, Any]) -> str:
    from jobs.render.slack import escape, link

    key = str(candidate.get("key", ""))
    url = candidate.get("url")
    shown = link(url, key) if url else escape(key)
    return (
        f"{shown} ({escape(str(candidate.get('source', '')))} "
        f"“{escape(str(candidate.get('name', '')))}”, score {candidate.get('score')})"
    )


def alert_line(finding: Finding) -> str:
    """`*Sunrise Solar Co* · Approved · sheet row 14 · no ticket since first seen 3 h ago ·
    `sheet:sunrise solar``. The time counts from this job's first sighting of the approved row
    (the sheet has no approval date), so it says so.

    Possible tickets follow on an indented line, each linked. Sheet text is escaped.
    """
    from jobs.render.alerts import PRIORITY_MARK
    from jobs.render.slack import escape

    facts = finding.facts
    rows = [str(r) for r in facts.get("rows", [])]
    where = ("sheet row " if len(rows) == 1 else "sheet rows ") + ", ".join(rows)
    mark = PRIORITY_MARK if finding.priority else ""
    parts = [
        f"{mark}*{escape(str(facts.get('account', finding.item)))}*",
        escape(str(facts.get("status", ""))),
        where,
        f"no ticket since first seen {escape(str(facts.get('missing_for', '?')))} ago",
        f"`{escape(finding.item)}`",  # the key for `jobs why` and `jobs silence`
    ]
    line = " · ".join(parts)
    candidates = facts.get("candidates") or []
    if candidates:
        line += "\n      possible: " + "; ".join(_candidate_text(c) for c in candidates)
    return line


def _title(severity: Severity, count: int) -> str:
    accounts = "account" if count == 1 else "accounts"
    if severity is Severity.INFO:
        return f"{count} approved {accounts}: onboarding ticket name differs, please check"
    return f"{count} approved {accounts} without an EverBright onboarding ticket"


def _footer(ctx: RunContext, severity: Severity) -> str:
    from jobs.render.slack import escape, link

    config = _config(ctx)
    sheet = ctx.settings.sheet
    url = sheet_url(ctx)
    place = sheet_place(ctx)
    where = (
        link(url, f"Financier {place}") if url else escape(f"Financier onboarding sheet {place}")
    )
    project = escape(ctx.settings.desk.service_desk_project)
    text = (
        f"{where} (account {sheet.name_column}, status {sheet.status_column}) "
        f"· searched {project} "
        f"“{escape(config.onboarding_subject)}” tickets created in the last {config.lookback}"
    )
    if severity is Severity.INFO:
        text += (
            " · same installer? make the ticket's Organization and the sheet's name agree, "
            "or `jobs silence` the account's key"
        )
    else:
        text += (
            " · to do: the approval's automation opened no ticket; find the onboarding email "
            "or open the SS ticket by hand and follow SOP 001"
        )
    return text


class OnboardingMissingTicketJob(Job[OnboardingData]):
    spec = SPEC

    def fetch(self, ctx: RunContext) -> OnboardingData:
        from jobs.rules.onboarding_missing_ticket import memory_from_states, read_onboarding_sheet

        config = _config(ctx)
        sheet = read_onboarding_sheet(read_sheet_frame(ctx), sheet_layout(ctx))
        jql = candidates_jql(
            ctx.settings.desk.service_desk_project, config.onboarding_subject, config.lookback
        )
        tickets = [
            t if t.url else replace(t, url=ctx.browse_url(t.key))
            for t in ctx.jira.search(jql, list(TICKET_FIELDS))
        ]
        return OnboardingData(sheet, tickets, memory_from_states(ctx.ledger.memory(JOB_NAME)))

    def evaluate(self, data: OnboardingData, ctx: RunContext) -> Evaluation:
        from jobs.rules.onboarding_missing_ticket import (
            OnboardingPolicy,
            check_onboarding,
            memory_updates,
        )

        config = _config(ctx)
        policy = OnboardingPolicy(
            approved_statuses=tuple(ctx.settings.sheet.approved_statuses),
            grace=config.grace,
            realert=config.realert.wall,
            match_threshold=config.match_threshold,
            near_miss_threshold=config.near_miss_threshold,
            max_candidates=config.max_candidates,
            onboarding_subject=config.onboarding_subject,
            priority_installers=tuple(ctx.settings.priority_installers),
            sheet_url=sheet_url(ctx),
        )
        result = check_onboarding(
            data.sheet, data.tickets, data.memory, ctx.now, policy, ctx.calendar
        )
        return replace(result.evaluation, memory=memory_updates(result, data.memory))

    def plan(self, work: Work[OnboardingData], ctx: RunContext) -> list[Action]:
        from jobs.render.alerts import grouped_alerts

        channel = _config(ctx).channel or ctx.alert_channel
        actions: list[Action] = []
        for severity in (Severity.WARNING, Severity.INFO):
            group = [f for f in work.fresh if f.severity is severity]
            if group:
                actions += grouped_alerts(
                    group,
                    channel=channel,
                    title=_title,
                    line=alert_line,
                    max_per_message=ctx.settings.run.max_alerts_per_message,
                    footer=_footer(ctx, severity),
                )
        return actions


JOB = OnboardingMissingTicketJob

__all__ = ["JOB", "SPEC", "OnboardingData", "OnboardingMissingTicketConfig", "candidates_jql"]
