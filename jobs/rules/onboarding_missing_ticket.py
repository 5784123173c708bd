"""Onboarding missing ticket (SOPs 000/001): every account the financier approved has an SS ticket.

After EverBright approves an application, an automation opens an SS ticket titled
"EverBright Partner Onboarding" (sometimes "Re: ..."), whose organization is the installer.
When a customer says they applied but no ticket exists, the SOP has support look in the
financier onboarding sheet ("second tab > Column B for account name and status in Column L").
This rule does that look-up for every approved row, every run:

- the sheet is read as the adapter gives it (strings by column letter, 1-based row numbers).
  A row whose name and status cells read like a header ("Account Name" / "Status") is a header
  wherever it appears; rows above the first one are a title block and are ignored; blank rows
  are skipped; a row with a status but no name is a data problem ("sheet row 14: empty account
  name with status Approved"), never a finding. An account on several rows is one account;
- a row is approved when its status is one of ``approved_statuses`` (case and spaces ignored);
- an approved account has a ticket when a candidate ticket (one search: onboarding subject,
  recent, any status) names it in its Organizations, in the form's "Contractor name: X" line
  of the description, or after the subject in the summary, with a score of at least
  ``match_threshold`` (see `jobs.rules.names`). Scores from ``near_miss_threshold`` up to the
  threshold are *possible* matches: reported for a person to check, never silently accepted;
- a ticket once matched is remembered (the task keeps it in the ledger), so an account whose
  ticket has aged out of the search's look-back window does not start alerting;
- grace: an account first seen approved less than ``grace`` ago is not missing yet (the
  automation may still be running); the first sighting is remembered the same way.

Verdicts: ``matched`` / ``remembered`` (fine), ``in_grace`` (wait), ``possible_match``
(info: "check") and ``missing`` (warning). One finding per account, item ``sheet:<normalized
name>``, re-alerted at most once per ``realert``.

This module is pure: no adapters, no clock, no I/O. Every function takes ``now``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from jobs.calendar import BusinessCalendar
from jobs.config import JobConfig
from jobs.durations import Duration, DurationField, parse_duration
from jobs.model import DataProblem, Evaluation, Finding, Severity, SheetRow, SheetTab, Ticket
from jobs.render.words import human_duration
from jobs.rules.desk import Desk
from jobs.rules.names import (
    TRADE_ONLY,
    NameIndex,
    NameMatch,
    compare_names,
    name_tokens,
    normalize_name,
)
from jobs.sections import Field, field_validator, model_validator

JOB_NAME = "onboarding_missing_ticket"
RULE = "missing_ticket"
ITEM_PREFIX = "sheet:"

DEFAULT_HEADER_LABELS: tuple[str, ...] = (
    "Account Name",
    "Account",
    "Company",
    "Company Name",
    "Contractor",
    "Contractor Name",
    "Installer",
    "Installer Name",
    "Name",
    "Status",
    "Application Status",
    "Approval Status",
)
"""Cell texts that make a row a header when both the name and the status cell are one of them."""

Verdict = Literal["matched", "remembered", "in_grace", "possible_match", "missing"]
ALERTING: frozenset[Verdict] = frozenset({"possible_match", "missing"})

_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|tr)\s*:\s*)+", re.IGNORECASE)
_SEPARATORS = " \t-\u2013\u2014:|/()[]{}#*_.,"
_CONTRACTOR_LABEL = re.compile(
    r"^[\s>*_#\-\u2022\d.)]*"
    r"(?:contractor|installer)(?:\s*(?:/|or|and|&)?\s*(?:contractor|installer))?"
    r"\s*(?:company\s*)?name[\s*_]*[:\uff1a\-\u2013\u2014]\s*(?P<value>.*)$",
    re.IGNORECASE,
)


class OnboardingMissingTicketConfig(JobConfig):
    """``jobs.onboarding_missing_ticket`` in the settings."""

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


def account_item(normalized: str) -> str:
    """The dedup/`jobs why` key of an account: ``sheet:bright path energy``."""
    return f"{ITEM_PREFIX}{normalized}"


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def _cell(values: Mapping[str, str], column: str) -> str:
    return values.get(column, "").strip()


# -- the sheet ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetLayout:
    """Where the SOP says to look: the tab's column B (account name) and L (status)."""

    name_column: str = "B"
    status_column: str = "L"
    header_labels: tuple[str, ...] = DEFAULT_HEADER_LABELS
    where: str = "onboarding sheet tab 2"
    """How problems name the tab (e.g. the second tab, or a file name)."""


@dataclass(frozen=True)
class OnboardingSheet:
    rows: tuple[SheetRow, ...]
    """Data rows below the first header that have an account name (any status)."""
    problems: tuple[DataProblem, ...] = ()
    header_rows: tuple[int, ...] = ()
    usable: bool = True
    """False when no header row was found: nothing can be checked, and nothing is forgotten."""


def read_onboarding_sheet(tab: SheetTab, layout: SheetLayout) -> OnboardingSheet:
    """The sheet's rows as `SheetRow`s, with what could not be used as data problems."""
    labels = {_squash(label) for label in layout.header_labels}
    header_rows: list[int] = []
    rows: list[SheetRow] = []
    problems: list[DataProblem] = []
    for row_number, values in tab.numbered():
        name = _cell(values, layout.name_column)
        status = _cell(values, layout.status_column)
        if _squash(name) in labels and _squash(status) in labels:
            header_rows.append(row_number)
            continue
        if not header_rows:
            continue  # above the first header: the sheet's title block
        if not name and not status:
            continue
        if not name:
            problems.append(
                DataProblem(
                    f"sheet row {row_number}",
                    f"empty account name with status {status!r} in column "
                    f"{layout.name_column} (a merged or cleared cell?)",
                )
            )
            continue
        cells = {k: v.strip() for k, v in values.items()}
        rows.append(SheetRow(row_number=row_number, name=name, status=status, values=cells))
    if not header_rows:
        problems.append(
            DataProblem(
                layout.where,
                f"no header row found (column {layout.name_column} and column "
                f"{layout.status_column} reading one of: {', '.join(layout.header_labels)}); "
                "nothing was checked",
            )
        )
    return OnboardingSheet(
        rows=tuple(rows),
        problems=tuple(problems),
        header_rows=tuple(header_rows),
        usable=bool(header_rows),
    )


# -- candidate tickets -------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketName:
    """A company name a ticket carries, and where it was found."""

    ticket: Ticket
    name: str
    source: Literal["organization", "description", "summary"]


def contractor_names(description: str) -> list[str]:
    """Values of the form's "Contractor name: X" (or "Contractor Installer name") lines.

    A label alone on its line takes the next non-empty line as its value (forms rendered
    as a two-line list).
    """
    names: list[str] = []
    lines = description.splitlines()
    for i, line in enumerate(lines):
        match = _CONTRACTOR_LABEL.match(line)
        if not match:
            continue
        value = match.group("value").strip(_SEPARATORS + " ")
        if not value:
            value = next((ln.strip(_SEPARATORS) for ln in lines[i + 1 :] if ln.strip()), "")
        if value and name_tokens(value):
            names.append(value)
    return names


def summary_name(summary: str, subject: str) -> str | None:
    """What follows the onboarding subject in a summary ("... Onboarding - Sunrise Solar")."""
    text = _REPLY_PREFIX.sub("", summary)
    at = text.casefold().find(subject.casefold())
    if at < 0:
        return None
    rest = (text[:at] + " " + text[at + len(subject) :]).strip(_SEPARATORS)
    return rest if name_tokens(rest) else None


def ticket_names(ticket: Ticket, subject: str) -> list[TicketName]:
    names = [TicketName(ticket, org, "organization") for org in ticket.organizations if org]
    names += [
        TicketName(ticket, n, "description") for n in contractor_names(ticket.description or "")
    ]
    in_summary = summary_name(ticket.summary or "", subject)
    if in_summary:
        names.append(TicketName(ticket, in_summary, "summary"))
    return names


# -- memory ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountMemory:
    """What earlier runs learnt about an approved account (kept by the task in the ledger)."""

    first_seen_approved: datetime | None = None
    ticket: str | None = None
    """A ticket that matched this account once; it stays a match after leaving the look-back."""

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> AccountMemory:
        """Tolerant of hand-edited or older state: unusable values read as unknown."""
        if not state:
            return cls()
        seen = state.get("first_seen_approved")
        try:
            first = datetime.fromisoformat(seen) if isinstance(seen, str) else None
        except ValueError:
            first = None
        if first is not None and first.tzinfo is None:
            first = None
        ticket = state.get("ticket")
        return cls(first_seen_approved=first, ticket=ticket if isinstance(ticket, str) else None)


# -- the check ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A ticket whose name comes close to the account's (a possible match, for a person)."""

    key: str
    url: str | None
    name: str
    source: str
    """Where the ticket carries the name: organization, description or summary."""
    score: int
    reason: str


@dataclass(frozen=True)
class AccountCheck:
    """The verdict on one approved account (all its sheet rows)."""

    item: str
    account: str
    normalized: str
    rows: tuple[int, ...]
    status: str
    verdict: Verdict
    first_seen: datetime | None = None
    """When it was first seen approved (None once it has a ticket)."""
    ticket: str | None = None
    candidates: tuple[Candidate, ...] = ()


@dataclass(frozen=True)
class MissingDetail:
    """What a ``missing_ticket`` finding carries for the alert and the decision log."""

    account: str
    """The account's name as the sheet writes it (its first row)."""
    normalized: str
    rows: tuple[int, ...]
    status: str
    verdict: Verdict
    """``missing`` or ``possible_match``."""
    first_seen_approved: datetime
    missing_for: timedelta
    """Since ``first_seen_approved``: the sheet has no approval date."""
    grace: str
    """The grace period as the settings write it (``1h``)."""
    candidates: tuple[Candidate, ...]
    match_threshold: int
    near_miss_threshold: int
    tickets_searched: int


@dataclass(frozen=True)
class OnboardingResult:
    evaluation: Evaluation
    accounts: tuple[AccountCheck, ...] = ()
    sheet_usable: bool = True


@dataclass
class _Account:
    normalized: str
    rows: list[SheetRow] = field(default_factory=list)


def _approved_accounts(
    sheet: OnboardingSheet, approved_statuses: Sequence[str], problems: list[DataProblem]
) -> list[_Account]:
    """A row is approved when its status is one of ``approved_statuses``, case and spaces
    ignored."""
    approved = {_squash(s) for s in approved_statuses}
    accounts: dict[str, _Account] = {}
    for row in sheet.rows:
        if _squash(row.status) not in approved:
            continue
        normalized = normalize_name(row.name)
        if not normalized:
            problems.append(
                DataProblem(
                    f"sheet row {row.row_number}",
                    f"account name {row.name!r} has no letters or digits; cannot match it",
                )
            )
            continue
        accounts.setdefault(normalized, _Account(normalized)).rows.append(row)
    return list(accounts.values())


class _TicketIndex:
    """Every name the candidate tickets carry: exact look-ups first, fuzzy scores for the rest."""

    def __init__(self, tickets: Sequence[Ticket], subject: str, near_miss_threshold: int) -> None:
        self.names: list[TicketName] = [n for t in tickets for n in ticket_names(t, subject)]
        self.index = NameIndex([n.name for n in self.names])
        # The index skips names that share only trade words; they score at most TRADE_ONLY.
        self.score_all = near_miss_threshold <= TRADE_ONLY

    def exact_match(self, normalized: str) -> TicketName | None:
        found = self.index.exact(normalized)
        return self.names[found[0]] if found else None

    def scored(self, account: str) -> list[tuple[NameMatch, TicketName]]:
        """Each ticket's best-scoring name for this account, best tickets first."""
        best: dict[str, tuple[NameMatch, TicketName]] = {}
        indices = range(len(self.names)) if self.score_all else self.index.candidates(account)
        for k in indices:
            name = self.names[k]
            match = compare_names(account, name.name)
            held = best.get(name.ticket.key)
            if held is None or match.score > held[0].score:
                best[name.ticket.key] = (match, name)
        return sorted(best.values(), key=lambda mt: (-mt[0].score, mt[1].ticket.key))


def check_onboarding(
    sheet: OnboardingSheet,
    tickets: Sequence[Ticket],
    memory: Mapping[str, AccountMemory],
    now: datetime,
    config: OnboardingMissingTicketConfig,
    desk: Desk,
    calendar: BusinessCalendar,
    *,
    approved_statuses: Sequence[str] = ("Approved",),
    sheet_url: str | None = None,
) -> OnboardingResult:
    """Verdicts for every approved account, and findings for those without a ticket.

    ``approved_statuses`` and ``sheet_url`` are the sheet's settings (``sheet`` in the
    settings): which statuses mean approved, and the link to the sheet alerts carry (None for
    a local file).
    """
    if not any(s.strip() for s in approved_statuses):
        raise ValueError("approved_statuses needs at least one status")
    problems = list(sheet.problems)
    if not sheet.usable:
        return OnboardingResult(Evaluation([], problems, 0), (), sheet_usable=False)
    index = _TicketIndex(tickets, config.onboarding_subject, config.near_miss_threshold)
    checks = [
        _check_account(
            account, index, memory.get(account_item(account.normalized)), now, config, calendar
        )
        for account in _approved_accounts(sheet, approved_statuses, problems)
    ]
    findings = [
        _finding(check, now, config, desk, sheet_url, len(tickets))
        for check in checks
        if check.verdict in ALERTING
    ]
    return OnboardingResult(
        Evaluation(findings, problems, examined=len(sheet.rows)), tuple(checks), sheet_usable=True
    )


def _check_account(
    account: _Account,
    index: _TicketIndex,
    remembered: AccountMemory | None,
    now: datetime,
    config: OnboardingMissingTicketConfig,
    calendar: BusinessCalendar,
) -> AccountCheck:
    first_row = account.rows[0]
    base = AccountCheck(
        item=account_item(account.normalized),
        account=first_row.name,
        normalized=account.normalized,
        rows=tuple(r.row_number for r in account.rows),
        status=first_row.status,
        verdict="missing",
    )
    exact = index.exact_match(account.normalized)
    if exact is not None:
        return replace(base, verdict="matched", ticket=exact.ticket.key)
    remembered = remembered or AccountMemory()
    if remembered.ticket:
        return replace(base, verdict="remembered", ticket=remembered.ticket)
    scored = index.scored(account.normalized) if index.names else []
    if scored and scored[0][0].score >= config.match_threshold:
        return replace(base, verdict="matched", ticket=scored[0][1].ticket.key)

    near = tuple(
        Candidate(
            key=name.ticket.key,
            url=name.ticket.url,
            name=name.name,
            source=name.source,
            score=match.score,
            reason=match.reason,
        )
        for match, name in scored
        if config.near_miss_threshold <= match.score < config.match_threshold
    )[: config.max_candidates]
    first_seen = remembered.first_seen_approved or now
    if now < calendar.add(first_seen, config.grace):
        verdict: Verdict = "in_grace"
    else:
        verdict = "possible_match" if near else "missing"
    return replace(base, verdict=verdict, first_seen=first_seen, candidates=near)


def _rows_text(rows: Sequence[int]) -> str:
    return f"sheet row {rows[0]}" if len(rows) == 1 else "sheet rows " + ", ".join(map(str, rows))


def _finding(
    check: AccountCheck,
    now: datetime,
    config: OnboardingMissingTicketConfig,
    desk: Desk,
    sheet_url: str | None,
    searched: int,
) -> Finding:
    assert check.first_seen is not None
    missing_for = max(now - check.first_seen, timedelta(0))
    where = _rows_text(check.rows)
    if check.verdict == "possible_match":
        best = check.candidates[0]
        summary = (
            f"{check.account} ({where}, {check.status}): possible ticket {best.key} "
            f"({best.source} {best.name!r}, score {best.score}), check"
        )
        severity = Severity.INFO
    else:
        summary = (
            f"{check.account} ({where}, {check.status}): no onboarding ticket, "
            f"approved at least {human_duration(missing_for)}"
        )
        severity = Severity.WARNING
    return Finding(
        job=JOB_NAME,
        rule=RULE,
        item=check.item,
        severity=severity,
        summary=summary,
        detail=MissingDetail(
            account=check.account,
            normalized=check.normalized,
            rows=check.rows,
            status=check.status,
            verdict=check.verdict,
            first_seen_approved=check.first_seen,
            missing_for=missing_for,
            grace=str(config.grace),
            candidates=check.candidates,
            match_threshold=config.match_threshold,
            near_miss_threshold=config.near_miss_threshold,
            tickets_searched=searched,
        ),
        url=sheet_url,
        # The desk's one meaning (`jobs.rules.desk.PriorityInstallers`), not the sheet's fuzzy
        # matching: a priority installer is a listed name, spelled any way that normalizes alike.
        priority=desk.priority_installers.listed(check.normalized) is not None,
        realert=config.realert.wall,
    )


# -- memory between runs -----------------------------------------------------------------------


def memory_updates(
    result: OnboardingResult, memory: Mapping[str, AccountMemory]
) -> dict[str, dict[str, Any] | None]:
    """Ledger state to write after a real run: only what changed; None = forget the account.

    An account that is no longer approved (or gone from the sheet) is forgotten, so if it is
    approved again its grace period starts afresh. Nothing is forgotten when the sheet could
    not be read as a sheet (no header): an outage must not erase what runs have learnt.
    """
    updates: dict[str, dict[str, Any] | None] = {}
    current = set()
    for check in result.accounts:
        current.add(check.item)
        state: dict[str, Any] = {"account": check.account}
        if check.ticket:
            state["ticket"] = check.ticket
        elif check.first_seen is not None:
            state["first_seen_approved"] = check.first_seen.isoformat()
        held = memory.get(check.item)
        unchanged = held is not None and (
            held.ticket == state.get("ticket")
            and (held.first_seen_approved.isoformat() if held.first_seen_approved else None)
            == state.get("first_seen_approved")
        )
        if not unchanged:
            updates[check.item] = state
    if result.sheet_usable:
        for item in memory:
            if item not in current:
                updates[item] = None
    return updates


def memory_from_states(states: Mapping[str, Mapping[str, Any]]) -> dict[str, AccountMemory]:
    return {item: AccountMemory.from_state(state) for item, state in states.items()}
