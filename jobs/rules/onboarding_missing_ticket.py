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
from typing import TYPE_CHECKING, Any, Literal

from jobs.calendar import BusinessCalendar
from jobs.durations import Duration
from jobs.model import DataProblem, Evaluation, Finding, Severity, SheetRow, Ticket
from jobs.render.words import human_duration
from jobs.rules.names import (
    TRADE_ONLY,
    NameIndex,
    NameMatch,
    compare_names,
    name_tokens,
    normalize_name,
)

if TYPE_CHECKING:
    import pandas as pd

JOB = "onboarding_missing_ticket"
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


def account_item(normalized: str) -> str:
    """The dedup/`jobs why` key of an account: ``sheet:bright path energy``."""
    return f"{ITEM_PREFIX}{normalized}"


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def _text(value: Any) -> str:
    """A cell as text; odd values (None, NaN, numbers, dates) never raise."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from a hand-built DataFrame
        return ""
    return str(value).strip()


def _cell(values: Mapping[Any, Any], column: str) -> str:
    return _text(values.get(column, ""))


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


def read_onboarding_sheet(frame: pd.DataFrame, layout: SheetLayout) -> OnboardingSheet:
    """The sheet's rows as `SheetRow`s, with what could not be used as data problems."""
    labels = {_squash(label) for label in layout.header_labels}
    header_rows: list[int] = []
    rows: list[SheetRow] = []
    problems: list[DataProblem] = []
    records = frame.to_dict("records") if len(frame.columns) else [{} for _ in frame.index]
    for index, values in zip(frame.index, records, strict=True):
        try:
            row_number = int(index)
        except (TypeError, ValueError):
            problems.append(DataProblem(layout.where, f"row label {index!r} is not a row number"))
            continue
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
        cells = {str(k): _text(v) for k, v in values.items()}
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


# -- policy and memory -------------------------------------------------------------------------


@dataclass(frozen=True)
class OnboardingPolicy:
    """The SOP's numbers and the desk's settings, as the task reads them."""

    approved_statuses: tuple[str, ...] = ("Approved",)
    grace: Duration = Duration(wall=timedelta(hours=1))
    realert: timedelta = timedelta(hours=24)
    match_threshold: int = 90
    near_miss_threshold: int = 75
    max_candidates: int = 3
    onboarding_subject: str = "EverBright Partner Onboarding"
    priority_installers: tuple[str, ...] = ()
    sheet_url: str | None = None
    """A link to the sheet for alerts (Google source); None for a local file."""
    job: str = JOB

    def __post_init__(self) -> None:
        if not 0 < self.match_threshold <= 100:
            raise ValueError("match_threshold must be 1-100")
        if not 0 <= self.near_miss_threshold <= self.match_threshold:
            raise ValueError("near_miss_threshold must be between 0 and match_threshold")
        if not any(s.strip() for s in self.approved_statuses):
            raise ValueError("approved_statuses needs at least one status")

    def is_approved(self, status: str) -> bool:
        return _squash(status) in {_squash(s) for s in self.approved_statuses}


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
    key: str
    url: str | None
    name: str
    source: str
    score: int
    reason: str

    def as_fact(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "url": self.url,
            "name": self.name,
            "source": self.source,
            "score": self.score,
            "reason": self.reason,
        }


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
class OnboardingResult:
    evaluation: Evaluation
    accounts: tuple[AccountCheck, ...] = ()
    sheet_usable: bool = True


@dataclass
class _Account:
    normalized: str
    rows: list[SheetRow] = field(default_factory=list)


def _approved_accounts(
    sheet: OnboardingSheet, policy: OnboardingPolicy, problems: list[DataProblem]
) -> list[_Account]:
    accounts: dict[str, _Account] = {}
    for row in sheet.rows:
        if not policy.is_approved(row.status):
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
    policy: OnboardingPolicy,
    calendar: BusinessCalendar,
) -> OnboardingResult:
    """Verdicts for every approved account, and findings for those without a ticket."""
    problems = list(sheet.problems)
    if not sheet.usable:
        return OnboardingResult(Evaluation([], problems, 0), (), sheet_usable=False)
    index = _TicketIndex(tickets, policy.onboarding_subject, policy.near_miss_threshold)
    checks = [
        _check_account(
            account, index, memory.get(account_item(account.normalized)), now, policy, calendar
        )
        for account in _approved_accounts(sheet, policy, problems)
    ]
    findings = [
        _finding(check, now, policy, len(tickets)) for check in checks if check.verdict in ALERTING
    ]
    return OnboardingResult(
        Evaluation(findings, problems, examined=len(sheet.rows)), tuple(checks), sheet_usable=True
    )


def _check_account(
    account: _Account,
    index: _TicketIndex,
    remembered: AccountMemory | None,
    now: datetime,
    policy: OnboardingPolicy,
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
    if scored and scored[0][0].score >= policy.match_threshold:
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
        if policy.near_miss_threshold <= match.score < policy.match_threshold
    )[: policy.max_candidates]
    first_seen = remembered.first_seen_approved or now
    if now < calendar.add(first_seen, policy.grace):
        verdict: Verdict = "in_grace"
    else:
        verdict = "possible_match" if near else "missing"
    return replace(base, verdict=verdict, first_seen=first_seen, candidates=near)


def _is_priority(normalized: str, policy: OnboardingPolicy) -> bool:
    return any(
        compare_names(normalized, p).score >= policy.match_threshold
        for p in policy.priority_installers
    )


def _rows_text(rows: Sequence[int]) -> str:
    return f"sheet row {rows[0]}" if len(rows) == 1 else "sheet rows " + ", ".join(map(str, rows))


def _finding(
    check: AccountCheck, now: datetime, policy: OnboardingPolicy, searched: int
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
    facts: dict[str, Any] = {
        "account": check.account,
        "normalized": check.normalized,
        "rows": list(check.rows),
        "status": check.status,
        "verdict": check.verdict,
        "first_seen_approved": check.first_seen.isoformat(),
        "missing_for": human_duration(missing_for),
        "missing_for_seconds": int(missing_for.total_seconds()),
        "grace": str(policy.grace),
        "candidates": [c.as_fact() for c in check.candidates],
        "match_threshold": policy.match_threshold,
        "near_miss_threshold": policy.near_miss_threshold,
        "tickets_searched": searched,
    }
    return Finding(
        job=policy.job,
        rule=RULE,
        item=check.item,
        severity=severity,
        summary=summary,
        facts=facts,
        url=policy.sheet_url,
        priority=_is_priority(check.normalized, policy),
        realert=policy.realert,
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
