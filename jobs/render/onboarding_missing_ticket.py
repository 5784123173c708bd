"""onboarding_missing_ticket's Slack alerts: one line per approved account without an
onboarding ticket (its possible tickets beneath), a title per severity, and a footer that says
where the job looked and what to do.

Pure: where the sheet is and what was searched come from the job (settings), as arguments.
"""

from __future__ import annotations

from jobs.durations import Duration
from jobs.model import Finding, Severity
from jobs.render.alerts import PRIORITY_MARK
from jobs.render.slack import escape, link
from jobs.render.words import human_duration
from jobs.rules.onboarding_missing_ticket import Candidate, MissingDetail


def candidate_text(candidate: Candidate) -> str:
    """`<url|SS-202> (organization “Redrock Renewables”, score 89)`."""
    shown = link(candidate.url, candidate.key) if candidate.url else escape(candidate.key)
    return (
        f"{shown} ({escape(candidate.source)} “{escape(candidate.name)}”, score {candidate.score})"
    )


def alert_line(finding: Finding) -> str:
    """`*Sunrise Solar Co* · Approved · sheet row 14 · no ticket since first seen 3 h ago ·
    `sheet:sunrise solar``. The time counts from this job's first sighting of the approved row
    (the sheet has no approval date), so it says so.

    Possible tickets follow on an indented line, each linked. Sheet text is escaped.
    """
    detail = finding.detail_as(MissingDetail)
    rows = [str(r) for r in detail.rows]
    where = ("sheet row " if len(rows) == 1 else "sheet rows ") + ", ".join(rows)
    mark = PRIORITY_MARK if finding.priority else ""
    parts = [
        f"{mark}*{escape(detail.account)}*",
        escape(detail.status),
        where,
        f"no ticket since first seen {escape(human_duration(detail.missing_for))} ago",
        f"`{escape(finding.item)}`",  # the key for `jobs why` and `jobs silence`
    ]
    line = " · ".join(parts)
    if detail.candidates:
        line += "\n      possible: " + "; ".join(candidate_text(c) for c in detail.candidates)
    return line


def title(severity: Severity, count: int) -> str:
    accounts = "account" if count == 1 else "accounts"
    if severity is Severity.INFO:
        return f"{count} approved {accounts}: onboarding ticket name differs, please check"
    return f"{count} approved {accounts} without an EverBright onboarding ticket"


def footer(
    severity: Severity,
    *,
    place: str,
    sheet_url: str | None,
    name_column: str,
    status_column: str,
    project: str,
    subject: str,
    lookback: Duration,
) -> str:
    """Where the job looked (the sheet, linked when it is a Google sheet; the search) and what
    to do about this severity's accounts."""
    where = (
        link(sheet_url, f"Financier {place}")
        if sheet_url
        else escape(f"Financier onboarding sheet {place}")
    )
    text = (
        f"{where} (account {name_column}, status {status_column}) "
        f"· searched {escape(project)} "
        f"“{escape(subject)}” tickets created in the last {lookback}"
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
