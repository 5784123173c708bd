"""Before a reply that reaches a customer, the pipeline checks the ticket itself.

A trivial job asks for one public reply per ticket with a reference line; the real pipeline,
adapter and Jira emulator decide what is sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from jobs import registry
from jobs.config import JobConfig
from jobs.job import Job, JobSpec, Work
from jobs.model import Action, ActionKind, Evaluation, Finding, Severity

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
KEYS = ["SS-901", "SS-902", "SS-903"]


class ProbeConfig(JobConfig):
    schedule: str = "0 * * * *"
    drop_marker: bool = False


class ProbeJob(Job):
    spec = JobSpec("probe", "Replies once per ticket", ProbeConfig, frozenset({"jira"}))

    def fetch(self, ctx: Any) -> list[str]:
        return KEYS

    def evaluate(self, data: list[str], ctx: Any) -> Evaluation:
        return Evaluation(
            [Finding("probe", "reply", key, Severity.INFO, "reply due") for key in data]
        )

    def plan(self, work: Work[list[str]], ctx: Any) -> list[Action]:
        actions = []
        for finding in work.fresh:
            marker = f"Ref: {finding.item} · probe"
            text = "Hello!" if ctx.job_config.drop_marker else f"Hello!\n\n{marker}"
            actions.append(
                Action(ActionKind.JIRA_PUBLIC_COMMENT, finding.item, [finding], text, marker=marker)
            )
        return actions


@pytest.fixture
def probe_desk(desk, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(registry, "all_jobs", lambda: {"probe": ProbeJob})
    monkeypatch.setattr(registry, "catalog", lambda: {"probe": registry.JobEntry.of(ProbeJob)})
    from tests.conftest import write_settings

    stack = desk("ground_truth.yaml", now=NOW)
    desk.env["JOBS_CONFIG"] = str(write_settings(desk.tmp_path, only_jobs=()))
    return stack


def public_replies(stack, key: str) -> list[str]:
    return [c.body for c in stack.jira.comments_of(key) if c.public and "Hello!" in c.body]


def test_a_reference_in_a_public_comment_means_the_customer_already_has_it(desk, probe_desk):
    result = desk.run("run", "probe", "--now", NOW.isoformat())

    assert result.code == 0, result.err
    assert public_replies(probe_desk, "SS-901") == ["Hello!\n\nRef: SS-901 · probe"]
    assert public_replies(probe_desk, "SS-902") == []
    assert "already on the ticket" in desk.run("why", "SS-902").out


def test_a_reference_only_in_an_internal_note_does_not_count_as_sent(desk, probe_desk):
    desk.run("run", "probe", "--now", NOW.isoformat())

    assert len(public_replies(probe_desk, "SS-903")) == 1


def test_the_tickets_are_read_with_one_search_not_one_read_each(desk, probe_desk):
    desk.run("run", "probe", "--now", NOW.isoformat())

    searches = probe_desk.jira.calls_to(r"/search/jql$")
    assert len(searches) == 1
    assert all(key in searches[0].body["jql"] for key in KEYS)
    assert probe_desk.jira.calls_to(r"/comment$", "GET") == []


def test_a_reply_without_its_reference_line_is_refused_not_sent(desk, probe_desk):
    from tests.conftest import write_settings

    desk.env["JOBS_CONFIG"] = str(
        write_settings(desk.tmp_path, {"jobs": {"probe": {"drop_marker": True}}}, only_jobs=())
    )
    result = desk.run("run", "probe", "--now", NOW.isoformat())

    assert result.code == 1
    assert all(public_replies(probe_desk, key) == [] for key in KEYS)
    assert "missing from the text" in desk.run("why", "SS-901").out
