"""doc_test_followup's Slack alerts: customers who answered "Doc ready to test" (relay their
reply), and fulfilled tickets gone silent (close them).

Pure: the time "ago" counts from ``now``, and a ticket the finding is not about is linked
through ``browse`` (the desk's ticket link for a key), both given by the job.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from jobs.model import Finding, Severity
from jobs.render.slack import escape, link
from jobs.render.words import human_duration, plural
from jobs.rules.doc_test_followup import FulfilledDetail, RepliedDetail

Browse = Callable[[str], str]
"""The browse link of a ticket key."""


def replied_title(severity: Severity, count: int) -> str:
    return f"{plural(count, 'customer')} answered 'Doc ready to test': relay to the CS ticket"


def silent_title(severity: Severity, count: int) -> str:
    return f"{plural(count, 'fulfilled ticket')} with no customer reply: close them"


def _ticket(finding: Finding, key: str, browse: Browse) -> str:
    url = finding.url if finding.item == key and finding.url else browse(key)
    return link(url, key)


def replied_line(now: datetime, browse: Browse) -> Callable[[Finding], str]:
    """`<url|SS-414> (Harbor Light Electric) replied 20 h ago: “…” → internal comment on
    <url|CS-414>, then To Do`."""

    def line(finding: Finding) -> str:
        detail = finding.detail_as(RepliedDetail)
        org = f" ({escape(detail.organization)})" if detail.organization else ""
        ago = human_duration(now - detail.reply_at)
        cs = ", ".join(_ticket(finding, k, browse) for k in detail.cs_keys)
        return (
            f"{_ticket(finding, finding.item, browse)}{org} replied {ago} ago: "
            f"“{escape(detail.reply_excerpt)}” → internal comment on {cs}, then To Do"
        )

    return line


def silent_line(now: datetime, browse: Browse) -> Callable[[Finding], str]:
    """`<url|SS-415> (Oak Valley Solar) Resolved, no reply for 2 d: Document Survey: …`."""

    def line(finding: Finding) -> str:
        detail = finding.detail_as(FulfilledDetail)
        org = f" ({escape(detail.organization)})" if detail.organization else ""
        quiet = human_duration(now - detail.silent_since)
        return (
            f"{_ticket(finding, finding.item, browse)}{org} {escape(detail.status)}, "
            f"no reply for {quiet}: {escape(detail.summary)}"
        )

    return line
