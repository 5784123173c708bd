"""A plain script for the first-response check: what one would write with ``jira`` and
``slack_sdk`` to alert on unanswered tickets nearing or past the 2 h target.

    python bench/peers/unassigned_first_response.py --now 2026-11-23T10:00:00-05:00

Reads JIRA_URL, JIRA_EMAIL, JIRA_API_TOKEN, SLACK_BOT_TOKEN and SLACK_API_URL. One search of
the service desk's open tickets of the last two weeks with their comments (a long thread
read in full when its first page has no agent reply), the tier of each unanswered one
(warning under 30 m left, breach at 2 h, escalation at 4 h), then Slack: the new alerts in
grouped messages, a DM to each assignee of an overdue ticket, one escalation message
mentioning the lead.
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime, timedelta

from jira import JIRA
from slack_sdk import WebClient

PROJECT = "SS"
CHANNEL = "#support-sla"
LEAD_EMAIL = "sam.whitaker@goeverbright.example"
TARGET = timedelta(hours=2)
WARN_BEFORE = timedelta(minutes=30)
ESCALATE = 2.0
LOOKBACK = timedelta(days=14)
AUTOMATION = {"Automation for Jira"}
LINES_PER_MESSAGE = 40  # a section each, under Slack's 50 blocks


def agent_reply(comment: object, reporter_id: str | None) -> bool:
    author = getattr(comment, "author", None)
    if author is None or not getattr(comment, "jsdPublic", True):
        return False
    if getattr(author, "accountId", None) == reporter_id:
        return False
    if getattr(author, "accountType", "atlassian") in ("customer", "app"):
        return False
    return getattr(author, "displayName", "") not in AUTOMATION


def when(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--now", required=True)
    now = datetime.fromisoformat(parser.parse_args().now)
    jira = JIRA(
        server=os.environ["JIRA_URL"],
        basic_auth=(os.environ["JIRA_EMAIL"], os.environ["JIRA_API_TOKEN"]),
        options={"check_update": False},
    )
    since = (now - LOOKBACK - timedelta(days=1)).strftime("%Y/%m/%d")
    jql = (
        f'project = {PROJECT} AND statusCategory != Done AND created >= "{since}" '
        "ORDER BY created ASC"
    )
    fields = ["summary", "status", "created", "assignee", "reporter", "priority", "comment"]
    issues = jira.enhanced_search_issues(jql, fields=fields, maxResults=0, use_post=True)

    alerts: list[tuple[str, str, str, object]] = []
    for issue in issues:
        f = issue.fields
        reporter = getattr(f.reporter, "accountId", None) if f.reporter else None
        comments = list(f.comment.comments)
        if not any(agent_reply(c, reporter) for c in comments) and f.comment.total > len(comments):
            comments = jira.comments(issue.key)
        if any(agent_reply(c, reporter) for c in comments):
            continue
        age = now - when(f.created)
        if age >= TARGET * ESCALATE:
            tier = "escalation"
        elif age >= TARGET:
            tier = "breach"
        elif TARGET - age < WARN_BEFORE:
            tier = "warning"
        else:
            continue
        alerts.append((tier, issue.key, f.summary, f.assignee))

    slack = WebClient(
        token=os.environ["SLACK_BOT_TOKEN"],
        base_url=os.environ.get("SLACK_API_URL") or WebClient.BASE_URL,
    )
    browse = os.environ["JIRA_URL"].rstrip("/") + "/browse/"
    lines = [f"{tier}: <{browse}{key}|{key}> {summary}" for tier, key, summary, _a in alerts]
    for start in range(0, len(lines), LINES_PER_MESSAGE):
        chunk = lines[start : start + LINES_PER_MESSAGE]
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": line}} for line in chunk]
        slack.chat_postMessage(
            channel=CHANNEL, text=f"{len(chunk)} tickets need a first response", blocks=blocks
        )
    overdue: dict[str, list[str]] = {}
    for tier, key, _summary, assignee in alerts:
        email = getattr(assignee, "emailAddress", None) if assignee else None
        if tier != "warning" and email:
            overdue.setdefault(email, []).append(key)
    for email, keys in overdue.items():
        user = slack.users_lookupByEmail(email=email)["user"]["id"]
        channel = slack.conversations_open(users=[user])["channel"]["id"]
        slack.chat_postMessage(channel=channel, text=f"Overdue first response: {', '.join(keys)}")
    escalated = [key for tier, key, _s, _a in alerts if tier == "escalation"]
    if escalated:
        lead = slack.users_lookupByEmail(email=LEAD_EMAIL)["user"]["id"]
        slack.chat_postMessage(
            channel=CHANNEL,
            text=f"<@{lead}> {len(escalated)} tickets past 2x the target: {', '.join(escalated)}",
        )


if __name__ == "__main__":
    main()
