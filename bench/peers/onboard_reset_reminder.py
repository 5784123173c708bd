"""A plain script for the Monday "Onboard Reset - Release tonight" reply: what one would write
with ``jira`` to tell each customer testing a document on Onboard, once a week.

    python bench/peers/onboard_reset_reminder.py --now 2026-11-23T10:00:00-05:00

Reads JIRA_URL, JIRA_EMAIL and JIRA_API_TOKEN. One search for the CS tickets On Hold, one for
the SS tickets they link to; for each open "Document Survey" one, its comments are read for
this week's reference line and, when it is not there, the reply is posted as a public
Service Management comment.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime

from jira import JIRA

SS, CS = "SS", "CS"
SUBJECT = "document survey"

REPLY = """Hi {name},

A quick heads-up: our weekly release goes out tonight, and Onboard is reset with it.

The document we set up for {org} can be reviewed on Onboard until tonight's reset; after \
that it will no longer be available there.

If you can, please take a look today and reply to this email:
- if everything looks right, tell us it is ready for production and we will publish it;
- if something needs to change, tell us what and we will take care of it.

Thank you,
EverBright Support

{marker}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--now", required=True)
    now = datetime.fromisoformat(parser.parse_args().now)
    year, week, _ = now.isocalendar()
    url = os.environ["JIRA_URL"].rstrip("/")
    jira = JIRA(
        server=url,
        basic_auth=(os.environ["JIRA_EMAIL"], os.environ["JIRA_API_TOKEN"]),
        options={"check_update": False},
    )
    on_hold = jira.enhanced_search_issues(
        f'project = {CS} AND status = "On Hold" ORDER BY key',
        fields=["summary", "status", "issuelinks"],
        maxResults=0,
        use_post=True,
    )
    keys: set[str] = set()
    for issue in on_hold:
        for link in issue.fields.issuelinks:
            other = getattr(link, "outwardIssue", None) or getattr(link, "inwardIssue", None)
            if other is not None and other.key.startswith(f"{SS}-"):
                keys.add(other.key)
    if not keys:
        return
    tickets = jira.enhanced_search_issues(
        f"key in ({', '.join(sorted(keys))})",
        fields=["summary", "status", "reporter", "Organizations"],
        maxResults=0,
        use_post=True,
    )
    for ticket in tickets:
        f = ticket.fields
        if SUBJECT not in f.summary.casefold() or f.status.statusCategory.key == "done":
            continue
        marker = f"Ref: {ticket.key} · onboard-reset · {year}-W{week:02d}"
        if any(marker in (c.body or "") for c in jira.comments(ticket.key)):
            continue
        orgs = getattr(f, "Organizations", None) or []
        org = orgs[0].name if orgs and hasattr(orgs[0], "name") else "your company"
        name = (f.reporter.displayName.split(" ")[0] if f.reporter else "") or "there"
        body = REPLY.format(name=name, org=org, marker=marker)
        jira._session.post(
            f"{url}/rest/servicedeskapi/request/{ticket.key}/comment",
            data=json.dumps({"body": body, "public": True}),
        )


if __name__ == "__main__":
    main()
