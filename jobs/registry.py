"""The one list of jobs. Adding a job = a module in ``jobs/scheduled/`` plus one line here."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from jobs.job import Job

JOB_MODULES: tuple[str, ...] = (
    "jobs.scheduled.unassigned_first_response",
    "jobs.scheduled.onboarding_missing_ticket",
    "jobs.scheduled.approval_reminder",
    "jobs.scheduled.onboard_reset_reminder",
    "jobs.scheduled.doc_test_followup",
    "jobs.scheduled.channel_partner_request",
    "jobs.scheduled.config_due_dates",
    "jobs.scheduled.ticket_hygiene",
    "jobs.scheduled.sla_report",
)


class UnknownJob(KeyError):
    pass


@cache
def all_jobs() -> dict[str, type[Job[Any]]]:
    jobs: dict[str, type[Job[Any]]] = {}
    for module_name in JOB_MODULES:
        job: type[Job[Any]] = importlib.import_module(module_name).JOB
        jobs[job.spec.name] = job
    return jobs


def get_job(name: str) -> type[Job[Any]]:
    jobs = all_jobs()
    if name not in jobs:
        raise UnknownJob(name)
    return jobs[name]
