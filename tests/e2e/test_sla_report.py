"""sla_report end to end: the weekly Slack summary + chart, and the offline CSV/PNG report.

Every expected number is derived by hand in the header of tests/e2e/fixtures/sla_week.yaml
(week 2026-W47, goal 2 h, 24x7 calendar, computed from comments, as of the week's end):
10 created = 5 met + 4 breached (3 late, 1 no answer) + 1 open; 50.0%; p50 2 h, p90 > 4 h 30 m.

The report for a past week must not move: the same files, byte for byte, and the same Slack
summary when it is generated days later, after replies, closes and other jobs' actions, with
the action switches on or off (checked on that week and on the demo desk's week 2026-W48).
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.conftest import CONFIG, ROOT
from tests.e2e.conftest import Desk

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=NY)  # Monday 08:00, the scheduled time
NOW_ISO = NOW.isoformat()
CHANNEL = "#support-sla"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FILES = ("sla_2026-W47.csv", "sla_2026-W47_summary.csv", "sla_2026-W47.png")
BROWSE = "https://everbright.atlassian.net"
ALL_ACTIONS = {key: True for key in yaml.safe_load(CONFIG.read_text())["actions"]}


@pytest.fixture
def stack(desk):
    return desk("sla_week.yaml", now=NOW)


def _all_text(message) -> str:
    return message.text + "\n" + json.dumps(message.blocks or [], ensure_ascii=False)


def _read_csv(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _summary_values(path) -> dict[tuple[str, str, str], str]:
    return {(r["section"], r["name"], r["metric"]): r["value"] for r in _read_csv(path)}


def _files(directory: Path, week: str = "2026-W47") -> dict[str, bytes]:
    names = (f"sla_{week}.csv", f"sla_{week}_summary.csv", f"sla_{week}.png")
    return {name: (directory / name).read_bytes() for name in names}


def _jira(desk):
    """The desk's Jira as an agent's client, to change tickets after the week."""
    from jobs.adapters.http import CallCounter, RetryBudget
    from jobs.adapters.jira import JiraAdapter

    return JiraAdapter.from_env(desk.env, counter=CallCounter(), budget=RetryBudget(30.0))


def _report_message(stack):
    (summary,) = [m for m in stack.slack.messages if m.text.startswith("SLA report")]
    return summary


def test_it_posts_last_weeks_numbers_and_a_chart(desk, stack, tmp_path):
    report_path = tmp_path / "report.json"
    result = desk.run("run", "sla_report", "--now", NOW_ISO, "--report", str(report_path))
    assert result.code == 0, result.err

    summary = stack.slack.messages_in(CHANNEL)[0]
    text = _all_text(summary)
    assert "SLA report 2026-W47 (Nov 16 – Nov 22, 2026)" in text
    assert summary.text == (
        "SLA report 2026-W47: 10 tickets created, 50.0% answered within 2 h, 4 breached "
        "(1 unanswered), 1 open within 2 h; p50 2 h, p90 &gt; 4 h 30 m"
    )
    assert "*50.0%* of *10* tickets answered within 2 h (5 of 10)" in text
    assert "3 answered late, 1 no answer" in text
    assert "p50 2 h · p90 &gt; 4 h 30 m\\n8 answered, 2 unanswered at the week's end" in text
    organizations = [
        ":star: Sunrise Solar Co: 2 of 4 met, 2 breached",
        ":star: Bright Path Energy LLC: 2 of 3 met, 1 breached",
        "(none): 0 of 1 met, 1 breached",
        "Acme Roofing: 1 of 2 met, 0 breached, 1 open",
    ]
    positions = [text.index(line) for line in organizations]
    assert positions == sorted(positions)
    assert "Billing: 0 of 2 met, 2 breached" in text
    assert "(unassigned): 0 of 2 met, 1 breached, 1 open" in text
    worst = [text.index(f"/browse/{key}|{key}>") for key in ("SS-807", "SS-806", "SS-802")]
    assert worst == sorted(worst)
    assert "no answer after 2 d 13 h" in text
    jql = "key%20in%20%28SS-807%2C%20SS-806%2C%20SS-802%2C%20SS-813%29%20ORDER%20BY%20created%20ASC"
    assert f"/issues/?jql={jql}|All 4 breached tickets in Jira>" in text
    waiting = text[text.index("Open and unassigned when the week ended") :]
    oldest = [waiting.index(key) for key in ("SS-812|", "SS-807|", "SS-809|")]
    assert oldest == sorted(oldest)
    assert "waiting 12 d 14 h" in text
    assert "SS-811" not in text  # created after the week ended

    (chart,) = stack.slack.files.values()
    assert chart.filename == "sla_2026-W47.png"
    (shared,) = [m for m in stack.slack.messages if m.files]
    assert shared.thread_ts == summary.ts  # the chart is in the summary's thread
    assert chart.content and chart.content.startswith(PNG_MAGIC) and len(chart.content) > 20000

    # One search for the week, the 8 weeks of trend and the tickets open at the week's end,
    # with the changelog: every page asks the same question.
    searches = [c.body for c in stack.jira.calls_to(r"/search/jql$", "POST")]
    assert len({b["jql"] for b in searches}) == 1
    assert 'created >= "2026/09/27"' in searches[0]["jql"]  # W40 begins Mon Sep 28
    assert all(b["expand"] == "changelog" for b in searches)

    facts = json.loads(report_path.read_text())["findings"][0]["facts"]
    assert (facts["created"], facts["met"], facts["breached"], facts["open"]) == (10, 5, 4, 1)
    assert (facts["answered"], facts["unanswered"], facts["breached_unanswered"]) == (8, 2, 1)
    assert facts["compliance_percent"] == 50.0
    assert (facts["p50_seconds"], facts["p50_lower_bound"]) == (120 * 60, False)
    assert (facts["p90_seconds"], facts["p90_lower_bound"]) == (270 * 60, True)
    days = [(d["date"], d["created"], d["met"], d["breached"], d["open"]) for d in facts["days"]]
    assert days == [
        ("2026-11-16", 2, 1, 1, 0),
        ("2026-11-17", 1, 1, 0, 0),
        ("2026-11-18", 2, 2, 0, 0),
        ("2026-11-19", 1, 0, 1, 0),
        ("2026-11-20", 2, 0, 2, 0),
        ("2026-11-21", 1, 1, 0, 0),
        ("2026-11-22", 1, 0, 0, 1),
    ]
    trend = {w["week"]: w for w in facts["trend"]}
    assert list(trend) == [f"2026-W{n}" for n in range(40, 48)]
    assert (trend["2026-W46"]["created"], trend["2026-W46"]["open"]) == (2, 1)
    assert trend["2026-W46"]["compliance_percent"] == 0.0
    assert (trend["2026-W46"]["p50_seconds"], trend["2026-W46"]["p50_lower_bound"]) == (1800, True)
    assert trend["2026-W47"]["compliance_percent"] == 50.0
    assert trend["2026-W45"]["created"] == 0 and trend["2026-W45"]["compliance_percent"] is None
    assert facts["breached_tickets"] == ["SS-802", "SS-806", "SS-807", "SS-813"]
    assert [t["key"] for t in facts["oldest_unassigned"]] == ["SS-812", "SS-807", "SS-809"]
    assert facts["oldest_unassigned"][0]["waited_seconds"] == (12 * 24 + 14) * 3600


def test_it_reads_jiras_sla_field_as_it_stood_at_the_weeks_end(desk, stack, tmp_path):
    # SS-809's Jira clock breaches at Mon 23 01:00: after the week ended, so it stays open in
    # W47's report, whether the report runs at 08:00 that Monday or two days later.
    desk.reconfigure({"jobs": {"sla_report": {"sla_source": "jira"}}})
    report_path = tmp_path / "report.json"
    result = desk.run("run", "sla_report", "--now", NOW_ISO, "--report", str(report_path))
    assert result.code == 0, result.err
    facts = json.loads(report_path.read_text())["findings"][0]["facts"]
    assert (facts["met"], facts["breached"], facts["open"]) == (5, 4, 1)
    assert facts["compliance_percent"] == 50.0
    assert (facts["p50_seconds"], facts["p90_seconds"]) == (120 * 60, 270 * 60)
    assert facts["source"] == "jira"

    stack.jira.advance(timedelta(days=2))
    later = desk.run("report", "sla", "--week", "2026-W47", "--out", str(tmp_path / "later"))
    assert later.code == 0, later.err
    summary = _summary_values(tmp_path / "later" / "sla_2026-W47_summary.csv")
    assert (summary[("summary", "", "breached")], summary[("summary", "", "open")]) == ("4", "1")
    assert summary[("summary", "", "source")] == "jira"


def test_it_reports_each_week_once(desk, stack):
    desk.run("run", "sla_report", "--now", NOW_ISO)
    before = (len(stack.slack.messages), len(stack.slack.files))
    again = desk.run("run", "sla_report", "--now", (NOW + timedelta(days=1)).isoformat())
    assert again.code == 0
    assert (len(stack.slack.messages), len(stack.slack.files)) == before
    why = desk.run("why", "2026-W47")
    assert "sla_report/weekly_report [2026-W47]" in why.out
    assert "suppressed_duplicate" in why.out


def test_it_prints_the_summary_in_a_dry_run_and_sends_nothing(desk, stack):
    result = desk.run("run", "sla_report", "--dry-run", "--now", NOW_ISO)
    assert result.code == 0, result.err
    assert f"[slack_post] -> {CHANNEL}" in result.out
    assert f"  then [slack_file] -> {CHANNEL}" in result.out  # in the summary's thread
    assert "filename=sla_2026-W47.png, thread_ts=<ts of step 1>" in result.out
    assert "50.0% answered within 2 h" in result.out
    assert "\\x89PNG" not in result.out  # the chart's bytes are not printed
    assert stack.slack.messages == [] and stack.slack.files == {}


def test_it_writes_the_week_as_csv_and_png_offline_and_prints_the_summary(desk, stack, tmp_path):
    out_dir = tmp_path / "out"
    result = desk.run("report", "sla", "--week", "2026-W47", "--out", str(out_dir))
    assert result.code == 0, result.err
    for name in FILES:
        assert f"wrote {out_dir / name}" in result.out
    assert "SLA report 2026-W47 (Nov 16 – Nov 22, 2026)" in result.out
    assert "as of Mon Nov 23 00:00 America/New_York (the week's end)" in result.out
    assert "Answered within 2 h      50.0% (5 of 10)" in result.out
    assert "Time to first response   p50 2 h · p90 > 4 h 30 m" in result.out
    assert "2026-W46          2         0.0%  > 30 m       > 5 d 14 h" in result.out
    assert "  * Sunrise Solar Co: 2 of 4 met, 2 breached" in result.out
    assert "  SS-807     Refund for a duplicate charge — no answer after 2 d 13 h" in result.out

    rows = {r["key"]: r for r in _read_csv(out_dir / "sla_2026-W47.csv")}
    assert sorted(rows) == [f"SS-{n}" for n in (801, 802, 803, 804, 805, 806, 807, 808, 809, 813)]
    assert (rows["SS-804"]["outcome"], rows["SS-804"]["first_response_minutes"]) == ("met", "120.0")
    assert (rows["SS-802"]["outcome"], rows["SS-802"]["responder"]) == ("breached", "Maya Patel")
    assert rows["SS-802"]["first_response_minutes"] == "180.0"  # not the bot, customer or note
    assert rows["SS-802"]["first_response_at"] == "2026-11-16T13:00:00-05:00"
    assert (rows["SS-807"]["outcome"], rows["SS-807"]["first_response_minutes"]) == ("breached", "")
    assert rows["SS-807"]["waited_minutes"] == "3660.0"
    assert (rows["SS-809"]["outcome"], rows["SS-809"]["waited_minutes"]) == ("open", "60.0")
    assert (rows["SS-801"]["priority_installer"], rows["SS-805"]["priority_installer"]) == (
        "yes",
        "no",
    )
    assert (rows["SS-801"]["assignee"], rows["SS-807"]["assignee"]) == ("Maya Patel", "")
    # Ticket text that a spreadsheet would run as a formula is quoted.
    assert rows["SS-809"]["summary"].startswith("'=HYPERLINK(")
    assert rows["SS-801"]["day"] == "2026-11-16"

    summary = _summary_values(out_dir / "sla_2026-W47_summary.csv")
    assert summary[("summary", "", "created")] == "10"
    assert summary[("summary", "", "compliance_percent")] == "50.0"
    assert summary[("summary", "", "p50_minutes")] == "120.0"
    assert summary[("summary", "", "p90_minutes")] == "270.0"
    assert summary[("summary", "", "p90_lower_bound")] == "yes"
    assert summary[("day", "2026-11-20", "breached")] == "2"
    assert summary[("week", "2026-W46", "open")] == "1"
    assert summary[("organization", "Sunrise Solar Co", "priority_installer")] == "yes"
    assert summary[("request_type", "Billing", "breached")] == "2"
    assert summary[("assignee", "(unassigned)", "open")] == "1"
    assert summary[("worst_breach", "SS-807", "minutes_without_answer")] == "3660.0"
    assert summary[("breached", "", "jql")] == (
        "key in (SS-807, SS-806, SS-802, SS-813) ORDER BY created ASC"
    )
    assert summary[("open_unassigned_at_week_end", "SS-812", "waited_hours")] == "302.0"

    png = (out_dir / "sla_2026-W47.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 20000
    assert stack.slack.messages == []  # offline means offline


def test_a_past_week_is_the_same_whenever_and_after_whatever_it_is_written(desk, tmp_path):
    # SS-700, from July, was still waiting unassigned when W47 ended: it is resolved on Friday,
    # long after the 8 weeks the search reads by creation, and must still be listed.
    old = tmp_path / "old_unassigned.yaml"
    old.write_text(
        json.dumps(
            {
                "tickets": [
                    {
                        "key": "SS-700",
                        "summary": "Forgotten since July",
                        "status": "Waiting for support",
                        "created": "2026-07-01T10:00:00-04:00",
                        "reporter": "kim@acme-roofing.example",
                    }
                ]
            }
        )
    )
    stack = desk("sla_week.yaml", old, now=NOW)
    first = desk.run("report", "sla", "--week", "2026-W47", "--out", str(tmp_path / "monday"))
    assert first.code == 0, first.err
    assert "  SS-700     Forgotten since July — waiting 144 d 15 h" in first.out
    posted = desk.run("run", "sla_report", "--now", NOW_ISO)
    assert posted.code == 0, posted.err
    monday = _report_message(stack)

    # Friday: the unanswered tickets get replies, one is resolved, the other jobs run with
    # every action switched on.
    stack.jira.advance(timedelta(days=4, hours=2))
    jira = _jira(desk)
    jira.add_public_comment("SS-807", "Refund issued.")
    jira.add_public_comment("SS-809", "Answered on Monday.")
    jira.add_public_comment("SS-802", "A second reply.")
    jira.transition("SS-812", "Resolved")
    jira.transition("SS-700", "Resolved")
    friday = NOW + timedelta(days=4, hours=2)
    desk.reconfigure({"actions": ALL_ACTIONS})
    assert desk.run("run", "all", "--now", friday.isoformat()).code in (0, 1)
    stack.slack.reset()

    again = desk.run("report", "sla", "--week", "2026-W47", "--out", str(tmp_path / "friday"))
    assert again.code == 0, again.err
    assert _files(tmp_path / "friday") == _files(tmp_path / "monday")
    assert again.out.replace("friday", "monday") == first.out

    # The job posts the same summary and chart for the week, from a ledger that never sent it.
    fresh = {"JOBS_LEDGER_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    desk.reconfigure({})
    late = desk.run("run", "sla_report", "--now", (NOW + timedelta(days=6)).isoformat(), env=fresh)
    assert late.code == 0, late.err
    sunday = _report_message(stack)
    assert (sunday.text, sunday.blocks) == (monday.text, monday.blocks)
    (chart,) = stack.slack.files.values()
    assert chart.content == (tmp_path / "monday" / "sla_2026-W47.png").read_bytes()


DEMO = ROOT / "emulators" / "fixtures" / "demo"
DEMO_NOW = datetime(2026, 11, 30, 10, 0, tzinfo=NY)  # Monday: the demo desk reports 2026-W48


def _demo_report(tmp_path: Path, *, actions: bool, later: timedelta | None) -> tuple:
    """The demo desk: every job runs at Monday 10:00 (and again ``later``), then W48 is written."""
    tmp_path.mkdir()
    desk = Desk(tmp_path)
    try:
        stack = desk(
            *sorted(p for p in DEMO.glob("*.yaml") if p.name != "00_people.yaml"),
            now=DEMO_NOW,
            settings={"desk": {"browse_url": BROWSE}, "actions": {k: actions for k in ALL_ACTIONS}},
        )
        assert desk.run("run", "all", "--now", DEMO_NOW.isoformat()).code in (0, 1)
        message = _report_message(stack)
        posted = (message.text, message.blocks)
        if later is not None:
            stack.jira.advance(later)
            assert desk.run("run", "all", "--now", (DEMO_NOW + later).isoformat()).code in (0, 1)
        result = desk.run("report", "sla", "--week", "2026-W48", "--out", str(tmp_path / "out"))
        assert result.code == 0, result.err
        return posted, _files(tmp_path / "out", "2026-W48"), result.out.split("\n\nwrote")[0]
    finally:
        desk.stop()


def test_the_demo_desks_week_is_the_same_with_the_actions_on_or_off_and_days_later(tmp_path):
    off = _demo_report(tmp_path / "off", actions=False, later=None)
    on_later = _demo_report(tmp_path / "on", actions=True, later=timedelta(days=6))

    assert on_later[0] == off[0]  # the Slack summary, posted the same morning
    assert on_later[1] == off[1]  # the CSV files and the chart, byte for byte
    assert on_later[2] == off[2]  # the terminal summary
    text = off[0][0]
    # 22 tickets were created in the week and 15 of them had no answer when it ended: they
    # count, and p50 lands among them.
    assert text == (
        "SLA report 2026-W48: 22 tickets created, 18.2% answered within 2 h, 18 breached "
        "(15 unanswered), 0 open within 2 h; p50 &gt; 4 d, p90 &gt; 5 d 14 h"
    )
    assert "waiting 2 d 14 h" in json.dumps(off[0][1])  # SS-200 at the week's end, not later


def test_it_reads_past_the_comments_a_search_truncates(desk, tmp_path):
    # Jira's search returns the oldest 20 comments; the agent's reply here is the 23rd.
    created = datetime(2026, 11, 10, 9, 0, tzinfo=NY)  # week 2026-W46
    chatter = [
        {
            "author": "pat@talkative.example",
            "body": f"Also: {n}",
            "created": (created + timedelta(minutes=n)).isoformat(),
        }
        for n in range(1, 23)
    ]
    reply = {
        "author": "Maya Patel",
        "body": "Answered.",
        "created": (created + timedelta(minutes=150)).isoformat(),
    }
    extra = tmp_path / "chatty.yaml"
    extra.write_text(
        json.dumps(
            {
                "tickets": [
                    {
                        "key": "SS-899",
                        "summary": "Many follow-ups",
                        "status": "In Progress",
                        "created": created.isoformat(),
                        "assignee": "maya.patel@goeverbright.example",
                        "reporter": "pat@talkative.example",
                        "comments": [*chatter, reply],
                    }
                ]
            }
        )
    )
    desk("sla_week.yaml", extra, now=NOW)
    out_dir = tmp_path / "out"
    result = desk.run("report", "sla", "--week", "2026-W46", "--out", str(out_dir))
    assert result.code == 0, result.err
    rows = {r["key"]: r for r in _read_csv(out_dir / "sla_2026-W46.csv")}
    assert rows["SS-899"]["first_response_minutes"] == "150.0"
    assert rows["SS-899"]["outcome"] == "breached"


@pytest.mark.parametrize("week", ["2026-47", "2027-W53", "last week"])
def test_it_refuses_a_malformed_week_with_one_line(desk, stack, tmp_path, week):
    result = desk.run("report", "sla", "--week", week, "--out", str(tmp_path / "out"))
    assert result.code == 2
    assert "2026-W47" in result.err and len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_it_needs_jira_credentials_for_the_offline_report(desk, stack, tmp_path):
    result = desk.run(
        "report", "sla", "--week", "2026-W47", "--out", str(tmp_path), env={"JIRA_API_TOKEN": ""}
    )
    assert result.code == 2
    assert "JIRA_API_TOKEN" in result.err


# -- history: these need the Jira emulator to keep a changelog -------------------------------


def test_a_ticket_assigned_after_the_week_was_open_and_unassigned_when_it_ended(desk, tmp_path):
    # SS-820 came in on Friday unassigned and was assigned only on Tuesday, after the week
    # ended: Jira shows Maya as its assignee now, the changelog says since when.
    extra = tmp_path / "assigned_later.yaml"
    extra.write_text(
        json.dumps(
            {
                "tickets": [
                    {
                        "key": "SS-820",
                        "summary": "Assigned only on Tuesday",
                        "status": "In Progress",
                        "created": "2026-11-20T09:00:00-05:00",
                        "reporter": "kim@acme-roofing.example",
                        "history": [
                            {
                                "at": "2026-11-24T10:00:00-05:00",
                                "field": "assignee",
                                "to": "maya.patel@goeverbright.example",
                            }
                        ],
                    }
                ]
            }
        )
    )
    desk("sla_week.yaml", extra, now=NOW + timedelta(days=2))
    out_dir = tmp_path / "out"
    result = desk.run("report", "sla", "--week", "2026-W47", "--out", str(out_dir))
    assert result.code == 0, result.err
    rows = {r["key"]: r for r in _read_csv(out_dir / "sla_2026-W47.csv")}
    assert rows["SS-820"]["assignee"] == ""
    summary = _summary_values(out_dir / "sla_2026-W47_summary.csv")
    assert ("open_unassigned_at_week_end", "SS-820", "waited_hours") in summary


def test_assigning_a_ticket_after_the_week_does_not_change_its_report(desk, stack, tmp_path):
    first = desk.run("report", "sla", "--week", "2026-W47", "--out", str(tmp_path / "before"))
    assert first.code == 0, first.err
    stack.jira.advance(timedelta(days=1))
    _jira(desk).edit("SS-807", {"assignee": {"accountId": "acc-maya-patel"}})
    assert stack.jira.issue("SS-807").assignee == "acc-maya-patel"
    again = desk.run("report", "sla", "--week", "2026-W47", "--out", str(tmp_path / "after"))
    assert again.code == 0, again.err
    assert _files(tmp_path / "after") == _files(tmp_path / "before")
