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
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from jobs.config import JobConfig
from jobs.durations import Duration, DurationField, parse_duration
from jobs.job import Job, JobSpec, Work
from jobs.model import Action, ActionKind, Evaluation, Finding, Ticket
from jobs.render.alerts import section_blocks
from jobs.render.pack import fallback, pack
from jobs.render.slack import context, escape, header, link, section
from jobs.render.words import plural
from jobs.rules.ticket_hygiene import JOB as JOB_NAME
from jobs.rules.ticket_hygiene import (
    PROBLEMS,
    HygienePolicy,
    by_assignee,
    evaluate_hygiene,
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
SOP_FOOTER = (
    "SOP 004: first update the essential ticket fields (Organization, EB label for EverBright "
    "financing, Channel, High priority for priority installers)."
)


class TicketHygieneConfig(JobConfig):
    schedule: str = "0 16 * * 1-5"
    """Weekdays 16:00 desk time: before the end of the day, while the tickets are fresh."""
    onboarding_subject: str = "EverBright Partner Onboarding"
    """SOP 000/001: onboarding tickets 'will always have the subject' (replies add 'Re:')."""
    eb_request_types: list[str] = Field(default_factory=list)
    """Request types that are always about EverBright financing (need the EB label)."""
    eb_label: str = "EB"
    high_priority: str = "High"
    """The priority a fix sets (SOP 004: priority installers and their config tickets)."""
    higher_priorities: list[str] = Field(default_factory=lambda: ["Highest"])
    """Priorities above ``high_priority``: already fine, never lowered."""
    resolved_lookback: DurationField = parse_duration("7d")
    """Resolved tickets are checked for an empty Channel field this long after resolution."""

    @field_validator("resolved_lookback")
    @classmethod
    def _wall_clock(cls, value: Duration) -> Duration:
        if value.is_business or value.wall <= timedelta(0):
            raise ValueError("use a positive wall-clock duration such as 7d")
        return value

    @field_validator("eb_label", "high_priority")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()


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


def policy_of(ctx: RunContext) -> HygienePolicy:
    config = ctx.job_config
    assert isinstance(config, TicketHygieneConfig)
    return HygienePolicy(
        onboarding_subject=config.onboarding_subject,
        eb_request_types=tuple(config.eb_request_types),
        eb_label=config.eb_label,
        high_priority=config.high_priority,
        higher_priorities=tuple(config.higher_priorities),
        priority_installers=tuple(ctx.settings.priority_installers),
        resolved_lookback=config.resolved_lookback.wall,
        config_project=ctx.settings.desk.config_project,
    )


def queue_jql(ctx: RunContext, policy: HygienePolicy) -> str:
    """Open SS tickets and those resolved since the look-back.

    The date is a day earlier than needed: Jira reads date literals in the API user's own
    timezone, which we do not know. The rule applies the exact look-back to ``now``.
    """
    from jobs.adapters.jira import jql_quote

    since = (ctx.now - policy.resolved_lookback - timedelta(days=1)).astimezone(ctx.calendar.tz)
    project = jql_quote(ctx.settings.desk.service_desk_project)
    return (
        f"project = {project} AND (statusCategory != Done OR resolved >= "
        f"{jql_quote(since.strftime('%Y/%m/%d'))}) ORDER BY key"
    )


# -- rendering ---------------------------------------------------------------------------------


def _by_ticket(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    order = {rule: n for n, rule in enumerate(PROBLEMS)}
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(str(finding.facts["ticket"]), []).append(finding)
    for group in groups.values():
        group.sort(key=lambda f: (order.get(f.rule, len(order)), f.item))
    # Priority installers first (SOP 004: they take precedence), then by key.
    return sorted(groups.items(), key=lambda kv: (not kv[1][0].priority, _key_order(kv[0])))


def _key_order(key: str) -> tuple[str, int]:
    project, _, number = key.partition("-")
    return (project, int(number)) if number.isdigit() else (key, 0)


def _fix_words(fix: Mapping[str, Any] | None, target: str, ticket: str) -> str:
    # In progress, not done: the digest goes out before Jira has answered the edit.
    if not fix:
        return ""
    where = "" if target == ticket else f" on {target}"
    if fix.get("add_labels"):
        return f"adding label {', '.join(fix['add_labels'])}{where}"
    if fix.get("priority"):
        return f"setting priority to {fix['priority']}{where}"
    return ""


def ticket_line(key: str, findings: Sequence[Finding], fixing: bool) -> str:
    """`:star: <url|SS-701> summary — no Organization; EB label missing (...)`, all escaped."""
    first = findings[0]
    mark = ":star: " if first.priority else ""
    ref = link(first.url, key) if first.url else escape(key)
    problems = "; ".join(escape(f.summary) for f in findings)
    line = f"{mark}{ref} {escape(str(first.facts.get('ticket_summary') or ''))} — {problems}"
    if fixing:
        fixed = [
            _fix_words(f.facts.get("fix"), str(f.facts.get("fix_target") or key), key)
            for f in findings
        ]
        fixed = [w for w in fixed if w]
        if fixed:
            line += f" _(fixing: {escape('; '.join(fixed))})_"
    return line


def _chunks(
    groups: list[tuple[str, list[Finding]]],
    lines: list[str],
    cap: int | None,
    other_blocks: int,
) -> list[list[tuple[str, list[Finding]]]]:
    """The tickets of each message: as many as Slack's limits allow (or ``cap``)."""
    parts = pack(lines, other_blocks=other_blocks, cap=cap) if lines else [[]]
    return [[groups[i] for i in part] for part in parts]


def digest_actions(
    email: str, findings: Sequence[Finding], ctx: RunContext, fixing: bool
) -> list[Action]:
    """One DM per assignee (split only past ``max_alerts_per_message`` tickets)."""
    tickets = _by_ticket(findings)
    every_line = [f"• {ticket_line(key, group, fixing)}" for key, group in tickets]
    chunks = _chunks(tickets, every_line, ctx.settings.run.max_alerts_per_message, 2)
    actions = []
    for n, chunk in enumerate(chunks, start=1):
        verb = "is" if len(tickets) == 1 else "are"
        title = f"Ticket hygiene: {plural(len(tickets), 'ticket')} of yours {verb} missing fields"
        if len(chunks) > 1:
            title += f" ({n}/{len(chunks)})"
        lines = [f"• {ticket_line(key, group, fixing)}" for key, group in chunk]
        blocks = [header(title), *section_blocks(lines), context([escape(SOP_FOOTER)])]
        text = fallback(escape(title), lines)
        actions.append(
            Action(
                kind=ActionKind.SLACK_DM,
                target=email,
                findings=[f for _, group in chunk for f in group],
                text=text,
                blocks=blocks,
            )
        )
    return actions


def _why_no_dm(finding: Finding) -> str:
    who = finding.facts.get("assignee")
    if not who:
        return "unassigned"
    if not finding.facts.get("assignee_email"):
        return f"assignee {escape(str(who))}: Jira hides the email"
    return f"assignee {escape(str(who))}: no Slack account with that email"


def summary_actions(
    groups: Mapping[str | None, list[Finding]], ctx: RunContext, fixing: bool
) -> list[Action]:
    """The channel's summary line; it lists (and covers) the tickets no DM can reach."""
    everything = [f for group in groups.values() for f in group]
    tickets = {str(f.facts["ticket"]) for f in everything}
    counts: dict[str, set[str]] = {}
    for email, group in groups.items():
        if email is None:
            continue
        name = str(group[0].facts.get("assignee") or email)
        counts.setdefault(name, set()).update(str(f.facts["ticket"]) for f in group)
    nobody = _by_ticket(groups.get(None, []))
    title = (
        f"Ticket hygiene: {plural(len(everything), 'problem')} on {plural(len(tickets), 'ticket')}"
    )
    parts = [f"{escape(name)} {len(keys)}" for name, keys in sorted(counts.items())]
    if nobody:
        parts.append(f"no DM possible {len(nobody)}")
    summary = "; ".join(parts)
    nobody_lines = [
        f"• {ticket_line(key, group, fixing)} ({_why_no_dm(group[0])})" for key, group in nobody
    ]
    chunks = _chunks(nobody, nobody_lines, ctx.settings.run.max_alerts_per_message, 4)
    actions = []
    for n, chunk in enumerate(chunks, start=1):
        heading = title if len(chunks) == 1 else f"{title} ({n}/{len(chunks)})"
        lines = []
        for key, group in chunk:
            lines.append(f"• {ticket_line(key, group, fixing)} ({_why_no_dm(group[0])})")
        blocks = [
            header(heading),
            section(f"Sent to assignees by DM: {summary}" if summary else " "),
        ]
        if lines:
            blocks += [section("*Nobody could be messaged about these:*"), *section_blocks(lines)]
        blocks.append(context([escape(SOP_FOOTER)]))
        text = fallback(f"{escape(heading)} — {summary}", lines)
        actions.append(
            Action(
                kind=ActionKind.SLACK_POST,
                target=ctx.alert_channel,
                findings=[f for _, group in chunk for f in group],
                text=text,
                blocks=blocks,
            )
        )
    return actions


def marker(target: str, ctx: RunContext) -> str:
    return f"Ref: {target} · {MARKER_TAG} · {ctx.calendar.local_date(ctx.now).isoformat()}"


def fixes(findings: Sequence[Finding], ctx: RunContext) -> list[Action]:
    """Per ticket to change: one edit (labels and/or priority), then the internal comment that
    says what it changed (the edit's next step, so it is never claimed before the change).

    Neither counts as alerting its findings (``notifies=False``): the digest does. A failed
    edit is retried by the next day's run; the comment's marker keeps it to one a day.
    """
    by_target: dict[str, list[Finding]] = {}
    for finding in findings:
        target = finding.facts.get("fix_target")
        if finding.facts.get("fix") and target:
            by_target.setdefault(str(target), []).append(finding)
    planned: list[Action] = []
    for target in sorted(by_target, key=_key_order):
        group = by_target[target]
        labels: list[str] = []
        priority: str | None = None
        reasons: list[str] = []
        for finding in group:
            fix = finding.facts["fix"]
            for label in fix.get("add_labels") or []:
                if label not in labels:
                    labels.append(label)
            priority = fix.get("priority") or priority
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
        return HygieneData(ctx.jira.search(queue_jql(ctx, policy_of(ctx)), list(SS_FIELDS)))

    def evaluate(self, data: HygieneData, ctx: RunContext) -> Evaluation:
        return evaluate_hygiene(data.tickets, ctx.now, policy_of(ctx), ctx.calendar)

    def plan(self, work: Work[HygieneData], ctx: RunContext) -> list[Action]:
        findings = work.fresh
        if not findings:
            return []
        fixing = ctx.settings.actions.fix_hygiene
        actions = fixes(findings, ctx) if fixing else []
        groups = reachable(by_assignee(findings), ctx)
        for email in sorted(e for e in groups if e is not None):
            actions += digest_actions(email, groups[email], ctx, fixing)
        actions += summary_actions(groups, ctx, fixing)
        return actions


JOB = TicketHygieneJob

__all__ = ["JOB", "SPEC", "HygieneData", "TicketHygieneConfig", "fixes"]
