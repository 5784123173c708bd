"""Every job that stars, orders or escalates priority installers agrees on who they are.

SOP 004: "Some installers are given priority service ... These tickets should be completed as
soon as possible and take precedence over other tickets." The list is one setting
(``priority_installers``) and the meaning one definition (`jobs.rules.desk.PriorityInstallers`):
the organization equals a listed name once case, punctuation, "&"/"and", a leading "The" and
legal suffixes are set aside. This table asks each job, through its own rule, about the same
spellings: a job that read the list its own way would disagree here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from jobs.rules.desk import Desk, PriorityInstallers
from jobs.rules.ticket_hygiene import PRIORITY_NOT_HIGH
from tests.unit import test_approval_reminder_rule as approval
from tests.unit import test_channel_partner_request_rule as partner
from tests.unit import test_config_due_dates_rule as due_dates
from tests.unit import test_onboarding_missing_ticket_rule as onboarding
from tests.unit import test_sla_report_rule as sla_report
from tests.unit import test_ticket_hygiene_rule as hygiene
from tests.unit import test_unassigned_first_response_rule as first_response

LISTED = "Acme Solar LLC"
DESK = Desk(priority_installers=PriorityInstallers((LISTED,)))

SPELLINGS = [
    ("Acme Solar LLC", True),
    ("Acme Solar, Inc.", True),
    ("ACME SOLAR", True),
    ("  acme   solar  l.l.c. ", True),
    ("The Acme Solar Co.", True),
    ("Ácme Solar", True),
    ("Acme Solar Roofing", False),
    ("Acme Sola", False),
    ("Acme & Solar", False),
    ("Solar Acme", False),
]


def unassigned_first_response(organization: str) -> bool:
    t = first_response.ticket(organizations=(organization,), priority="Medium")
    now = first_response.CREATED + timedelta(hours=2)
    evaluation = first_response.evaluate_unassigned(
        [t], now, first_response.CONFIG, DESK, first_response.ALWAYS
    )
    (finding,) = evaluation.findings
    return finding.priority


def approval_reminder(organization: str) -> bool:
    t = approval.onboarding(comments=(approval.ask(26),), org=organization)
    data = approval.ApprovalData((t,), ())
    evaluation = approval.evaluate(
        data,
        approval.APPROVER,
        approval.NOW,
        approval.CONFIG,
        DESK,
        approval.ALWAYS,
        actions=approval.NO_ACTIONS,
    )
    (finding,) = evaluation.findings
    return finding.priority


def channel_partner_request(organization: str) -> bool:
    request = partner.request(summary=f"A New Channel Partner Request for {organization}")
    (finding,) = partner.run([request], desk=DESK).findings
    return finding.priority


def config_due_dates(organization: str) -> bool:
    task = due_dates.task(due=due_dates.FRIDAY, organizations=(organization,))
    evaluation = due_dates.evaluate_due_dates(
        [task], due_dates.at(due_dates.FRIDAY), due_dates.RULES, DESK, due_dates.CALENDAR
    )
    (finding,) = evaluation.findings
    return finding.priority


def ticket_hygiene(organization: str) -> bool:
    t = hygiene.ticket(organizations=(organization,), priority="Medium")
    evaluation = hygiene.evaluate_hygiene([t], hygiene.NOW, hygiene.CONFIG, DESK, hygiene.CAL)
    return any(f.rule == PRIORITY_NOT_HIGH for f in evaluation.findings)


def onboarding_missing_ticket(organization: str) -> bool:
    sheet = onboarding.sheet(onboarding.row(organization))
    result = onboarding.check_onboarding(
        sheet,
        [],
        onboarding.seen_long_ago(organization),
        onboarding.NOW,
        onboarding.CONFIG,
        DESK,
        onboarding.ALWAYS,
        approved_statuses=("Approved",),
        sheet_url=onboarding.SHEET_URL,
    )
    (finding,) = result.evaluation.findings
    return finding.priority


def sla_report_breakdown(organization: str) -> bool:
    day = sla_report.START + 10 * sla_report.H
    t = sla_report.ticket(
        "SS-1", day, sla_report.comment(day + sla_report.H), organizations=(organization,)
    )
    built, _ = sla_report.build_report(
        [t], sla_report.WEEK, sla_report.CONFIG, DESK, sla_report.CAL
    )
    (row,) = built.rows
    (group,) = built.by_organization
    assert row.priority_installer is group.priority_installer
    return row.priority_installer


JOBS: dict[str, Callable[[str], bool]] = {
    "unassigned_first_response (stars, orders first)": unassigned_first_response,
    "approval_reminder (stars)": approval_reminder,
    "channel_partner_request (stars, orders first)": channel_partner_request,
    "config_due_dates (stars, orders first)": config_due_dates,
    "ticket_hygiene (asks for High priority)": ticket_hygiene,
    "onboarding_missing_ticket (stars)": onboarding_missing_ticket,
    "sla_report (stars, lists first)": sla_report_breakdown,
}


@pytest.mark.parametrize(("organization", "priority"), SPELLINGS, ids=[s for s, _ in SPELLINGS])
@pytest.mark.parametrize("job", sorted(JOBS))
def test_every_job_agrees_on_who_is_a_priority_installer(
    job: str, organization: str, priority: bool
) -> None:
    assert JOBS[job](organization) is priority
    assert (DESK.priority_installers.listed(organization) is not None) is priority
