"""Daily hygiene digest (SOP 004, "First update the essential ticket fields").

One search of the SS queue (open tickets, plus those resolved within the look-back for the
Channel check) and, when a priority installer's ticket links config tickets, one more search
for those tickets' priorities. Each assignee gets one direct message listing their tickets and
what is missing; the alert channel gets one summary (counts per assignee, and the tickets
nobody can be messaged about: unassigned, or the assignee's email is hidden by Jira).

With ``actions.fix_hygiene: true`` the job also makes the changes that are certain (the ``EB``
label on EverBright-financing tickets, High priority for priority installers and their linked
config tickets) and says so in an internal comment that ends with
``Ref: SS-123 · ticket-hygiene · 2026-11-20`` (the pipeline looks for it before commenting
again). The comment is the edit's next step: posted only after the edit succeeded, and by a
later run if it failed or the run died in between, even once the problem is gone. The digest
says "fixing", never "fixed": it is sent before anyone knows whether Jira took the change.
Organization and Channel need a person: the digest asks, nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from jobs.job import Job, JobSpec, Work, config_of
from jobs.model import Action, ActionKind, Evaluation, Finding, Ticket
from jobs.rules.desk import reference
from jobs.rules.ticket_hygiene import (
    JOB_NAME,
    AddLabels,
    HygieneDetail,
    SetPriority,
    TicketHygieneConfig,
    by_assignee,
    evaluate_hygiene,
    key_order,
)

if TYPE_CHECKING:
    from jobs.context import RunContext

SS_FIELDS = (
    "summary",
    "status",
    "created",
    "assignee",
    "labels",
    "Organizations",
    "Request Type",
    "Channel",
    "priority",
    "issuelinks",
    "resolutiondate",
)
MARKER_TAG = "ticket-hygiene"


SPEC = JobSpec(
    name=JOB_NAME,
    description="Daily digest per assignee of SS tickets missing SOP 004's essential fields",
    config_model=TicketHygieneConfig,
    systems=frozenset({"jira", "slack"}),
)


@dataclass(frozen=True)
class HygieneData:
    tickets: Iterable[Ticket]
    """Streamed from the search into the rule: the whole queue is never held in memory."""


def queue_jql(ctx: RunContext, config: TicketHygieneConfig) -> str:
    """Open SS tickets and those resolved since the look-back.

    The date is a day earlier than needed: Jira reads date literals in the API user's own
    timezone, which we do not know. The rule applies the exact look-back to ``now``.
    """
    from jobs.adapters.jira import jql_quote

    since = (ctx.now - config.resolved_lookback.wall - timedelta(days=1)).astimezone(
        ctx.calendar.tz
    )
    project = jql_quote(ctx.desk.service_desk_project)
    return (
        f"project = {project} AND (statusCategory != Done OR resolved >= "
        f"{jql_quote(since.strftime('%Y/%m/%d'))}) ORDER BY key"
    )


def marker(target: str, ctx: RunContext) -> str:
    return reference(target, MARKER_TAG, ctx.calendar.local_date(ctx.now).isoformat())


def fixes(findings: Sequence[Finding], ctx: RunContext) -> list[Action]:
    """Per ticket to change: one edit (labels and/or priority), then the internal comment that
    says what it changed (the edit's next step, so it is never claimed before the change).

    Neither counts as alerting its findings (``notifies=False``): the digest does. A failed
    edit is retried by the next day's run; the comment's marker keeps it to one a day.
    """
    by_target: dict[str, list[Finding]] = {}
    for finding in findings:
        detail = finding.detail_as(HygieneDetail)
        if detail.fix is not None and detail.fix_target:
            by_target.setdefault(detail.fix_target, []).append(finding)
    planned: list[Action] = []
    for target in sorted(by_target, key=key_order):
        group = by_target[target]
        labels: list[str] = []
        priority: str | None = None
        reasons: list[str] = []
        for finding in group:
            fix = finding.detail_as(HygieneDetail).fix
            if isinstance(fix, AddLabels):
                for label in fix.add_labels:
                    if label not in labels:
                        labels.append(label)
            if isinstance(fix, SetPriority):
                priority = fix.priority or priority
            reasons.append(str(finding.summary))
        changes = []
        if labels:
            changes.append(f"added the label {', '.join(labels)}")
        if priority:
            changes.append(f"set the priority to {priority}")
        mark = marker(target, ctx)
        body = (
            f"Ticket hygiene (SOP 004, essential fields): {' and '.join(changes)}.\n"
            f"Why: {'; '.join(dict.fromkeys(reasons))}.\n\n{mark}"
        )
        note = Action(
            kind=ActionKind.JIRA_INTERNAL_COMMENT,
            target=target,
            findings=list(group),
            text=body,
            marker=mark,
            notifies=False,
        )
        planned.append(
            Action(
                kind=ActionKind.JIRA_EDIT,
                target=target,
                findings=list(group),
                text=f"{' and '.join(changes)}",
                add_labels=tuple(labels),
                priority=priority,
                notifies=False,
                then=(note,),
            )
        )
    return planned


def reachable(
    groups: Mapping[str | None, list[Finding]], ctx: RunContext
) -> dict[str | None, list[Finding]]:
    """Assignees nobody can DM (no Slack account with their email) join the channel's list,
    rather than failing the run every day."""
    out: dict[str | None, list[Finding]] = {None: list(groups.get(None, []))}
    for email, group in groups.items():
        if email is None:
            continue
        if ctx.slack.user_id(email) is None:
            out[None].extend(group)
        else:
            out[email] = list(group)
    if not out[None]:
        del out[None]
    return out


class TicketHygieneJob(Job[HygieneData]):
    spec = SPEC

    def fetch(self, ctx: RunContext) -> HygieneData:
        # Linked config tickets' priority and status come inside ``issuelinks``: one search.
        config = config_of(ctx, TicketHygieneConfig)
        # The rule sorts what it finds: a long queue is read from both ends at once.
        return HygieneData(ctx.jira.search(queue_jql(ctx, config), list(SS_FIELDS), any_order=True))

    def evaluate(self, data: HygieneData, ctx: RunContext) -> Evaluation:
        config = config_of(ctx, TicketHygieneConfig)
        return evaluate_hygiene(data.tickets, ctx.now, config, ctx.desk, ctx.calendar)

    def plan(self, work: Work[HygieneData], ctx: RunContext) -> list[Action]:
        from jobs.render.ticket_hygiene import digest_messages, summary_messages

        findings = work.fresh
        if not findings:
            return []
        fixing = ctx.settings.actions.fix_hygiene
        cap = ctx.settings.run.max_alerts_per_message
        actions = fixes(findings, ctx) if fixing else []
        groups = reachable(by_assignee(findings), ctx)
        for email in sorted(e for e in groups if e is not None):
            actions += [
                Action(
                    kind=ActionKind.SLACK_DM,
                    target=email,
                    findings=covered,
                    text=text,
                    blocks=blocks,
                )
                for covered, text, blocks in digest_messages(groups[email], fixing, cap)
            ]
        actions += [
            Action(
                kind=ActionKind.SLACK_POST,
                target=ctx.alert_channel,
                findings=covered,
                text=text,
                blocks=blocks,
            )
            for covered, text, blocks in summary_messages(groups, fixing, cap)
        ]
        return actions


JOB = TicketHygieneJob

__all__ = ["JOB", "SPEC", "HygieneData", "TicketHygieneConfig", "fixes"]
