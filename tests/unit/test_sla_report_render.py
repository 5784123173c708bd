"""The weekly report as people read it: Slack summary, chart, terminal text and CSV files."""

from __future__ import annotations

import struct
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from jobs.calendar import BusinessCalendar
from jobs.model import ActionKind, Comment, Person, Ref, StatusCategory, Ticket, Upload
from jobs.render.sla_report import (
    chart_file,
    summary_csv,
    summary_message,
    terminal_summary,
    tickets_csv,
)
from jobs.render.slack import MAX_BLOCKS, MAX_FIELDS, MAX_SECTION_TEXT
from jobs.rules.desk import Desk, PriorityInstallers
from jobs.rules.sla_report import IsoWeek, SlaReportConfig, evaluate_report
from jobs.scheduled.sla_report import report_actions

NY = ZoneInfo("America/New_York")
CAL = BusinessCalendar.twenty_four_seven(NY)
WEEK = IsoWeek(2026, 47)
START = datetime(2026, 11, 16, 0, 0, tzinfo=NY)
END = datetime(2026, 11, 23, 0, 0, tzinfo=NY)
H = timedelta(hours=1)
M = timedelta(minutes=1)
CONFIG = SlaReportConfig(automation_accounts=[])
BROWSE = "https://everbright.atlassian.net"
UNLINKED = Desk(priority_installers=PriorityInstallers(("Sunrise Solar Co",)))
DESK = replace(UNLINKED, browse_url=BROWSE)
AGENT = Person("acc-maya", "Maya Patel")
CUSTOMER = Person("qm:pat", "Pat Customer")


def ticket(key, created, reply_after=None, **fields) -> Ticket:
    comments = ()
    if reply_after is not None:
        comments = (Comment("1", AGENT, "Hi", created + reply_after),)
    base = Ticket(
        key=key,
        summary=f"Request {key}",
        status="Open",
        status_category=StatusCategory.NEW,
        created=created,
        reporter=CUSTOMER,
        assignee=AGENT,
        organizations=("Sunrise Solar Co",),
        request_type="Get help",
        comments=comments,
        comments_total=len(comments),
    )
    return replace(base, **fields)


def the_week(extra=(), reverse=False):
    tickets = [
        ticket("SS-1", START + 9 * H, 30 * M),
        ticket("SS-2", START + 10 * H, 3 * H, organizations=("Acme Roofing",)),
        ticket("SS-3", START + 4 * 24 * H, None, assignee=None),
        ticket("SS-4", END - H, None, assignee=None),
        ticket("SS-5", START - 7 * 24 * H + 5 * H, 10 * M),  # the week before
        *extra,
    ]
    if reverse:  # the search's order must not matter
        tickets.reverse()
    evaluation, report = evaluate_report(tickets, WEEK, CONFIG, DESK, CAL)
    return evaluation, report


def _texts(blocks):
    for block in blocks:
        if "text" in block and isinstance(block["text"], dict):
            yield block["text"]["text"]
        for item in block.get("fields", []) + block.get("elements", []):
            yield item["text"]


def test_the_summary_leads_with_the_figures_and_counts_every_ticket():
    _, report = the_week()
    message = summary_message(report)
    texts = list(_texts(message.blocks))
    assert message.blocks[0]["type"] == "header"
    assert texts[0] == "SLA report 2026-W47 (Nov 16 – Nov 22, 2026)"
    assert texts[1] == (
        "*25.0%* of *4* tickets answered within 2 h (1 of 4) · 100.0% the week before "
        "(−75.0 pts); 40.0% over 8 weeks (2 of 5)"
    )
    assert "*Breached*\n2: 1 answered late, 1 no answer" in texts
    # answered 30 m, 3 h; unanswered waits 1 h (SS-4), 3 d (SS-3); n = 4: p50 rank 2 -> 3 h,
    # p90 rank 4 -> SS-3, "> 3 d"; escaped for mrkdwn
    assert "*Time to first response*\np50 3 h · p90 &gt; 3 d\n" in "\n".join(texts)
    assert "2 answered, 2 unanswered at the week's end" in "\n".join(texts)
    assert message.text == (
        "SLA report 2026-W47: 4 tickets created, 25.0% answered within 2 h, 2 breached "
        "(1 unanswered), 1 open within 2 h; p50 3 h, p90 &gt; 3 d"
    )
    joined = "\n".join(texts)
    assert "• :star: Sunrise Solar Co: 1 of 3 met, 1 breached, 1 open" in joined
    assert f"<{BROWSE}/browse/SS-3|SS-3> Request SS-3 — no answer after 3 d" in joined
    assert f"<{BROWSE}/issues/?jql=key%20in%20%28SS-3%2C%20SS-2%29" in joined
    assert "All 2 breached tickets in Jira>" in joined


def test_the_summary_escapes_ticket_text_and_stays_within_slacks_limits():
    crowd = [
        ticket(
            f"SS-{100 + n}",
            START + n * M,
            None,
            organizations=(f"<!channel> Org {n:02d} & co",),
            summary="<!here> " + "x" * 400,
        )
        for n in range(60)
    ]
    _, report = the_week(crowd)
    message = summary_message(report)
    assert len(message.blocks) <= MAX_BLOCKS
    for block in message.blocks:
        assert len(block.get("fields", [])) <= MAX_FIELDS
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= MAX_SECTION_TEXT
    joined = "\n".join(_texts(message.blocks))
    assert "<!channel>" not in joined and "<!here>" not in joined
    assert "&lt;!channel&gt; Org" in joined
    assert "… and 56 more in the CSV" in joined  # 62 organizations, 6 shown
    assert "    … and 47 more in the summary CSV\n" in terminal_summary(report)  # 15 shown


def test_the_chart_is_a_png_for_the_summarys_thread_and_the_same_bytes_every_time():
    _, report = the_week()
    chart = chart_file(report)
    assert chart.content == chart_file(report).content
    assert chart.content.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", chart.content[16:24])
    assert (width, height) == (1200, 750)
    assert (chart.filename, chart.title) == ("sla_2026-W47.png", "First response 2026-W47")

    evaluation, _ = the_week()
    (post,) = report_actions(report, "#support-sla", evaluation.findings)
    (upload,) = post.then
    assert (post.kind, upload.kind) == (ActionKind.SLACK_POST, ActionKind.SLACK_FILE)
    assert (post.text, post.blocks) == (
        summary_message(report).text,
        summary_message(report).blocks,
    )
    assert (upload.target, upload.thread_ts) == (Ref(0, "channel"), Ref(0, "ts"))
    assert upload.upload == Upload(chart.content, chart.filename, chart.title)


def test_the_chart_draws_an_empty_week_and_a_business_hours_week():
    _, empty = evaluate_report([], WEEK, CONFIG, UNLINKED, CAL)
    assert chart_file(empty).content.startswith(b"\x89PNG")
    business = BusinessCalendar.business(NY, {d: (time(9), time(17)) for d in range(5)})
    _, report = evaluate_report(
        [ticket("SS-1", START + 2 * H, 20 * 24 * H)], WEEK, CONFIG, UNLINKED, business
    )
    assert chart_file(report).content.startswith(b"\x89PNG")


def test_the_terminal_summary_says_the_same_in_plain_text():
    _, report = the_week()
    text = terminal_summary(report)
    assert "as of Mon Nov 23 00:00 America/New_York (the week's end), 24x7 calendar" in text
    assert "Answered within 2 h      25.0% (1 of 4)" in text
    assert "Time to first response   p50 3 h · p90 > 3 d" in text
    assert "2026-W46          1       100.0%  10 m         10 m" in text
    assert "  * Sunrise Solar Co: 1 of 3 met, 1 breached, 1 open" in text
    assert f"Breached tickets in Jira: {BROWSE}/issues/?jql=key%20in%20" in text


def test_the_csv_files_are_the_same_bytes_every_time_and_quote_formulas():
    formula = ticket("SS-9", START + H, 5 * M, summary="=cmd|' /C calc'!A0")
    _, report = the_week([formula])
    _, again = the_week([formula], reverse=True)
    assert tickets_csv(report) == tickets_csv(again)
    assert summary_csv(report) == summary_csv(again)
    lines = tickets_csv(report).splitlines()
    assert lines[0] == (
        "key,created,day,first_response_at,first_response_minutes,waited_minutes,outcome,"
        "organization,priority_installer,request_type,assignee,responder,source,summary"
    )
    assert lines[1].startswith(
        "SS-9,2026-11-16T01:00:00-05:00,2026-11-16,2026-11-16T01:05:00-05:00,5.0,,met,"
        "Sunrise Solar Co,yes,Get help,Maya Patel,Maya Patel,computed,'=cmd"
    )
    assert "SS-3,2026-11-20T00:00:00-05:00,2026-11-20,,,4320.0,breached," in tickets_csv(report)
    summary = summary_csv(report)
    assert "summary,,compliance_percent,40.0\n" in summary
    assert "summary,,p90_lower_bound,yes\n" in summary
    assert "week,2026-W46,created,1\n" in summary
    assert "organization,Sunrise Solar Co,priority_installer,yes\n" in summary
