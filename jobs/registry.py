"""The one list of jobs. Adding a job = a module in ``jobs/tasks/`` plus one line here."""

from __future__ import annotations

import importlib
from functools import cache

from jobs.job import Job

JOB_MODULES: tuple[str, ...] = (
    "jobs.tasks.unassigned_first_response",
    "jobs.tasks.onboarding_missing_ticket",
    "jobs.tasks.approval_reminder",
    "jobs.tasks.onboard_reset_reminder",
    "jobs.tasks.doc_test_followup",
    "jobs.tasks.channel_partner_request",
    "jobs.tasks.config_due_dates",
    "jobs.tasks.ticket_hygiene",
    "jobs.tasks.sla_report",
)


class UnknownJob(KeyError):
    pass


@cache
def all_jobs() -> dict[str, type[Job]]:
    jobs: dict[str, type[Job]] = {}
    for module_name in JOB_MODULES:
        job: type[Job] = importlib.import_module(module_name).JOB
        jobs[job.spec.name] = job
    return jobs


def get_job(name: str) -> type[Job]:
    jobs = all_jobs()
    if name not in jobs:
        raise UnknownJob(name)
    return jobs[name]
