"""What the enabled jobs and actions need from Jira, Slack, the sheet and the people, read from
the settings alone (pure: no I/O). Each need says who needs it, so a check can say why it runs,
and a check nothing needs is skipped saying so.

The custom fields, scopes and roles per job restate what the job modules read and send; the
preflight's tests run every job against the emulated desk and hold this table to what the jobs
really asked Jira for (``tests/e2e/test_doctor.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from jobs.adapters.jira.fields import (
    CHANNEL,
    CONFIGURATION_DATE,
    FIRST_RESPONSE_SLA,
    ORGANIZATIONS,
    QA_ASSIGNEE,
    QA_DUE_DATE,
    REQUEST_TYPE,
)
from jobs.config import JobConfig, Settings
from jobs.jql import jql_quote

JOB_FIELDS: dict[str, tuple[str, ...]] = {
    "unassigned_first_response": (ORGANIZATIONS,),
    "onboarding_missing_ticket": (ORGANIZATIONS,),
    "approval_reminder": (ORGANIZATIONS,),
    "onboard_reset_reminder": (ORGANIZATIONS,),
    "doc_test_followup": (ORGANIZATIONS,),
    "channel_partner_request": (ORGANIZATIONS, CONFIGURATION_DATE, QA_DUE_DATE, QA_ASSIGNEE),
    "config_due_dates": (ORGANIZATIONS, CONFIGURATION_DATE, QA_DUE_DATE, QA_ASSIGNEE),
    "ticket_hygiene": (ORGANIZATIONS, REQUEST_TYPE, CHANNEL),
    "sla_report": (ORGANIZATIONS, REQUEST_TYPE),
}
"""The custom fields each job's searches ask for (``Time to first response`` too where the
job's ``sla_source`` is ``jira``)."""
SLA_SOURCE_JOBS = ("unassigned_first_response", "sla_report")

BOT_SCOPES: dict[str, tuple[str, ...]] = {
    "unassigned_first_response": ("chat:write", "users:read", "users:read.email", "im:write"),
    "onboarding_missing_ticket": ("chat:write",),
    "approval_reminder": ("chat:write", "users:read", "users:read.email", "im:write"),
    "doc_test_followup": ("chat:write",),
    "channel_partner_request": ("chat:write",),
    "config_due_dates": ("chat:write", "users:read", "users:read.email"),
    "ticket_hygiene": ("chat:write", "users:read", "users:read.email", "im:write"),
    "sla_report": ("chat:write", "files:write"),
}
"""Slack bot scopes per job: posting (chat:write), finding people by email (users:read,
users:read.email), direct messages (im:write), the SLA chart (files:write)."""

CHANNEL_SCOPES = {"public": "channels:read", "private": "groups:read"}
"""What the preflight reads the bot's channels with (``users.conversations``); the jobs
themselves never list channels."""

DUPLICATE = "Duplicate"
"""The link type approval tickets are linked with, and the one ticket_hygiene reads."""
TO_DO = "To Do"
"""The CS status support is told to move a CS ticket back to (approval answered, a customer's
reply relayed)."""


@dataclass(frozen=True)
class TransitionNeed:
    """A ticket change an enabled action makes: ``project`` tickets matching ``from_jql`` (a
    JQL restriction) move to ``to_status``."""

    project: str
    to_status: str
    from_jql: str
    from_words: str
    """What ``from_jql`` means, for people: "an open ticket", "a Resolved ticket"."""
    why: str
    setting: str
    """The setting that names ``to_status``."""


@dataclass(frozen=True)
class Needs:
    """Everything the checks look for, each with the jobs or switches that need it."""

    jobs: tuple[str, ...]
    """The enabled jobs."""
    systems: Mapping[str, tuple[str, ...]]
    """jira / slack / sheets -> the enabled jobs that use it."""
    fields: Mapping[str, tuple[str, ...]]
    """Our name for a custom field -> the enabled jobs that read it."""
    link_types: Mapping[str, str]
    statuses: Mapping[str, Mapping[str, str]]
    """Project key -> status name -> why."""
    transitions: tuple[tuple[str, TransitionNeed | None, str], ...]
    """(label, need or None when its switch is off, why it is not needed)."""
    create_type: tuple[str, str] | None
    """(project, issue type) a create needs, when ``create_cs_tasks`` is on."""
    create_parent: str | None
    """The epic every created CS task names as its parent, when ``create_cs_tasks`` is on."""
    request_types: tuple[str, ...]
    people_jira: Mapping[str, str]
    """Configured role -> why it is looked up in Jira ("" for a role no enabled job uses)."""
    people_slack: Mapping[str, str]
    scopes: Mapping[str, tuple[str, ...]]
    """Slack bot scope -> the enabled jobs that need it."""
    channels: Mapping[str, tuple[str, ...]]
    """Slack channel -> the enabled jobs that post there."""
    heartbeats: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Enabled job -> (heartbeat URL, format)."""

    def enabled(self, job: str) -> bool:
        return job in self.jobs


def needs_of(settings: Settings, systems_by_job: Mapping[str, frozenset[str]]) -> Needs:
    """``systems_by_job``: each job's ``JobSpec.systems`` (from the registry)."""
    from jobs.rules.approval_reminder import ApprovalReminderConfig
    from jobs.rules.channel_partner_request import ChannelPartnerRequestConfig
    from jobs.rules.doc_test_followup import DocTestFollowupConfig
    from jobs.rules.onboard_testing import OnboardTestingConfig
    from jobs.rules.ticket_hygiene import TicketHygieneConfig
    from jobs.rules.unassigned_first_response import UnassignedFirstResponseConfig

    jobs = tuple(n for n, c in settings.jobs.items() if c.enabled and n in systems_by_job)
    configs: dict[str, JobConfig] = {n: settings.jobs[n] for n in jobs}
    actions = settings.actions
    ss, cs = settings.desk.service_desk_project, settings.desk.config_project

    systems: dict[str, list[str]] = {"jira": [], "slack": [], "sheets": []}
    for job in jobs:
        for system in sorted(systems_by_job[job]):
            systems.setdefault(system, []).append(job)

    fields: dict[str, list[str]] = {}
    for job in jobs:
        wanted = list(JOB_FIELDS.get(job, ()))
        if job in SLA_SOURCE_JOBS and getattr(configs[job], "sla_source", "") == "jira":
            wanted.append(FIRST_RESPONSE_SLA)
        for name in wanted:
            fields.setdefault(name, []).append(job)

    link_types: dict[str, list[str]] = {}
    approval = configs.get("approval_reminder")
    if "ticket_hygiene" in configs:
        link_types.setdefault(DUPLICATE, []).append("ticket_hygiene reads it")
    if isinstance(approval, ApprovalReminderConfig) and actions.link_approval_tickets:
        link_types.setdefault(DUPLICATE, []).append("actions.link_approval_tickets links with it")
    partner = configs.get("channel_partner_request")
    if isinstance(partner, ChannelPartnerRequestConfig) and actions.create_cs_tasks:
        link_types.setdefault(partner.link_type, []).append(
            "actions.create_cs_tasks links with it (jobs.channel_partner_request.link_type)"
        )
    for job in ("onboard_reset_reminder", "doc_test_followup"):
        config = configs.get(job)
        if isinstance(config, OnboardTestingConfig):
            for name in config.link_types:
                link_types.setdefault(name, []).append(f"jobs.{job}.link_types names it")

    statuses: dict[str, dict[str, list[str]]] = {ss: {}, cs: {}}

    def status(project: str, name: str, why: str) -> None:
        statuses.setdefault(project, {}).setdefault(name, []).append(why)

    for job in ("onboard_reset_reminder", "doc_test_followup"):
        config = configs.get(job)
        if isinstance(config, OnboardTestingConfig):
            status(cs, config.on_hold_status, f"jobs.{job}.on_hold_status")
    followup = configs.get("doc_test_followup")
    if isinstance(followup, DocTestFollowupConfig):
        for name in followup.fulfilled_statuses:
            status(ss, name, "jobs.doc_test_followup.fulfilled_statuses")
        if actions.close_silent_fulfilled:
            status(ss, followup.closed_status, "jobs.doc_test_followup.closed_status")
    if isinstance(approval, ApprovalReminderConfig) and actions.link_approval_tickets:
        status(ss, approval.approval_ticket_done_status, "approval_ticket_done_status")
    for job in ("approval_reminder", "doc_test_followup"):
        if job in configs:
            status(cs, TO_DO, f"{job} tells support to move CS tickets back to it")

    transitions: list[tuple[str, TransitionNeed | None, str]] = []
    if isinstance(approval, ApprovalReminderConfig):
        label = f"transition {ss} -> {approval.approval_ticket_done_status} (approval tickets)"
        if actions.link_approval_tickets:
            need = TransitionNeed(
                ss,
                approval.approval_ticket_done_status,
                "statusCategory != Done",
                "an open ticket",
                "actions.link_approval_tickets closes approval tickets",
                "jobs.approval_reminder.approval_ticket_done_status",
            )
            transitions.append((label, need, ""))
        else:
            transitions.append((label, None, "actions.link_approval_tickets is off"))
    if isinstance(followup, DocTestFollowupConfig):
        label = f"transition {ss} -> {followup.closed_status} (silent fulfilled tickets)"
        if actions.close_silent_fulfilled and followup.fulfilled_statuses:
            quoted = ", ".join(jql_quote(s) for s in followup.fulfilled_statuses)
            need = TransitionNeed(
                ss,
                followup.closed_status,
                f"status in ({quoted})",
                f"a {' or '.join(followup.fulfilled_statuses)} ticket",
                "actions.close_silent_fulfilled closes them",
                "jobs.doc_test_followup.closed_status",
            )
            transitions.append((label, need, ""))
        else:
            transitions.append((label, None, "actions.close_silent_fulfilled is off"))

    create_type = create_parent = None
    if isinstance(partner, ChannelPartnerRequestConfig) and actions.create_cs_tasks:
        create_type = (cs, partner.cs_issue_type)
        create_parent = partner.onboarding_epic

    request_types: tuple[str, ...] = ()
    hygiene = configs.get("ticket_hygiene")
    if isinstance(hygiene, TicketHygieneConfig):
        request_types = tuple(t.strip() for t in hygiene.eb_request_types if t.strip())

    jira_roles: dict[str, list[str]] = {}
    slack_roles: dict[str, list[str]] = {}
    if "approval_reminder" in configs:
        jira_roles.setdefault("approver", []).append("approval_reminder finds his answers")
        slack_roles.setdefault("approver", []).append("approval_reminder DMs him")
    first = configs.get("unassigned_first_response")
    if isinstance(first, UnassignedFirstResponseConfig):
        slack_roles.setdefault(first.escalate_to, []).append(
            "unassigned_first_response mentions this role on escalations"
        )
    if "channel_partner_request" in configs:
        jira_roles.setdefault("qa_assignee", []).append("channel_partner_request sets it")
        jira_roles.setdefault("onboarding_reporter", []).append(
            "channel_partner_request checks who reported the request"
        )
    if "config_due_dates" in configs:
        slack_roles.setdefault("qa_assignee", []).append("config_due_dates mentions the QA")
    if "sla_report" in configs:
        jira_roles.setdefault("onboarding_reporter", []).append(
            "sla_report leaves its comments out"
        )

    scopes: dict[str, list[str]] = {}
    for job in jobs:
        for scope in BOT_SCOPES.get(job, ()):
            scopes.setdefault(scope, []).append(job)

    channels: dict[str, list[str]] = {}
    for job in systems["slack"]:
        own = getattr(configs[job], "channel", None)
        target = own if isinstance(own, str) and own else settings.desk.alert_channel
        channels.setdefault(target, []).append(job)

    heartbeats = {
        job: (str(configs[job].heartbeat_url), configs[job].heartbeat_format)
        for job in jobs
        if configs[job].heartbeat_url
    }
    return Needs(
        jobs=jobs,
        systems={k: tuple(v) for k, v in systems.items()},
        fields={k: tuple(v) for k, v in fields.items()},
        link_types={k: "; ".join(v) for k, v in link_types.items()},
        statuses={p: {s: "; ".join(w) for s, w in v.items()} for p, v in statuses.items()},
        transitions=tuple(transitions),
        create_type=create_type,
        create_parent=create_parent,
        request_types=request_types,
        people_jira={role: "; ".join(jira_roles.get(role, [])) for role in settings.people},
        people_slack={role: "; ".join(slack_roles.get(role, [])) for role in settings.people},
        scopes={k: tuple(v) for k, v in scopes.items()},
        channels={k: tuple(v) for k, v in channels.items()},
        heartbeats=heartbeats,
    )


__all__ = [
    "BOT_SCOPES",
    "CHANNEL_SCOPES",
    "DUPLICATE",
    "JOB_FIELDS",
    "Needs",
    "TransitionNeed",
    "needs_of",
]
