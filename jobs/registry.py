"""The one list of jobs. Adding a job = a module in ``jobs/scheduled/`` plus one line here.

Each line says what `python -m jobs list` shows (name, description, default schedule) and
where the job and its settings model live, so listing the jobs, or running one, imports no
other job's modules: a job's rule, render and job module (and the libraries they use) are
imported when that job is run, checked or deployed. `tests/unit/test_registry.py` holds each
line to its job module (the description is the job spec's, the schedule its settings
model's default).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.config import JobConfig
    from jobs.job import Job


@dataclass(frozen=True)
class JobEntry:
    """A job as the registry knows it before importing it."""

    name: str
    description: str
    schedule: str
    """The default schedule (the settings model's), when the settings name none."""
    module: str
    """The job module (``jobs.scheduled.<name>``); its ``JOB`` is the job class."""
    settings: str
    """Where the job's settings model lives, ``module:Class`` (with its rule)."""
    job_class: type[Job[Any]] | None = field(default=None, compare=False, repr=False)
    """The job class itself, for an entry made from a loaded job (`JobEntry.of`)."""

    @classmethod
    def of(cls, job: type[Job[Any]]) -> JobEntry:
        """The entry for a job class at hand (a test's job, or to check a line here)."""
        spec = job.spec
        model = spec.config_model
        schedule = model.model_fields["schedule"].default
        return cls(
            name=spec.name,
            description=spec.description,
            schedule=schedule if isinstance(schedule, str) else "",
            module=job.__module__,
            settings=f"{model.__module__}:{model.__qualname__}",
            job_class=job,
        )

    def load(self) -> type[Job[Any]]:
        if self.job_class is not None:
            return self.job_class
        job: type[Job[Any]] = importlib.import_module(self.module).JOB
        return job

    def config_model(self) -> type[JobConfig]:
        if self.job_class is not None:
            return self.job_class.spec.config_model
        module, _, name = self.settings.partition(":")
        model: type[JobConfig] = getattr(importlib.import_module(module), name)
        return model


ENTRIES: tuple[JobEntry, ...] = (
    JobEntry(
        "unassigned_first_response",
        "Alert when tickets near or miss the 2 h first response, until answered (SOP 004)",
        "*/15 * * * *",
        "jobs.scheduled.unassigned_first_response",
        "jobs.rules.unassigned_first_response:UnassignedFirstResponseConfig",
    ),
    JobEntry(
        "onboarding_missing_ticket",
        "Approved accounts on the financier's onboarding sheet with no onboarding ticket",
        "*/30 * * * *",
        "jobs.scheduled.onboarding_missing_ticket",
        "jobs.rules.onboarding_missing_ticket:OnboardingMissingTicketConfig",
    ),
    JobEntry(
        "approval_reminder",
        "Slack the approver after 24 h without an answer; link approval tickets (SOP 001)",
        "0 * * * *",
        "jobs.scheduled.approval_reminder",
        "jobs.rules.approval_reminder:ApprovalReminderConfig",
    ),
    JobEntry(
        "onboard_reset_reminder",
        "Mondays: 'Onboard Reset - Release tonight' to customers testing on Onboard",
        "0 9 * * 1",
        "jobs.scheduled.onboard_reset_reminder",
        "jobs.rules.onboard_reset_reminder:OnboardResetReminderConfig",
    ),
    JobEntry(
        "doc_test_followup",
        "Hourly: 'Doc ready to test' nudge, publish request, relay alert, silent closes",
        "0 * * * *",
        "jobs.scheduled.doc_test_followup",
        "jobs.rules.doc_test_followup:DocTestFollowupConfig",
    ),
    JobEntry(
        "channel_partner_request",
        "SOP 002: a CS task for each channel partner request, then the customer reply",
        "*/15 * * * *",
        "jobs.scheduled.channel_partner_request",
        "jobs.rules.channel_partner_request:ChannelPartnerRequestConfig",
    ),
    JobEntry(
        "config_due_dates",
        "Daily Slack digest of CS tasks whose Configuration/QA/Due Date has come",
        "0 9-17 * * 1-5",
        "jobs.scheduled.config_due_dates",
        "jobs.rules.config_due_dates:ConfigDueDatesConfig",
    ),
    JobEntry(
        "ticket_hygiene",
        "Daily digest per assignee of SS tickets missing SOP 004's essential fields",
        "0 16 * * 1-5",
        "jobs.scheduled.ticket_hygiene",
        "jobs.rules.ticket_hygiene:TicketHygieneConfig",
    ),
    JobEntry(
        "sla_report",
        "Mondays: last week's first-response compliance, p50/p90 and breaches, with chart",
        "0 8 * * 1",
        "jobs.scheduled.sla_report",
        "jobs.rules.sla_report:SlaReportConfig",
    ),
)

JOB_MODULES: tuple[str, ...] = tuple(entry.module for entry in ENTRIES)


class UnknownJob(KeyError):
    pass


def catalog() -> dict[str, JobEntry]:
    """Every job by name, in the order above; nothing is imported."""
    return {entry.name: entry for entry in ENTRIES}


def entry(name: str) -> JobEntry:
    found = catalog().get(name)
    if found is None:
        raise UnknownJob(name)
    return found


@cache
def all_jobs() -> dict[str, type[Job[Any]]]:
    """Every job class (imports every job module: check-config, deploy, the tests)."""
    return {name: job.load() for name, job in catalog().items()}


def get_job(name: str) -> type[Job[Any]]:
    """One job class, importing only its own modules."""
    return entry(name).load()
