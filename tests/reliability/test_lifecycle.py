"""Exactly once under a hostile world, end to end: what the pipeline's lifecycle must survive.

- D1: a search that lists a ticket twice, in one page or on a page that comes back;
- D2: a reply Jira commits after the client gave up, and an operator who reruns at once;
- D3: a clock moved back a week;
- a chain whose second (or later) step fails: it is finished by the next run, never begun again;
- three `run all` at once on one ledger (SQLite and PostgreSQL);
- D10: a command that returns leaves no thread of its own running.

Each scenario is judged item by item against what undisturbed runs of the same desk do.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from emulators.base import Request, Response
from tests.reliability.conftest import (
    CASES,
    NEXT_RUN,
    PUBLIC_COMMENT,
    SEARCH,
    ReliabilityDesk,
    hold_until_together,
    tally,
)

pytestmark = pytest.mark.faults

WRITERS = [
    "onboard_reset",
    "doc_test",
    "approval_acting",
    "channel_partner",
    "hygiene_fixing",
    "unassigned",
    "sla_report",
]
"""Every job that writes to Jira or posts more than one step."""

# -- D1: a ticket listed twice ------------------------------------------------------------------


def within_a_page(request: Request, body: Any) -> Any:
    """The page lists its first ticket again at its end."""
    if isinstance(body, dict) and isinstance(body.get("issues"), list) and body["issues"]:
        return {**body, "issues": [*body["issues"], body["issues"][0]]}
    return body


class PageComesBack:
    """A last page becomes two: the second repeats the first page's first ticket, as Jira's
    paging (not a snapshot) does for a ticket updated while the search pages."""

    def __init__(self) -> None:
        self.repeats: dict[str, Any] = {}
        self.lock = threading.Lock()

    def __call__(self, request: Request, body: Any) -> Any:
        sent = request.json() if request.body else {}
        token = sent.get("nextPageToken") if isinstance(sent, dict) else None
        with self.lock:
            if token in self.repeats:
                return Response(200, {"issues": [self.repeats.pop(token)], "isLast": True})
            if isinstance(body, dict) and body.get("issues") and not body.get("nextPageToken"):
                token = f"page-again-{len(self.repeats) + 1}-{time.monotonic_ns()}"
                self.repeats[token] = body["issues"][0]
                return {**body, "isLast": False, "nextPageToken": token}
        return body


DUPLICATIONS: dict[str, Callable[[], Callable[[Request, Any], Any]]] = {
    "within a page": lambda: within_a_page,
    "on a page that comes back": PageComesBack,
}


@pytest.mark.parametrize("how", sorted(DUPLICATIONS))
@pytest.mark.parametrize("name", WRITERS)
def test_a_ticket_the_search_lists_twice_is_acted_on_once(
    name: str, how: str, rdesk: ReliabilityDesk, reference: Any, figure: Any
) -> None:
    scenario = figure.overlap(f"{name}: a ticket listed twice {how}")
    case = CASES[name]
    expected = reference(case)
    stack = rdesk.start(case)
    rdesk.prime()
    stack.jira.inject(SEARCH, status=200, times=10_000, rewrite=DUPLICATIONS[how]())

    run = rdesk.run_job()

    outcome = tally(rdesk.effects(), expected)
    scenario.duplicates, scenario.lost = len(outcome.duplicates), len(outcome.lost)
    scenario.traceback = run.traceback
    assert run.code == 0, run.describe()
    assert outcome.duplicates == [], outcome
    assert outcome.lost == [], outcome
    repeated = [p for p in run.problems() if "listed this ticket twice" in p["message"]]
    assert repeated, run.problems()  # said, so someone can look at the search


# -- D2: a write that lands late -----------------------------------------------------------------


def test_a_reply_that_lands_after_the_timeout_is_never_sent_again(
    rdesk: ReliabilityDesk, reference: Any, figure: Any
) -> None:
    scenario = figure.overlap("onboard_reset: a reply committed after the client gave up")
    case = CASES["onboard_reset"]
    expected = reference(case)
    stack = rdesk.start(case)
    # Jira takes 2 s to commit the first reply; the client gives up after 1 s.
    stack.jira.inject(PUBLIC_COMMENT, method="POST", status=200, delay=2.0, times=1)

    first = rdesk.run_job()
    again = rdesk.run_job()  # the operator reruns at once, before the slow write landed

    assert first.code == 1 and "may have gone through" in " ".join(first.errors())
    assert again.code == 0, again.describe()
    pending = [a for a in again.report["actions"] if a["status"] == "pending"]
    assert len(pending) == 1 and "settle window" in pending[0]["reason"]
    deadline = time.monotonic() + 10
    while sum(expected.values()) > sum(rdesk.effects().values()) and time.monotonic() < deadline:
        time.sleep(0.05)  # the emulator's slow handler thread commits the reply

    later = rdesk.run_job(case.at + NEXT_RUN)  # the next scheduled run checks the ticket

    outcome = tally(rdesk.effects(), expected)
    scenario.duplicates, scenario.lost = len(outcome.duplicates), len(outcome.lost)
    assert later.code == 0, later.describe()
    assert outcome.duplicates == [] and outcome.lost == [], outcome
    confirmed = [a for a in later.report["actions"] if a["status"] == "suppressed_duplicate"]
    assert [a["target"] for a in confirmed] == [pending[0]["target"]]


# -- D3: the clock moved back -----------------------------------------------------------------


def test_a_run_as_of_a_week_before_the_last_one_sends_nothing(
    rdesk: ReliabilityDesk, reference: Any
) -> None:
    case = CASES["onboard_reset"]
    expected = reference(case)
    rdesk.start(case)
    assert rdesk.run_job().code == 0

    back = rdesk.run_job(case.at - timedelta(days=7))

    assert back.code == 2
    (line,) = [e for e in back.errors() if "clock moved back" in e]
    assert "--allow-backwards" in line and "\n" not in line
    assert tally(rdesk.effects(), expected).clean


# -- a chain cut short at a later step ------------------------------------------------------------


def _slack_text_has(words: str) -> Callable[[Request], bool]:
    def when(request: Request) -> bool:
        return words in request.body.decode(errors="replace").replace("+", " ")

    return when


CHAINS = [
    # (case, what fails, how)
    ("sla_report", "the chart after its summary",
     lambda s: s.slack.fail_next("files.completeUploadExternal", "channel_not_found")),
    ("approval_acting", "the comment after the link",
     # SS is a service desk: its internal notes are JSM request comments.
     lambda s: s.jira.inject(r"/rest/servicedeskapi/request/SS-340/comment$", method="POST",
                             status=503)),
    ("approval_acting", "the notice after the link and the close",
     lambda s: s.slack.inject(r"/api/chat.postMessage$", status=200, times=1,
                              body={"ok": False, "error": "channel_not_found"},
                              when=_slack_text_has("linked and closed"))),
    ("approval_acting", "the channel note after the reminder DM",
     lambda s: s.slack.inject(r"/api/chat.postMessage$", status=200, times=1,
                              body={"ok": False, "error": "channel_not_found"},
                              when=_slack_text_has("Reminded David Ellis"))),
    ("channel_partner", "the link after a create",
     lambda s: s.jira.inject(r"/issueLink$", method="POST", status=400, times=1)),
    ("channel_partner", "the notice after a reply",
     lambda s: s.slack.inject(r"/api/chat.postMessage$", status=200, times=1,
                              body={"ok": False, "error": "channel_not_found"},
                              when=_slack_text_has("handled"))),
    ("hygiene_fixing", "the audit comment after an edit",
     lambda s: s.jira.inject(r"/rest/servicedeskapi/request/SS-70\d/comment$", method="POST",
                             status=500)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "what", "fault"), CHAINS, ids=[f"{c[0]}: {c[1]}" for c in CHAINS])
def test_a_chain_cut_short_is_finished_by_the_next_run_and_never_begun_again(
    name: str,
    what: str,
    fault: Callable[[Any], Any],
    rdesk: ReliabilityDesk,
    reference: Any,
    figure: Any,
) -> None:
    scenario = figure.overlap(f"{name}: {what} fails")
    case = CASES[name]
    expected = reference(case)
    stack = rdesk.start(case)
    rdesk.prime()
    fault(stack)

    first = rdesk.run_job()
    assert first.code == 1, first.describe()
    assert rdesk.ledger_chains(), "the unfinished chain was not kept"
    rdesk.settle()
    for n in (1, 2):  # the next two scheduled runs
        later = rdesk.run_job(case.at + n * NEXT_RUN)
        assert later.code == 0, later.describe()

    outcome = tally(rdesk.effects(), expected)
    scenario.duplicates, scenario.lost = len(outcome.duplicates), len(outcome.lost)
    assert outcome.duplicates == [], outcome
    assert outcome.lost == [], outcome
    assert rdesk.ledger_chains() == []


# -- D9: three `run all` at once --------------------------------------------------------------


@pytest.mark.parametrize("mode", ["threads", "processes"])
def test_three_run_all_at_once_do_what_one_does(
    mode: str, ledger_url: str | None, rdesk: ReliabilityDesk, reference: Any, figure: Any
) -> None:
    backend = "postgres" if ledger_url else "sqlite"
    scenario = figure.overlap(f"run all: three at once ({mode}, {backend})")
    expected = reference(CASES["desk_all"])
    stack = rdesk.start(CASES["desk_all"], ledger_url=ledger_url, latency=0.005)
    rdesk.prime()
    hold_until_together(stack.jira, r"/serverInfo$", parties=3)

    if mode == "threads":
        runs = rdesk.run_together(runs=3)
    else:
        runs = [s.finish() for s in [rdesk.spawn(), rdesk.spawn(), rdesk.spawn()]]

    outcome = tally(rdesk.effects(), expected)
    scenario.duplicates, scenario.lost = len(outcome.duplicates), len(outcome.lost)
    assert [r.code for r in runs] == [0, 0, 0], [r.describe() for r in runs]
    assert outcome.duplicates == [], outcome
    assert outcome.lost == [], outcome
    links = [c for c in stack.jira.calls_to(r"/issueLink$", "POST") if c.status == 201]
    assert len(links) == len({json.dumps(c.body, sort_keys=True) for c in links})


# -- D10: nothing left running ----------------------------------------------------------------


def test_a_command_returns_only_once_every_thread_and_process_it_started_has_finished(
    rdesk: ReliabilityDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from jobs import chart_painter

    case = CASES["sla_report"]
    rdesk.start(case)
    week_before = case.at - timedelta(days=7)
    first = rdesk.run_job(week_before)  # posts that week's report, chart drawn by the child
    assert first.code == 0, first.describe()
    assert len(rdesk.stack.slack.calls_to(r"files\.completeUploadExternal$")) == 1

    children: list[Any] = []
    started = chart_painter.ChartPainter.start

    def slow_start(self: Any) -> None:  # a chart library that loads for a minute
        self._command = [sys.executable, "-c", "import time; time.sleep(60)"]
        started(self)
        children.append(self._child)

    monkeypatch.setattr(chart_painter.ChartPainter, "start", slow_start)
    before = {t for t in threading.enumerate() if t.is_alive()}

    run = rdesk.run_job(week_before)  # the week was posted: its chart is never asked for

    assert run.code == 0, run.describe()
    assert len(children) == 1 and children[0] is not None
    assert children[0].returncode is not None  # stopped and reaped, not left to load alone
    ours = [
        t.name
        for t in set(threading.enumerate()) - before
        if t.is_alive() and re.match(r"(jira-page|comments)", t.name)
    ]
    assert ours == []
