"""The preflight's pure parts: what the enabled jobs need (from the settings alone) and how
the runner turns checks into lines. Against the emulated site: tests/e2e/test_doctor.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobs.adapters.http import PermanentError
from jobs.config import load_settings
from jobs.doctor import Check, Result, Site, Status, fail, ok, run_checks, skip, summary
from jobs.doctor.needs import Needs, needs_of
from jobs.registry import all_jobs
from tests.conftest import write_settings


def _needs(tmp_path: Path, overrides: dict[str, Any] | None = None) -> Needs:
    path = write_settings(tmp_path, overrides)
    jobs = all_jobs()
    settings = load_settings(path, {n: j.spec.config_model for n, j in jobs.items()})
    return needs_of(settings, {n: j.spec.systems for n, j in jobs.items()})


def test_the_shipped_settings_need_what_their_jobs_read(tmp_path: Path) -> None:
    needs = _needs(tmp_path)

    assert needs.fields["Channel"] == ("ticket_hygiene",)
    assert "Time to first response" not in needs.fields  # both SLA jobs compute it
    assert set(needs.link_types) == {"Duplicate"}  # ticket_hygiene reads it; no action links
    assert [need for _label, need, _why in needs.transitions] == [None, None]
    assert needs.create_type is None
    assert needs.scopes["files:write"] == ("sla_report",)
    assert needs.channels == {"#support-sla": needs.systems["slack"]}
    assert needs.people_jira["lead"] == "" and needs.people_slack["lead"] != ""
    assert needs.people_slack["onboarding_reporter"] == ""


def test_switches_and_settings_add_their_needs(tmp_path: Path) -> None:
    needs = _needs(
        tmp_path,
        {
            "actions": {"link_approval_tickets": True, "create_cs_tasks": True},
            "jobs": {
                "sla_report": {"sla_source": "jira", "heartbeat_url": "https://hc-ping.com/x"},
                "ticket_hygiene": {"enabled": False},
                "unassigned_first_response": {"channel": "#first-response"},
            },
        },
    )

    assert needs.fields["Time to first response"] == ("sla_report",)
    assert "Channel" not in needs.fields
    assert needs.link_types["Duplicate"].startswith("actions.link_approval_tickets")
    assert "Relates" in needs.link_types
    approval = needs.transitions[0][1]
    assert approval is not None and approval.to_status == "Closed"
    assert needs.create_type == ("CS", "Task")
    assert needs.channels["#first-response"] == ("unassigned_first_response",)
    assert needs.heartbeats == {"sla_report": ("https://hc-ping.com/x", "healthchecks")}


def test_a_check_after_one_that_failed_is_skipped_saying_which(tmp_path: Path) -> None:
    site = Site.__new__(Site)  # the runner reads nothing from the site itself

    def broken(_: Site) -> Any:
        raise PermanentError("jira", "read project SS: HTTP 403", 403)

    def crashes(_: Site) -> Any:
        raise KeyError("statusCategory")

    results = list(
        run_checks(
            site,
            [
                Check("first", lambda s: fail("it is off", "switch it on")),
                Check("second", lambda s: ok("fine"), ("first",)),
                Check("third", broken),
                Check("fourth", crashes),
                Check("fifth", lambda s: skip("not needed")),
                Check("sixth", lambda s: ok("fine"), ("fifth",)),
            ],
        )
    )

    assert [(r.check, r.status) for r in results] == [
        ("first", Status.FAIL),
        ("second", Status.SKIP),
        ("third", Status.FAIL),
        ("fourth", Status.FAIL),
        ("fifth", Status.SKIP),
        ("sixth", Status.SKIP),
    ]
    assert results[1].detail == "not checked: first failed"
    assert results[2].detail == "read project SS: HTTP 403"
    assert "Least privilege" in results[2].fix
    assert results[3].detail.startswith("the check itself failed (KeyError")
    assert results[5].detail == "not checked: fifth was skipped"


def test_a_line_and_the_summary() -> None:
    failed = Result("slack scopes", Status.FAIL, "the bot token lacks files:write", "add it")
    passed = Result("ledger schema", Status.OK, "version 2")

    assert failed.line() == "FAIL  slack scopes: the bot token lacks files:write -- fix: add it"
    assert passed.line() == "OK    ledger schema: version 2"
    assert summary([failed, passed]) == "doctor: 1 OK, 1 FAIL, 0 SKIP: not ready"
