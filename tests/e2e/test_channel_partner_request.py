"""SOP 002 through the CLI: CS tasks for channel partner requests, then the customer reply."""

from __future__ import annotations

import json
import re
import shutil
import signal
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import ROOT, deep_merge
from tests.e2e.conftest import finish

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
NOW_ISO = NOW.isoformat()
CHANNEL = "#support-sla"
FIXTURE = "channel_partner.yaml"
JOB = "channel_partner_request"
PROPERTY = "sla-monitor.cs-task"
"""What earlier versions of the job wrote on the SS ticket after creating its CS task."""
# The shared people file gives Cherish Sharma this Jira account.
QA = {
    "people": {
        "qa_assignee": {
            "name": "Cherish Sharma",
            "email": "cherish.sharma@goeverbright.example",
            "jira_account_id": "acc-cherish-sharma",
        }
    }
}
ONE_WRITE_AT_A_TIME = {"run": {"max_parallel_writes": 1}}
"""For a kill after the Nth write: one write in flight at a time."""
CREATE = deep_merge(QA, {"actions": {"create_cs_tasks": True}})
REPLY = deep_merge(QA, {"actions": {"reply_channel_partner": True}})
FIXTURE_CS_KEYS = {"CS-1", "CS-503", "CS-504", "CS-505", "CS-509", "CS-510", "CS-511", "CS-512"}
ONBOARDING_BOT = "the reporter is the onboarding automation account (EverBright Onboarding)"
NO_REPORTER = "the ticket has no reporter to email"
SENT_NOTICE = 'sent "New Channel Req 2" to the customer'
HANDLED = "Channel partner requests handled"
"""The heading of the notice of what the job did on the desk's behalf."""


def run(desk, *extra: str, at: datetime = NOW, report: Path | None = None):
    args = ["run", JOB, "--now", at.isoformat(), *extra]
    if report is not None:
        args += ["--report", str(report)]
    return desk.run(*args)


def texts(messages) -> str:
    return "\n".join(m.text for m in messages)


def creates(stack) -> list:
    return [
        c
        for c in stack.jira.calls
        if c.method == "POST" and c.path.rstrip("/").endswith("/issue") and c.status < 300
    ]


def writes(stack) -> list:
    return [
        c
        for c in stack.jira.calls
        if c.method in ("POST", "PUT", "DELETE") and "search" not in c.path
    ]


def cs_links(stack, key: str) -> list[str]:
    return sorted(link["key"] for link in stack.jira.links_of(key) if link["key"].startswith("CS-"))


def public_bodies(stack, key: str) -> list[str]:
    return [c.body for c in stack.jira.comments_of(key) if c.public]


def label(ss_key: str) -> str:
    return f"sla-monitor-{ss_key}"


def jira_calls(stack) -> Counter[str]:
    """Every Jira request, by method and path with issue keys folded."""
    return Counter(
        f"{c.method} {re.sub(r'/[A-Z]+-[0-9]+', '/KEY', c.path)}" for c in stack.jira.calls
    )


def handled(stack) -> list[str]:
    """The texts of the "requests handled" notices in the alert channel, oldest first."""
    return [m.text for m in stack.slack.messages_in(CHANNEL) if HANDLED in m.text]


def handled_lines(stack, key: str) -> list[str]:
    return [line for text in handled(stack) for line in text.splitlines() if key in line]


def pending_notices(tmp_path: Path) -> list[str]:
    """The requests whose steps the ledger keeps until the notice naming them is posted."""
    from jobs.ledger import open_ledger
    from jobs.pipeline.steps import DONE, decode_step

    ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        return sorted(
            chain.records[0].item
            for chain in ledger.chains(JOB)
            if any(
                step.action.kind == "slack_notice" and step.status != DONE
                for step in map(decode_step, chain.steps)
            )
        )
    finally:
        ledger.close()


def finding(report_path: Path, rule: str, item: str) -> dict:
    report = json.loads(report_path.read_text())
    (found,) = [f for f in report["findings"] if (f["rule"], f["item"]) == (rule, item)]
    return found


# -- alerting (the default) ------------------------------------------------------------------


def test_it_alerts_support_once_and_a_rerun_is_silent(desk, tmp_path: Path) -> None:
    stack = desk(FIXTURE, now=NOW, settings=QA)
    report_path = tmp_path / "report.json"

    first = run(desk, report=report_path)

    assert first.code == 0, first.err
    channel = texts(stack.slack.messages_in(CHANNEL))
    # SS-501: Friday's request, no CS task; the dates to set count from Friday.
    assert "SS-501" in channel and "Green Light Solar" in channel
    assert "due 2026-11-25, configuration 2026-11-24, QA 2026-11-25" in channel
    # CS-503: the task exists but two fields are wrong; each is named.
    assert "CS-503" in channel
    assert "Priority is Medium, expected High" in channel
    assert "QA Assignee is missing, expected Cherish Sharma" in channel
    # SS-504: the CS work is done and the customer has not been told.
    assert "SS-504" in channel and "check it for outstanding issues" in channel
    # SS-509, SS-511: a Jira reply would not reach the customer: support is told why.
    assert f"from CXone to the customer on the form ({ONBOARDING_BOT})" in channel
    assert f"({NO_REPORTER})" in channel
    # SS-512: an internal draft with the Ref line never reached the customer.
    assert "SS-512" in channel
    for quiet in ("SS-502", "SS-505", "SS-506", "SS-507", "SS-508", "CS-510"):
        assert quiet not in channel
    report = json.loads(report_path.read_text())
    rules = sorted((f["rule"], f["item"]) for f in report["findings"])
    assert rules == [
        ("cs_task_fields", "CS-503"),
        ("cs_task_missing", "SS-501"),
        ("customer_reply_due", "SS-504"),
        ("customer_reply_due", "SS-509"),
        ("customer_reply_due", "SS-511"),
        ("customer_reply_due", "SS-512"),
    ]
    # SS-501..505, 508, 509, 511, 512 are open requests; SS-507 is not one, SS-506 is closed.
    assert report["examined"] == 9
    assert writes(stack) == []  # alerting changes nothing in Jira
    assert len([c for c in stack.jira.calls if "search" in c.path]) == 2

    sent = len(stack.slack.messages)
    second = run(desk, at=NOW + timedelta(minutes=15))
    assert second.code == 0, second.err
    assert len(stack.slack.messages) == sent


def test_it_names_the_decision_for_why(desk) -> None:
    desk(FIXTURE, now=NOW, settings=QA)
    assert run(desk).code == 0

    why = desk.run("why", "SS-501")

    assert why.code == 0, why.err
    assert "channel_partner_request/cs_task_missing" in why.out


# -- creating the CS task ------------------------------------------------------------------------


def test_it_creates_each_cs_task_once_with_the_sop_fields(desk, tmp_path: Path) -> None:
    stack = desk(FIXTURE, now=NOW, settings=CREATE)

    first = run(desk, report=tmp_path / "r1.json")

    assert first.code == 0, first.err
    assert len(creates(stack)) == 2  # SS-501 and SS-502 (created at once, no grace needed)
    (task_key,) = cs_links(stack, "SS-501")
    assert task_key not in FIXTURE_CS_KEYS
    task = stack.jira.issue(task_key)
    assert task.project == "CS"
    assert task.issuetype == "Task"
    assert task.priority == "High"
    assert task.summary == "A New Channel Partner Request for Green Light Solar"
    assert "Channel Manager | Sunrise Solar Co" in task.description
    assert task.parent == "CS-1"
    assert task.qa_assignee == "acc-cherish-sharma"
    # Friday's request: 3 business days out is Wednesday, 2 is Tuesday.
    assert (task.due_date, task.configuration_date, task.qa_due_date) == (
        date(2026, 11, 25),
        date(2026, 11, 24),
        date(2026, 11, 25),
    )
    # The task names its request in a label, set by the create call itself.
    assert task.labels == [label("SS-501")]
    assert PROPERTY not in stack.jira.issue("SS-501").properties
    # Monday's request: Thanksgiving (Thursday) is skipped, so 3 business days out is Friday.
    (monday_task,) = cs_links(stack, "SS-502")
    created = stack.jira.issue(monday_task)
    assert (created.due_date, created.configuration_date, created.qa_due_date) == (
        date(2026, 11, 27),
        date(2026, 11, 25),
        date(2026, 11, 27),
    )
    report = json.loads((tmp_path / "r1.json").read_text())
    kinds = sorted(a["kind"] for a in report["actions"] if a["status"] == "sent")
    assert kinds.count("jira_create") == 2 and kinds.count("jira_link") == 2
    notice = texts(stack.slack.messages_in(CHANNEL))
    assert f"created {task_key} (due 2026-11-25)" in notice

    # A rerun, and a rerun with the ledger lost: Jira's links say the work is done.
    assert run(desk, at=NOW + timedelta(minutes=15)).code == 0
    (tmp_path / "ledger.db").unlink()
    assert run(desk, at=NOW + timedelta(minutes=30)).code == 0
    assert len(creates(stack)) == 2
    assert cs_links(stack, "SS-501") == [task_key]


def test_a_task_created_by_a_run_that_crashed_before_linking_is_linked_not_duplicated(
    desk, tmp_path: Path
) -> None:
    stack = desk(FIXTURE, now=NOW, settings=CREATE)
    # What a crash between "create" and "link" leaves behind: the task, with its label.
    orphan = stack.jira.add_issue(
        project="CS",
        issuetype="Task",
        summary="A New Channel Partner Request for Green Light Solar",
        status="To Do",
        created="-5m",
        priority="High",
        parent="CS-1",
        labels=[label("SS-501")],
    )
    # ... and a task an agent made by hand and forgot to link: only the same title.
    lost = stack.jira.add_issue(
        project="CS",
        issuetype="Task",
        summary="A New Channel Partner Request for Maple Grove Electric",
        status="To Do",
        created="-5m",
    )

    result = run(desk, report=tmp_path / "report.json")

    assert result.code == 0, result.err
    assert creates(stack) == []
    assert cs_links(stack, "SS-501") == [orphan]
    assert cs_links(stack, "SS-502") == [lost]
    assert finding(tmp_path / "report.json", "cs_task_unlinked", "SS-501")["facts"]["source"] == (
        "label"
    )
    assert finding(tmp_path / "report.json", "cs_task_unlinked", "SS-502")["facts"]["source"] == (
        "summary"
    )
    notice = texts(stack.slack.messages_in(CHANNEL))
    assert f"linked {orphan}, created earlier but never linked" in notice
    assert f"linked {lost}, created earlier but never linked" in notice


def test_the_label_finds_the_task_even_after_its_title_changed_and_it_was_closed(desk) -> None:
    stack = desk(FIXTURE, now=NOW, settings=CREATE)
    # Created by a run that then crashed; since then an agent renamed it and closed it.
    orphan = stack.jira.add_issue(
        project="CS",
        issuetype="Task",
        summary="Green Light Solar: channel partner setup",
        status="Done",
        created="-40m",
        labels=[label("SS-501")],
    )

    assert run(desk).code == 0

    assert cs_links(stack, "SS-501") == [orphan]
    assert [c.body["fields"]["summary"] for c in creates(stack)] == [
        "A New Channel Partner Request for Maple Grove Electric"
    ]


def test_a_task_recorded_in_the_legacy_property_is_still_linked(desk) -> None:
    stack = desk(FIXTURE, now=NOW, settings=CREATE)
    # An earlier version of the job recorded the task on the request instead of labelling it.
    orphan = stack.jira.add_issue(
        project="CS",
        issuetype="Task",
        summary="Green Light Solar onboarding",
        status="To Do",
        created="-5m",
    )
    stack.jira.issue("SS-501").properties[PROPERTY] = {"key": orphan}

    assert run(desk).code == 0

    assert cs_links(stack, "SS-501") == [orphan]
    assert len(creates(stack)) == 1  # SS-502's only


def test_creating_a_task_costs_one_create_and_one_link(desk, tmp_path: Path) -> None:
    alerting = desk(FIXTURE, now=NOW, settings=QA)
    assert run(desk).code == 0
    reading = jira_calls(alerting)
    desk.stop()
    (tmp_path / "ledger.db").unlink()  # the same desk afresh, acting this time

    stack = desk(FIXTURE, now=NOW, settings=CREATE)
    assert run(desk).code == 0

    # Two tasks (SS-501, SS-502): a create and a link each, and no re-check search (the run's
    # search for the tasks asked for their trace labels already); nothing is written back to
    # the requests (the label rides in the create call).
    extra = jira_calls(stack) - reading
    assert extra == Counter(
        {
            "POST /rest/api/2/issue": 2,
            "POST /rest/api/2/issueLink": 2,
        }
    )
    assert reading["POST /rest/api/3/search/jql"] == 2  # the labels ride in the CS search
    assert not [c for c in stack.jira.calls if "/properties/" in c.path]


def test_it_asks_for_at_most_100_labels_per_search(desk, tmp_path: Path) -> None:
    stack = desk(FIXTURE, now=NOW, settings=QA)
    added = [
        stack.jira.add_issue(
            project="SS",
            issuetype="Service Request",
            summary=f"A New Channel Partner Request for Solar Co {n}",
            status="Open",
            created="-5m",
        )
        for n in range(101)
    ]
    orphan = stack.jira.add_issue(
        project="CS", issuetype="Task", summary="Setup", created="-4m", labels=[label(added[-1])]
    )

    assert run(desk, report=tmp_path / "report.json").code == 0

    searches = [
        c.body["jql"]
        for c in stack.jira.calls
        if "search" in c.path and "labels in" in c.body["jql"]
    ]
    # The main CS query (its scope names the requests' words) and a batch of labels alone,
    # read side by side: in either order.
    main = [re.findall(r'"(sla-monitor-[^"]+)"', q) for q in searches if "summary ~" in q]
    alone = [re.findall(r'"(sla-monitor-[^"]+)"', q) for q in searches if "summary ~" not in q]
    assert [len(labels) for labels in main] == [100]
    assert [len(labels) for labels in alone] == [3]  # SS-501, SS-502 and 101 more
    searched = main + alone
    assert sorted(sum(searched, [])) == sorted(label(k) for k in ["SS-501", "SS-502", *added])
    assert label(added[-1]) in alone[0]
    recovered = finding(tmp_path / "report.json", "cs_task_unlinked", added[-1])
    assert (recovered["facts"]["source"], recovered["facts"]["cs_key"]) == ("label", orphan)


def test_a_run_killed_right_after_creating_a_task_never_creates_a_second(
    desk, tmp_path: Path
) -> None:
    # One write at a time: the kill comes right after SS-501's task, before SS-502's.
    stack = desk(FIXTURE, now=NOW, settings=deep_merge(CREATE, ONE_WRITE_AT_A_TIME))

    code, err = finish(desk.spawn(JOB, NOW, JOBS_FAILPOINT="after_send"))

    assert code == -signal.SIGKILL, err
    (made,) = [c.body for c in creates(stack)]  # SS-501's task, then the crash
    assert made["fields"]["summary"] == "A New Channel Partner Request for Green Light Solar"
    assert made["fields"]["labels"] == [label("SS-501")]  # the only trace, set by the create
    assert cs_links(stack, "SS-501") == []  # not linked

    later = NOW + timedelta(minutes=15)  # the next scheduled run, after the claim expired
    result = run(desk, at=later, report=tmp_path / "report.json")

    assert result.code == 0, result.err
    assert len(creates(stack)) == 2  # SS-502's only
    (linked,) = cs_links(stack, "SS-501")
    assert stack.jira.issue(linked).summary == made["fields"]["summary"]
    assert stack.jira.issue(linked).labels == [label("SS-501")]
    recovered = finding(tmp_path / "report.json", "cs_task_unlinked", "SS-501")
    assert (recovered["facts"]["source"], recovered["facts"]["cs_key"]) == ("label", linked)
    assert len(cs_links(stack, "SS-502")) == 1


def test_a_run_killed_after_creating_tasks_side_by_side_never_creates_a_second(
    desk, tmp_path: Path
) -> None:
    """The creates of SS-501 and SS-502 go out together; the kill comes after the first is
    recorded as sent, so both may be in Jira with nothing in the ledger but the intent."""
    stack = desk(FIXTURE, now=NOW, settings=CREATE)

    code, err = finish(desk.spawn(JOB, NOW, JOBS_FAILPOINT="after_send"))

    assert code == -signal.SIGKILL, err
    made = {c.body["fields"]["labels"][0]: c.body for c in creates(stack)}
    assert label("SS-501") in made and set(made) <= {label("SS-501"), label("SS-502")}
    assert cs_links(stack, "SS-501") == [] and cs_links(stack, "SS-502") == []

    result = run(desk, at=NOW + timedelta(minutes=15), report=tmp_path / "report.json")

    assert result.code == 0, result.err
    assert len(creates(stack)) == 2  # one task per request, whichever run made it
    for request in ("SS-501", "SS-502"):
        (linked,) = cs_links(stack, request)
        assert stack.jira.issue(linked).labels == [label(request)]
        if label(request) in made:  # made by the killed run: found by its label, not redone
            recovered = finding(tmp_path / "report.json", "cs_task_unlinked", request)
            assert (recovered["facts"]["source"], recovered["facts"]["cs_key"]) == (
                "label",
                linked,
            )


def test_a_run_killed_after_creating_with_the_ledger_lost_never_creates_a_second(
    desk, tmp_path: Path
) -> None:
    stack = desk(FIXTURE, now=NOW, settings=CREATE)

    code, err = finish(desk.spawn(JOB, NOW, JOBS_FAILPOINT="after_send"))
    assert code == -signal.SIGKILL, err
    # No claim, no record: the ledger is gone. Only Jira remembers, in the task's label.
    (tmp_path / "ledger.db").unlink()
    result = run(desk, at=NOW + timedelta(minutes=1))

    assert result.code == 0, result.err
    # One create per request, whichever landed first: the two went out side by side.
    assert sorted(c.body["fields"]["labels"] for c in creates(stack)) == [
        [label("SS-501")],
        [label("SS-502")],
    ]
    assert len(cs_links(stack, "SS-501")) == 1 and len(cs_links(stack, "SS-502")) == 1


def test_two_runs_started_together_create_each_task_once(desk) -> None:
    stack = desk(FIXTURE, now=NOW, settings=CREATE)

    first, second = desk.spawn(JOB, NOW), desk.spawn(JOB, NOW)
    codes = [finish(first), finish(second)]

    assert [code for code, _ in codes] == [0, 0], codes
    assert len(creates(stack)) == 2
    assert len(cs_links(stack, "SS-501")) == 1 and len(cs_links(stack, "SS-502")) == 1
    # Each run sees the other's announcements; each is told once, by whichever claims it. (A
    # run that read the new task before the other linked it links it too, and says so.)
    for key in ("SS-501", "SS-502"):
        told = handled_lines(stack, key)
        assert any("created CS-" in line for line in told), key
        assert len(told) == len(set(told)), told
    assert sorted(c.body["fields"]["labels"][0] for c in creates(stack)) == [
        label("SS-501"),
        label("SS-502"),
    ]


def test_a_failed_create_is_reported_and_retried_without_a_link(desk, tmp_path: Path) -> None:
    stack = desk(FIXTURE, now=NOW, settings=CREATE)
    stack.jira.inject(r"/rest/api/[23]/issue$", status=400, times=10, method="POST")

    first = run(desk, report=tmp_path / "r1.json")

    assert first.code == 1
    report = json.loads((tmp_path / "r1.json").read_text())
    assert {a["kind"] for a in report["actions"] if a["status"] == "failed"} == {"jira_create"}
    assert not any(a["kind"] == "jira_link" for a in report["actions"])
    assert cs_links(stack, "SS-501") == []

    stack.jira.clear_faults()
    second = run(desk, at=NOW + timedelta(minutes=15))
    assert second.code == 0, second.err
    assert len(cs_links(stack, "SS-501")) == 1


# -- telling the team what the job did -----------------------------------------------------------


def test_a_notice_that_failed_to_post_is_sent_by_the_next_run_then_forgotten(
    desk, tmp_path: Path
) -> None:
    stack = desk(FIXTURE, now=NOW, settings=deep_merge(CREATE, REPLY))
    stack.slack.fail_next("chat.postMessage", "channel_not_found", times=50)

    first = run(desk, report=tmp_path / "r1.json")

    assert first.code == 1
    assert len(creates(stack)) == 2 and len(public_bodies(stack, "SS-504")) == 2
    assert stack.slack.messages == []
    assert pending_notices(tmp_path) == ["SS-501", "SS-502", "SS-504", "SS-512"]

    stack.slack.clear_faults()
    second = run(desk, at=NOW + timedelta(minutes=15))  # the next scheduled run

    assert second.code == 0, second.err
    (notice,) = handled(stack)
    task_501, task_502 = cs_links(stack, "SS-501")[0], cs_links(stack, "SS-502")[0]
    assert f"created {task_501} (due 2026-11-25)" in notice
    assert f"created {task_502} (due 2026-11-27)" in notice
    (told,) = handled_lines(stack, "SS-504")
    assert SENT_NOTICE in told
    assert pending_notices(tmp_path) == []
    why = desk.run("why", "SS-504")
    assert "channel_partner_request/customer_reply" in why.out
    assert f"sent via slack_post {CHANNEL}" in why.out

    assert run(desk, at=NOW + timedelta(minutes=30)).code == 0
    assert len(handled(stack)) == 1
    assert len(creates(stack)) == 2


def test_a_notice_that_failed_to_post_goes_out_with_a_rerun_made_at_once(
    desk, tmp_path: Path
) -> None:
    # The failed post gives back its claim at once: a person rerunning the job right after
    # fixing the channel need not wait for the claim to expire.
    stack = desk(FIXTURE, now=NOW, settings=deep_merge(CREATE, REPLY))
    stack.slack.fail_next("chat.postMessage", "channel_not_found", times=50)
    assert run(desk, report=tmp_path / "r1.json").code == 1

    stack.slack.clear_faults()
    rerun = run(desk, at=NOW + timedelta(minutes=1))

    assert rerun.code == 0, rerun.err
    assert len(handled(stack)) == 1
    assert pending_notices(tmp_path) == []


def test_what_an_earlier_run_could_not_tell_goes_out_with_this_runs_steps_in_one_message(
    desk, tmp_path: Path
) -> None:
    stack = desk(FIXTURE, now=NOW, settings=CREATE)
    stack.slack.fail_next("chat.postMessage", "channel_not_found", times=50)
    assert run(desk).code == 1  # the tasks are created, nobody is told
    stack.slack.clear_faults()
    desk.reconfigure(deep_merge(CREATE, REPLY))  # the desk switches the replies on

    assert run(desk, at=NOW + timedelta(minutes=15)).code == 0

    (notice,) = handled(stack)
    for key in ("SS-501", "SS-502", "SS-504", "SS-512"):
        assert len(handled_lines(stack, key)) == 1, key
    assert SENT_NOTICE in notice


@pytest.mark.parametrize("failpoint", ["after_send", "after_record"])
def test_a_reply_sent_by_a_run_killed_before_recording_it_is_still_told(
    failpoint: str, desk, tmp_path: Path
) -> None:
    stack = desk(FIXTURE, now=NOW, settings=REPLY)

    # The first action is SS-504's reply; the kill comes before the run could tell anyone.
    code, err = finish(desk.spawn(JOB, NOW, JOBS_FAILPOINT=failpoint))

    assert code == -signal.SIGKILL, err
    assert handled(stack) == []
    assert len([b for b in public_bodies(stack, "SS-504") if "new-channel-req-2" in b]) == 1

    result = run(desk, at=NOW + timedelta(minutes=15))  # past the claim TTL: the run is dead

    assert result.code == 0, result.err
    assert len([b for b in public_bodies(stack, "SS-504") if "new-channel-req-2" in b]) == 1
    (told,) = handled_lines(stack, "SS-504")
    assert SENT_NOTICE in told
    assert len(handled_lines(stack, "SS-512")) == 1  # sent by this run
    assert pending_notices(tmp_path) == []


def test_a_link_made_by_a_run_killed_before_recording_it_is_still_told(
    desk, tmp_path: Path
) -> None:
    stack = desk(FIXTURE, now=NOW, settings=CREATE)
    orphan = stack.jira.add_issue(
        project="CS",
        issuetype="Task",
        summary="A New Channel Partner Request for Green Light Solar",
        status="To Do",
        created="-5m",
        labels=[label("SS-501")],
    )
    stack.jira.add_issue(
        project="CS",
        issuetype="Task",
        summary="A New Channel Partner Request for Maple Grove Electric",
        status="To Do",
        created="-5m",
    )

    code, err = finish(desk.spawn(JOB, NOW, JOBS_FAILPOINT="after_send"))  # SS-501's link, first
    assert code == -signal.SIGKILL, err
    assert cs_links(stack, "SS-501") == [orphan]

    assert run(desk, at=NOW + timedelta(minutes=15)).code == 0

    (told,) = handled_lines(stack, "SS-501")
    assert f"linked {orphan}, created earlier but never linked" in told
    assert len(handled_lines(stack, "SS-502")) == 1
    assert creates(stack) == []


def test_an_intent_whose_write_never_happened_is_dropped_untold(desk, tmp_path: Path) -> None:
    stack = desk(FIXTURE, now=NOW, settings=REPLY)
    stack.jira.inject(
        r"/rest/servicedeskapi/request/[^/]+/comment$", method="POST", status=400, times=10
    )

    assert run(desk).code == 1  # the replies fail: nothing reached the customers
    assert not [b for b in public_bodies(stack, "SS-504") if "new-channel-req-2" in b]
    # Refused (400), so known not to have happened: nothing is kept to tell.
    assert pending_notices(tmp_path) == []
    desk.reconfigure(QA)  # the desk switches the replies off again
    stack.jira.clear_faults()

    assert run(desk, at=NOW + timedelta(minutes=15)).code == 0

    assert handled(stack) == []
    assert pending_notices(tmp_path) == []


def test_a_dry_run_shows_the_notice_and_keeps_no_announcement(desk, tmp_path: Path) -> None:
    stack = desk(FIXTURE, now=NOW, settings=deep_merge(CREATE, REPLY))

    result = run(desk, "--dry-run")

    assert result.code == 0, result.err
    assert HANDLED in result.out
    assert "created (the issue step 1 creates) (due 2026-11-25)" in result.out
    assert SENT_NOTICE in result.out
    assert stack.slack.messages == [] and writes(stack) == []
    assert pending_notices(tmp_path) == []


# -- telling the customer --------------------------------------------------------------------


def test_it_sends_new_channel_req_2_once(desk, tmp_path: Path) -> None:
    stack = desk(FIXTURE, now=NOW, settings=REPLY)

    assert run(desk).code == 0

    replies = [b for b in public_bodies(stack, "SS-504") if "new-channel-req-2" in b]
    assert len(replies) == 1
    assert replies[0].startswith("Hi Kim,")
    assert "Summit Ridge Energy" in replies[0]
    assert replies[0].rstrip().endswith("Ref: SS-504 · new-channel-req-2")
    assert len(public_bodies(stack, "SS-505")) == 1  # already told: nothing more

    # A rerun with the ledger lost: the marker on the ticket is the proof.
    (tmp_path / "ledger.db").unlink()
    assert run(desk, at=NOW + timedelta(minutes=15)).code == 0
    assert len([b for b in public_bodies(stack, "SS-504") if "new-channel-req-2" in b]) == 1


def test_it_greets_a_customer_whose_display_name_is_an_email_address_as_there(desk) -> None:
    stack = desk(FIXTURE, now=NOW, settings=REPLY)
    task = stack.jira.add_issue(
        project="CS", issuetype="Task", summary="Sunvale setup", status="Done", created="-3d"
    )
    request = stack.jira.add_issue(
        project="SS",
        issuetype="Service Request",
        summary="A New Channel Partner Request for Sunvale Roofing",
        status="In Progress",
        created="-3d",
        reporter="casey.lin@sunvale.example",  # display name: the email address
        links=[{"type": "Relates", "direction": "outward", "key": task}],
    )

    assert run(desk).code == 0

    (reply,) = public_bodies(stack, request)
    assert reply.startswith("Hi there,\n")
    assert "casey.lin" not in reply
    assert reply.rstrip().endswith(f"Ref: {request} · new-channel-req-2")


def test_it_never_emails_a_reporter_who_is_not_the_customer(desk) -> None:
    stack = desk(FIXTURE, now=NOW, settings=REPLY)

    result = run(desk)

    assert result.code == 0, result.err
    # The onboarding automation account and a ticket without reporter get no public comment.
    assert public_bodies(stack, "SS-509") == []
    assert public_bodies(stack, "SS-511") == []
    channel = texts(stack.slack.messages_in(CHANNEL))
    assert "SS-509" in channel and f"({ONBOARDING_BOT})" in channel
    assert "SS-511" in channel and f"({NO_REPORTER})" in channel
    sent = [line for line in channel.splitlines() if SENT_NOTICE in line]
    assert any("SS-504" in line for line in sent)
    assert not any("SS-509" in line or "SS-511" in line for line in sent)

    # Still due the next day (the support alert repeats), still never sent through Jira.
    assert run(desk, at=NOW + timedelta(days=1, minutes=1)).code == 0
    assert public_bodies(stack, "SS-509") == [] and public_bodies(stack, "SS-511") == []


def test_it_takes_the_onboarding_account_from_the_settings(desk) -> None:
    # A desk whose form automation files tickets as a portal customer: only the setting tells.
    bot = {"name": "Form Bot", "email": "kim.lee@summitridge.example"}
    stack = desk(
        FIXTURE, now=NOW, settings=deep_merge(REPLY, {"people": {"onboarding_reporter": bot}})
    )

    assert run(desk).code == 0

    assert not any("new-channel-req-2" in b for b in public_bodies(stack, "SS-504"))
    channel = texts(stack.slack.messages_in(CHANNEL))
    assert "the reporter is the onboarding automation account (Kim Lee)" in channel


def test_an_internal_draft_with_the_ref_line_does_not_count_as_the_reply(desk) -> None:
    stack = desk(FIXTURE, now=NOW, settings=QA)

    assert run(desk).code == 0

    alerts = [m.text for m in stack.slack.messages_in(CHANNEL) if "SS-512" in m.text]
    assert len(alerts) == 1 and "check it for outstanding issues" in alerts[0]
    assert public_bodies(stack, "SS-512") == []  # alerting sends nothing to the customer


def test_the_reply_is_sent_once_despite_an_internal_draft_with_the_ref_line(desk) -> None:
    stack = desk(FIXTURE, now=NOW, settings=REPLY)

    assert run(desk).code == 0
    assert run(desk, at=NOW + timedelta(minutes=15)).code == 0

    (reply,) = public_bodies(stack, "SS-512")
    assert reply.startswith("Hi Pat,")
    assert reply.rstrip().endswith("Ref: SS-512 · new-channel-req-2")


def test_a_desk_template_without_the_ref_line_still_sends_the_reply_once(
    desk, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "config" / "templates", templates)
    (templates / "new_channel_req_2.j2").write_text(
        "Hi {{ customer_name }},\n\nYour channel partner request for {{ org }} is complete.\n"
    )
    stack = desk(FIXTURE, now=NOW, settings=deep_merge(REPLY, {"templates_dir": str(templates)}))

    assert run(desk).code == 0
    (tmp_path / "ledger.db").unlink()  # the ledger is lost: only the ticket remembers
    assert run(desk, at=NOW + timedelta(minutes=15)).code == 0

    (reply,) = [b for b in public_bodies(stack, "SS-504") if b.startswith("Hi Kim")]
    assert reply.startswith("Hi Kim,\n\nYour channel partner request for Summit Ridge Energy")
    assert reply.rstrip().endswith("Ref: SS-504 · new-channel-req-2")


def test_a_dry_run_prints_everything_and_changes_nothing(desk) -> None:
    stack = desk(FIXTURE, now=NOW, settings=deep_merge(CREATE, REPLY))

    result = run(desk, "--dry-run")

    assert result.code == 0, result.err
    assert "[jira_create] -> CS" in result.out
    assert "A New Channel Partner Request for Green Light Solar" in result.out
    assert "'duedate': '2026-11-25'" in result.out
    assert "then [jira_link] -> SS-501" in result.out  # the link that would follow
    assert "(the issue step 1 creates) Relates SS-501" in result.out
    assert "[jira_public_comment] -> SS-504" in result.out
    assert "Ref: SS-504 · new-channel-req-2" in result.out
    assert "Priority is Medium, expected High" in result.out
    assert writes(stack) == []
    assert stack.slack.messages == []
