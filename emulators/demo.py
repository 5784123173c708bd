"""`make demo`: the whole desk on loopback, every job run twice, everything sent printed.

The sample desk (``emulators/fixtures/demo/``) is anchored at the most recent Monday 10:00 in
the desk's timezone, so the Monday "Onboard Reset" reply and the weekly SLA report have
something to do whatever day the demo runs. Run 1 sends; run 2 shows the dedup at work.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

import yaml

from emulators.base import Call
from jobs.render.words import plural

ROOT = Path(__file__).resolve().parents[1]
DESK = ROOT / "emulators" / "fixtures" / "demo"
STATE = ROOT / ".state" / "demo"
SETTINGS = ROOT / "config" / "settings.yaml"


def demo_now(tz: str) -> datetime:
    local = datetime.now(ZoneInfo(tz)).replace(hour=10, minute=0, second=0, microsecond=0)
    return local - timedelta(days=local.weekday())


def demo_settings(directory: Path = STATE) -> Path:
    """The shipped settings, with the ticket-changing actions switched on to show them."""
    data = yaml.safe_load(SETTINGS.read_text())
    data["templates_dir"] = str(ROOT / "config" / "templates")
    data["actions"] = {key: True for key in data.get("actions", {})}
    path = directory / "settings.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _print_jira_writes(calls: list[Call], out: TextIO) -> int:
    writes = [
        c
        for c in calls
        if c.method in ("POST", "PUT") and "search" not in c.path and c.status < 300
    ]
    print(f"\n== Jira writes ({len(writes)}) ==", file=out)
    for call in writes:
        body = call.body if isinstance(call.body, dict) else {}
        text = body.get("body")
        if isinstance(text, dict):  # ADF
            text = json.dumps(text)[:200]
        summary = f"{call.method} {call.path}"
        if text:
            public = body.get("public")
            internal = public is False or any(
                isinstance(p, dict) and p.get("key") == "sd.public.comment"
                for p in body.get("properties") or []
            )
            kind = (
                "public reply (emails the customer)"
                if public
                else "internal note"
                if internal
                else "comment"
            )
            summary += f"\n   {kind}:\n" + "\n".join(
                f"   | {line}" for line in str(text).splitlines()
            )
        elif body:
            summary += f"  {json.dumps(body)[:300]}"
        print(summary, file=out)
    return len(writes)


def main() -> int:
    from emulators.fixtures import load_desk
    from emulators.stack import start_stack
    from jobs.cli import main as jobs_main

    shutil.rmtree(STATE, ignore_errors=True)
    STATE.mkdir(parents=True)
    settings_path = demo_settings()
    tz = yaml.safe_load(SETTINGS.read_text())["desk"]["timezone"]
    now = demo_now(tz)
    out = sys.stdout
    print(f"Demo desk as of {now.isoformat()} ({tz}); state in {STATE.relative_to(ROOT)}", file=out)
    with start_stack(load_desk(DESK, now), now=now) as stack:
        env = {
            **stack.env(),
            "JOBS_CONFIG": str(settings_path),
            "JOBS_LEDGER_URL": f"sqlite:///{STATE / 'ledger.db'}",
        }
        # The sheet job has a 1 h grace period: a first look an hour earlier starts it, as a
        # desk that has been running the job for a while would have.
        jobs_main(
            ["run", "onboarding_missing_ticket", "--now", (now - timedelta(hours=1)).isoformat()],
            env=env,
            out=io.StringIO(),
        )
        codes = []
        for run in (1, 2):
            print(f"\n######## run {run}: python -m jobs run all ########", file=out)
            slack_before = len(stack.slack.messages)
            slack_calls_before = len(stack.slack.calls)
            jira_before = len(stack.jira.calls)
            buffer = io.StringIO()
            report = STATE / f"run{run}.json"
            code = jobs_main(
                ["run", "all", "--now", now.isoformat(), "--report", str(report)],
                env=env,
                out=buffer,
            )
            codes.append(code)
            for entry in json.loads(report.read_text()):
                sent = sum(a["status"] == "sent" for a in entry["actions"])
                print(
                    f"  {entry['job']:<28} findings={len(entry['findings']):<3} sent={sent:<3} "
                    f"suppressed={len(entry['suppressed']):<3} "
                    f"problems={len(entry['data_problems'])} "
                    f"calls={entry['api_calls']}",
                    file=out,
                )
            new_messages = stack.slack.messages[slack_before:]
            print(f"\n== Slack messages sent in run {run}: {len(new_messages)} ==", file=out)
            edits = [
                c
                for c in stack.slack.calls[slack_calls_before:]
                if c.path.endswith("/chat.update") and c.status == 200
            ]
            if edits:
                print(f"  ({plural(len(edits), 'message')} edited in place)", file=out)
            homes = [
                c
                for c in stack.slack.calls[slack_calls_before:]
                if c.path.endswith("/views.publish") and c.status == 200
            ]
            if homes:
                print(f"  (Home tab published for {plural(len(homes), 'agent')})", file=out)
            print(stack.slack.transcript(since=slack_before), file=out)
            calls = stack.jira.calls[jira_before:]
            writes = _print_jira_writes(calls, out)
            print(f"\nexit code: {code}", file=out)
        if not new_messages and not writes:
            print(
                "\nRun 2 sent nothing new: every alert is within its re-alert window and every "
                "customer reply is already on its ticket.",
                file=out,
            )
        else:
            print(
                f"\nRun 2 sent {plural(len(new_messages), 'new Slack message')} and made "
                f"{plural(writes, 'Jira write')} the first run did not: read them above.",
                file=out,
            )
        print(
            "Try: .venv/bin/python -m jobs why SS-101 "
            f"(with JOBS_LEDGER_URL=sqlite:///{STATE / 'ledger.db'})",
            file=out,
        )
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
