"""sla_report end to end: the weekly Slack summary + chart, and the offline CSV/PNG report.

Every expected number is derived by hand from tests/e2e/fixtures/sla_week.yaml (its header has
the per-ticket table). Week 2026-W47, goal 2 h, 24x7 calendar, computed from comments:

    outcomes: met 801 (30 m), 803 (75), 804 (120, exactly the goal), 805 (20), 808 (45) = 5
              breached 802 (180), 806 (270), 813 (121), 807 (never answered)    = 4
              pending 809 (created 1 h before the week ended, not answered)      = 1
    created = 10; compliance = 5 / (5 + 4) = 55.555...% -> "55.6%"
    answered times sorted: 20 30 45 75 120 121 180 270 (n = 8), nearest rank:
              p50 = rank ceil(0.5 * 8) = 4 -> 75 m = 1 h 15 m
              p90 = rank ceil(0.9 * 8) = ceil(7.2) = 8 -> 270 m = 4 h 30 m
    breaches by organization: Sunrise Solar Co 2 (802, 806), (none) 1 (807), Bright Path 1 (813)
    breaches by request type: Billing 2 (802, 807), Get help 1 (806), Training 1 (813)
    per day (created / p90 / breaches):
              Mon 16: 2 / 180 (rank ceil(1.8) = 2 of [30, 180]) / 1
              Tue 17: 1 / 75 / 0      Wed 18: 2 / 120 (of [20, 120]) / 0
              Thu 19: 1 / 270 / 1     Fri 20: 2 / 121 (807 has no time) / 2
              Sat 21: 1 / 45 / 0      Sun 22: 1 / none / 0
    oldest open unassigned at Mon 23 08:00: SS-812 (Nov 10), SS-807, SS-809, SS-811
    With sla_source: jira, Jira's SLA on SS-809 is already breached at 08:00 Monday (9 h), so
    breached = 5, pending = 0, compliance = 5 / 10 = 50.0%; the response times are the same.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=NY)  # Monday 08:00, the scheduled time
NOW_ISO = NOW.isoformat()
CHANNEL = "#support-sla"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def stack(desk):
    return desk("sla_week.yaml", now=NOW)


def _all_text(message) -> str:
    return message.text + "\n" + json.dumps(message.blocks or [], ensure_ascii=False)


def test_it_posts_last_weeks_numbers_and_a_chart(desk, stack, tmp_path):
    report_path = tmp_path / "report.json"
    result = desk.run("run", "sla_report", "--now", NOW_ISO, "--report", str(report_path))
    assert result.code == 0, result.err

    summary = stack.slack.messages_in(CHANNEL)[0]
    text = _all_text(summary)
    assert "SLA report 2026-W47 (Nov 16 – Nov 22, 2026)" in text
    assert "10 tickets, 55.6% answered within 2 h, p50 1 h 15 m, p90 4 h 30 m, 4 breached" in (
        summary.text
    )
    assert "55.6% (5 of 9)" in text
    assert "p50 1 h 15 m · p90 4 h 30 m" in text
    assert "4 (1 never answered)" in text
    assert "Sunrise Solar Co 2, (none) 1, Bright Path Energy LLC 1" in text
    assert "Billing 2, Get help 1, Training 1" in text
    oldest = [text.index(key) for key in ("SS-812", "SS-807", "SS-809", "SS-811")]
    assert oldest == sorted(oldest)

    (chart,) = stack.slack.files.values()
    assert chart.filename == "sla_2026-W47.png"
    assert chart.content and chart.content.startswith(PNG_MAGIC) and len(chart.content) > 5000

    facts = json.loads(report_path.read_text())["findings"][0]["facts"]
    assert (facts["created"], facts["met"], facts["breached"], facts["pending"]) == (10, 5, 4, 1)
    assert facts["compliance_percent"] == 55.6
    assert (facts["p50_seconds"], facts["p90_seconds"]) == (75 * 60, 270 * 60)
    days = [(d["date"], d["created"], d["p90_seconds"], d["breaches"]) for d in facts["days"]]
    assert days == [
        ("2026-11-16", 2, 180 * 60, 1),
        ("2026-11-17", 1, 75 * 60, 0),
        ("2026-11-18", 2, 120 * 60, 0),
        ("2026-11-19", 1, 270 * 60, 1),
        ("2026-11-20", 2, 121 * 60, 2),
        ("2026-11-21", 1, 45 * 60, 0),
        ("2026-11-22", 1, None, 0),
    ]
    assert facts["breached_tickets"] == ["SS-802", "SS-806", "SS-807", "SS-813"]
    assert [t["key"] for t in facts["oldest_unassigned"]] == [
        "SS-812",
        "SS-807",
        "SS-809",
        "SS-811",
    ]


def test_it_reads_jiras_sla_field_when_configured(desk, stack, tmp_path):
    desk.reconfigure({"jobs": {"sla_report": {"sla_source": "jira"}}})
    report_path = tmp_path / "report.json"
    result = desk.run("run", "sla_report", "--now", NOW_ISO, "--report", str(report_path))
    assert result.code == 0, result.err
    facts = json.loads(report_path.read_text())["findings"][0]["facts"]
    assert (facts["met"], facts["breached"], facts["pending"]) == (5, 5, 0)
    assert facts["compliance_percent"] == 50.0
    assert (facts["p50_seconds"], facts["p90_seconds"]) == (75 * 60, 270 * 60)
    assert facts["source"] == "jira"


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
    assert f"[slack_file] -> {CHANNEL}" in result.out
    assert "filename=sla_2026-W47.png" in result.out
    assert "55.6% answered within 2 h" in result.out
    assert "\\x89PNG" not in result.out  # the chart's bytes are not printed
    assert stack.slack.messages == [] and stack.slack.files == {}


def _read_csv(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_it_writes_the_week_as_csv_and_png_offline(desk, stack, tmp_path):
    out_dir = tmp_path / "out"
    result = desk.run("report", "sla", "--week", "2026-W47", "--out", str(out_dir))
    assert result.code == 0, result.err
    for name in ("sla_2026-W47.csv", "sla_2026-W47_summary.csv", "sla_2026-W47.png"):
        assert f"wrote {out_dir / name}" in result.out

    rows = {r["key"]: r for r in _read_csv(out_dir / "sla_2026-W47.csv")}
    assert sorted(rows) == [f"SS-{n}" for n in (801, 802, 803, 804, 805, 806, 807, 808, 809, 813)]
    assert (rows["SS-804"]["outcome"], rows["SS-804"]["first_response_minutes"]) == ("met", "120.0")
    assert (rows["SS-802"]["outcome"], rows["SS-802"]["responder"]) == ("breached", "Maya Patel")
    assert rows["SS-802"]["first_response_minutes"] == "180.0"  # not the bot, customer or note
    assert (rows["SS-807"]["outcome"], rows["SS-807"]["first_response_minutes"]) == ("breached", "")
    assert rows["SS-809"]["outcome"] == "pending"
    # Ticket text that a spreadsheet would run as a formula is quoted.
    assert rows["SS-809"]["summary"].startswith("'=HYPERLINK(")
    assert rows["SS-801"]["day"] == "2026-11-16"

    summary = {
        (r["section"], r["name"], r["metric"]): r["value"]
        for r in _read_csv(out_dir / "sla_2026-W47_summary.csv")
    }
    assert summary[("summary", "", "tickets_created")] == "10"
    assert summary[("summary", "", "compliance_percent")] == "55.6"
    assert summary[("summary", "", "p50_minutes")] == "75.0"
    assert summary[("summary", "", "p90_minutes")] == "270.0"
    assert summary[("day", "2026-11-20", "breaches")] == "2"
    assert summary[("breaches_by_organization", "Sunrise Solar Co", "breaches")] == "2"
    assert summary[("breaches_by_request_type", "Billing", "breaches")] == "2"

    png = (out_dir / "sla_2026-W47.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 5000
    assert stack.slack.messages == []  # offline means offline


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
