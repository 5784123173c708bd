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

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from jobs.durations import Duration
from jobs.job import Job, JobSpec, Work, config_of
from jobs.model import Action, Evaluation, Severity, SheetTab, Ticket
from jobs.rules.onboarding_missing_ticket import JOB_NAME, OnboardingMissingTicketConfig

if TYPE_CHECKING:
    from jobs.context import RunContext
    from jobs.rules.onboarding_missing_ticket import (
        AccountMemory,
        OnboardingSheet,
        SheetLayout,
    )

TICKET_FIELDS = ("summary", "status", "created", "Organizations", "description", "labels")


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
        header_labels=tuple(config_of(ctx, OnboardingMissingTicketConfig).header_labels),
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


def read_sheet_tab(ctx: RunContext) -> SheetTab:
    sheet = ctx.settings.sheet
    if sheet.source == "google":
        assert sheet.key is not None  # check_credentials refuses a google source without a key
        return ctx.sheets.read_tab(sheet.key, sheet.tab_index)
    from jobs.adapters.sheets import read_sheet_file

    assert sheet.path is not None
    return read_sheet_file(sheet.path, sheet.tab_index)


def _footer(ctx: RunContext, severity: Severity) -> str:
    """The alert's footer for this run's settings."""
    from jobs.render.onboarding_missing_ticket import footer

    config = config_of(ctx, OnboardingMissingTicketConfig)
    sheet = ctx.settings.sheet
    return footer(
        severity,
        place=sheet_place(ctx),
        sheet_url=sheet_url(ctx),
        name_column=sheet.name_column,
        status_column=sheet.status_column,
        project=ctx.desk.service_desk_project,
        subject=config.onboarding_subject,
        lookback=config.lookback,
    )


class OnboardingMissingTicketJob(Job[OnboardingData]):
    spec = SPEC

    def fetch(self, ctx: RunContext) -> OnboardingData:
        from jobs.rules.onboarding_missing_ticket import memory_from_states, read_onboarding_sheet

        config = config_of(ctx, OnboardingMissingTicketConfig)
        jql = candidates_jql(
            ctx.desk.service_desk_project, config.onboarding_subject, config.lookback
        )

        def search() -> list[Ticket]:
            return [
                t if t.url else replace(t, url=ctx.browse_url(t.key))
                for t in ctx.jira.search(jql, list(TICKET_FIELDS))
            ]

        # The search does not depend on the sheet: both are read at once. A sheet that cannot
        # be read is the error reported, whatever the search came to.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jira-search") as pool:
            searching = pool.submit(search)
            try:
                sheet = read_onboarding_sheet(read_sheet_tab(ctx), sheet_layout(ctx))
            except BaseException:
                searching.cancel()
                raise
            tickets = searching.result()
        return OnboardingData(sheet, tickets, memory_from_states(ctx.ledger.memory(JOB_NAME)))

    def evaluate(self, data: OnboardingData, ctx: RunContext) -> Evaluation:
        from jobs.rules.onboarding_missing_ticket import check_onboarding, memory_updates

        result = check_onboarding(
            data.sheet,
            data.tickets,
            data.memory,
            ctx.now,
            config_of(ctx, OnboardingMissingTicketConfig),
            ctx.desk,
            ctx.calendar,
            approved_statuses=ctx.settings.sheet.approved_statuses,
            sheet_url=sheet_url(ctx),
        )
        return replace(result.evaluation, memory=memory_updates(result, data.memory))

    def plan(self, work: Work[OnboardingData], ctx: RunContext) -> list[Action]:
        from jobs.render.alerts import grouped_alerts
        from jobs.render.onboarding_missing_ticket import alert_line, title

        channel = config_of(ctx, OnboardingMissingTicketConfig).channel or ctx.alert_channel
        actions: list[Action] = []
        for severity in (Severity.WARNING, Severity.INFO):
            group = [f for f in work.fresh if f.severity is severity]
            if group:
                actions += grouped_alerts(
                    group,
                    channel=channel,
                    title=title,
                    line=alert_line,
                    max_per_message=ctx.settings.run.max_alerts_per_message,
                    footer=_footer(ctx, severity),
                )
        return actions


JOB = OnboardingMissingTicketJob

__all__ = ["JOB", "SPEC", "OnboardingData", "OnboardingMissingTicketConfig", "candidates_jql"]
