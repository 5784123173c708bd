"""channel_partner_request in Slack: the grouped alerts for support, and the notice lines that
say what the job did on the desk's behalf.

Pure. The customer's reply is not written here: it is the desk's "New Channel Req 2" template
(config/templates), rendered by the job.
"""

from __future__ import annotations

from collections.abc import Sequence

from jobs.model import Action, Finding, Notice, Severity
from jobs.render.alerts import PRIORITY_MARK, grouped_alerts, ticket_link
from jobs.render.slack import escape
from jobs.render.words import plural
from jobs.rules.channel_partner_request import (
    REPLY_TEMPLATE,
    RULE_FIELDS,
    ChannelPartnerRequestConfig,
    RequestDetail,
)

REPLY_FOOTER = (
    'SOP 002 · check the CS ticket for outstanding issues, then send "New Channel Req 2" '
    "(keep its Ref line: it tells this job the customer was told)"
)
HANDLED = Notice(
    "Channel partner requests handled (SOP 002)",
    "SOP 002 · done by this job on the desk's behalf: no need to create these tasks or send "
    "these replies by hand",
)
"""The grouped message the notice lines go into."""


def alert_line(finding: Finding) -> str:
    mark = PRIORITY_MARK if finding.priority else ""
    if finding.rule == RULE_FIELDS:
        return f"{mark}{ticket_link(finding)} {escape(finding.summary)}"
    org = finding.detail_as(RequestDetail).org
    return f"{mark}{ticket_link(finding)} *{escape(org)}*: {escape(finding.summary)}"


def task_footer(config: ChannelPartnerRequestConfig) -> str:
    return (
        f"SOP 002 · the CS task: {config.cs_issue_type}, {config.cs_priority}, parent "
        f"{config.onboarding_epic}, QA Assignee, Due Date {config.due_business_days} / "
        f"Configuration Date {config.configuration_business_days} / QA Due Date "
        f"{config.qa_business_days} business days out, linked to the request"
    )


def alert_title(severity: Severity, count: int) -> str:
    if severity is Severity.INFO:
        return f"Channel partner requests: {count} ready for the customer reply"
    return f"Channel partner requests: {plural(count, 'CS task')} missing or incomplete"


def alerts(
    findings: Sequence[Finding],
    *,
    channel: str,
    config: ChannelPartnerRequestConfig,
    cap: int | None,
) -> list[Action]:
    """Tasks missing, unlinked or incomplete in one message; replies due in another."""
    actions: list[Action] = []
    for group, footer in (
        ([f for f in findings if f.severity is not Severity.INFO], task_footer(config)),
        ([f for f in findings if f.severity is Severity.INFO], REPLY_FOOTER),
    ):
        actions.extend(
            grouped_alerts(
                group,
                channel=channel,
                title=alert_title,
                line=alert_line,
                max_per_message=cap,
                footer=footer,
            )
        )
    return actions


# -- what the job did ------------------------------------------------------------------------


def created(due: str) -> str:
    """``{key}`` is the created task's key, filled in when the line is sent."""
    return "created {key} (due " + due + ")"


def linked(cs_key: str) -> str:
    return f"linked {cs_key}, created earlier but never linked"


REPLIED = f'sent "{REPLY_TEMPLATE}" to the customer'


def notice_line(finding: Finding, what: str) -> str:
    """The line in the grouped "requests handled" message: `*Org*: created CS-9 (due ...)`."""
    mark = PRIORITY_MARK if finding.priority else ""
    org = finding.detail_as(RequestDetail).org
    return f"{mark}{ticket_link(finding)} *{escape(org)}*: {escape(what)}"
