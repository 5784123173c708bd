"""What people read from approval_reminder: the approver's DM, the lines in the alert channel,
and the internal comments the job leaves on tickets.

Pure: links to other tickets come from the `Desk`, the desk's time zone is an argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from jobs.model import Action, ActionKind, Finding, Notice, Severity
from jobs.render.alerts import PRIORITY_MARK, grouped_alerts, ticket_link
from jobs.render.slack import Block, escape, link, section
from jobs.render.words import human_duration, plural
from jobs.rules.approval_reminder import (
    ANSWER_APPROVAL_TICKET,
    ANSWER_COMMENT,
    ANSWER_COMMENT_ON_LINKED,
    ANSWER_LINKED_TICKET,
    ANSWER_POSSIBLE_APPROVAL_TICKET,
    MATCHED_BY_KEY,
    RULE_UNLINKED,
    ApprovalTicketDetail,
    OnboardingDetail,
    OverdueDetail,
    ReceivedDetail,
)
from jobs.rules.desk import Desk

ANSWER_PHRASES = {
    ANSWER_COMMENT: "on the ticket",
    ANSWER_COMMENT_ON_LINKED: "on linked {ticket}",
    ANSWER_LINKED_TICKET: "by linked {ticket}",
    ANSWER_APPROVAL_TICKET: "by email, as {ticket}",
    ANSWER_POSSIBLE_APPROVAL_TICKET: "possibly by email, as {ticket} (names the organization "
    "only: check it and link it)",
}
"""How each kind of answer reads in the support alert; ``{ticket}`` is a link."""
LINKED_FOOTER = "SOP 001 step 5 · done by this job on the desk's behalf"


def first_name(name: str) -> str:
    return name.split()[0] if name.split() else name


def organization(finding: Finding) -> str:
    return finding.detail_as(OnboardingDetail).organization or "(no organization)"


def head(finding: Finding) -> str:
    """The ticket link, starred for a priority installer (SOP 004: they take precedence)."""
    return f"{PRIORITY_MARK if finding.priority else ''}{ticket_link(finding)}"


def key_link(desk: Desk, key: str) -> str:
    url = desk.link(key)
    return link(url, key) if url else escape(key)


# -- the reminder -----------------------------------------------------------------------------


def dm_line(finding: Finding) -> str:
    detail = finding.detail_as(OverdueDetail)
    asked_by = detail.asked_by or "support"
    return (
        f"{head(finding)} {escape(organization(finding))}: asked "
        f"{escape(human_duration(detail.waiting))} ago by {escape(asked_by)}"
    )


def channel_ticket(finding: Finding) -> str:
    waiting = human_duration(finding.detail_as(OverdueDetail).waiting)
    return f"{head(finding)} ({escape(organization(finding))}, {escape(waiting)})"


def channel_line(
    findings: Sequence[Finding], lead: str, cap: int | None
) -> tuple[str, list[Block]]:
    """``lead`` followed by the tickets, at most ``cap`` of them: one line in the channel."""
    limit = cap or len(findings)
    shown = ", ".join(channel_ticket(f) for f in findings[:limit])
    more = f" and {len(findings) - limit} more" if len(findings) > limit else ""
    line = f"{lead} {shown}{more}"
    return line, [section(line)]


def reminded(approver_name: str) -> str:
    return f":bell: Reminded {escape(approver_name)} by Slack DM about approval for"


def could_not_dm(approver_name: str) -> str:
    return f":warning: Could not DM {escape(approver_name)}; remind him about approval for"


def reminder_dms(
    findings: Sequence[Finding],
    *,
    target: str,
    kind: ActionKind,
    approver_name: str,
    cap: int | None,
) -> list[Action]:
    """The DM listing the tickets waiting for him (more than one only past Slack's limits)."""
    return grouped_alerts(
        findings,
        channel=target,
        title=lambda _s, n: f"{plural(n, 'onboarding ticket')} waiting for your approval",
        line=dm_line,
        max_per_message=cap,
        footer=(
            f"Hi {escape(first_name(approver_name))}, support asked whether these are approved "
            "to push live. Reply with a comment on the ticket, or by email naming the ticket key."
        ),
        kind=kind,
    )


def reminder_comment(finding: Finding, approver_name: str, mark: str, tz: tzinfo) -> str:
    """The internal note recording the reminder on the onboarding ticket, ``mark`` last."""
    detail = finding.detail_as(OverdueDetail)
    asked = detail.asked_at.astimezone(tz)
    return (
        f"Approval reminder sent to {approver_name} on Slack: no answer "
        f"{human_duration(detail.waiting)} after the internal comment of "
        f"{asked:%Y-%m-%d %H:%M %Z} asking whether the products are approved to push live."
        f"\n\n{mark}\n"
    )


# -- support: answers and approval tickets ---------------------------------------------------


def support_alerts(
    findings: Sequence[Finding],
    *,
    channel: str,
    approver_name: str,
    desk: Desk,
    cap: int | None,
) -> list[Action]:
    """Unlinked approval tickets (warnings) and answers received (info), one message each."""
    name = approver_name

    def title(severity: Severity, count: int) -> str:
        if severity is Severity.WARNING:
            return f"{plural(count, 'approval ticket')} from {name} not linked to onboarding"
        return f"{plural(count, 'onboarding ticket')} answered by {name}"

    def line(finding: Finding) -> str:
        if finding.rule == RULE_UNLINKED:
            ticket = finding.detail_as(ApprovalTicketDetail)
            target = key_link(desk, ticket.onboarding_ticket)
            if ticket.matched_by != MATCHED_BY_KEY:
                todo = "if it is his approval, link it as a duplicate and close it by hand"
            else:
                todo = "link it as a duplicate and close it"
            return (
                f"{head(finding)} names {target} ({escape(organization(finding))}, "
                f"by {escape(ticket.matched_by)}): {todo}"
            )
        answer = finding.detail_as(ReceivedDetail)
        cs_text = ", ".join(key_link(desk, k) for k in answer.cs_to_move)
        how = ANSWER_PHRASES.get(answer.answer_kind, "{ticket}").format(
            ticket=key_link(desk, answer.answer_ticket)
        )
        quote = f" “{escape(answer.answer_excerpt)}”" if answer.answer_excerpt else ""
        move = (
            f"if approved, move {cs_text} back to To Do"
            if cs_text
            else "if approved, move its CS ticket (none linked) back to To Do"
        )
        return (
            f"{head(finding)} {escape(organization(finding))}: {escape(name)} answered "
            f"{how}{quote} → {move}"
        )

    return grouped_alerts(findings, channel=channel, title=title, line=line, max_per_message=cap)


def link_comment(finding: Finding, approver_name: str, mark: str) -> str:
    """The internal note on an approval ticket the job links and closes, ``mark`` last."""
    onboarding = finding.detail_as(ApprovalTicketDetail).onboarding_ticket
    return (
        f"{approver_name}'s answer about {onboarding} ({organization(finding)}) arrived as this "
        f"separate ticket. Following SOP 001 step 5 it is linked to {onboarding} as a duplicate "
        f"and closed; continue on {onboarding}.\n\n{mark}\n"
    )


def linked_notice(finding: Finding, desk: Desk) -> str:
    """The channel's line once an approval ticket is linked and closed."""
    onboarding = finding.detail_as(ApprovalTicketDetail).onboarding_ticket
    return (
        f"{head(finding)} names {key_link(desk, onboarding)} "
        f"({escape(organization(finding))}, by key): linked it as a duplicate and closed it"
    )


def linked_notices(approver_name: str) -> Notice:
    """The grouped message those lines go into."""
    return Notice(f"Approval tickets from {approver_name} linked and closed", LINKED_FOOTER)
