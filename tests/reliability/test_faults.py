"""Faults, through the emulators' fault injection: every one ends in a complete run, or in exit
code 1 (2 for refused credentials) with a clear one-line error, and then the next scheduled
run catches up: nothing the failed run did not send was recorded, nothing is sent twice.

Each fault is judged against the same job case run undisturbed (`reference`), item by item:
Slack alerts per ticket or account, public and internal comments per ticket, CS tasks created,
links, transitions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.reliability.conftest import (
    CASES,
    NEXT_RUN,
    PUBLIC_COMMENT,
    SEARCH,
    SHEET_METADATA,
    SHEET_VALUES,
    TIGHT,
    JobCase,
    ReliabilityDesk,
    fail_after,
    tally,
)

pytestmark = pytest.mark.faults

SHEET_KEY = "1EverBrightFinancierOnboardingSheet"
COMMENTS_READ = r"/rest/api/2/issue/[^/]+/comment$"


@dataclass(frozen=True)
class Fault:
    id: str
    case: str
    inject: Inject
    recovers: bool
    """True: the run itself gets through; False: it fails and the next run catches up."""
    error: str = ""
    """What the one-line error must say (when the run fails)."""
    exit_code: int = 1
    settings: Mapping[str, Any] = field(default_factory=dict)
    fixed: Mapping[str, Any] | None = None
    """Settings for the next run, when the fault was in the settings (a wrong tab)."""
    known_bug: str = ""
    """A bug in shared code this fault exposes (the case is a strict xfail until it is fixed)."""

    def param(self) -> Any:
        marks = [pytest.mark.xfail(strict=True, reason=self.known_bug)] if self.known_bug else []
        return pytest.param(self, id=self.id, marks=marks)


Inject = Callable[[ReliabilityDesk], None]


def jira(pattern: str, **fault: Any) -> Inject:
    return lambda desk: desk.stack.jira.inject(pattern, **fault)


def slack(method: str, **fault: Any) -> Inject:
    return lambda desk: desk.stack.slack.inject(rf"^/api/{method}$", **fault)


def slack_error(method: str, error: str, times: int = 1) -> Inject:
    return lambda desk: desk.stack.slack.fail_next(method, error, times=times)


def sheets(pattern: str, **fault: Any) -> Inject:
    return lambda desk: desk.stack.sheets.inject(pattern, **fault)


def unshare(desk: ReliabilityDesk) -> None:
    desk.stack.sheets.unshared.add(SHEET_KEY)


def comments_unreadable(desk: ReliabilityDesk) -> None:
    """The reply's ground truth cannot be read: neither the search for the tickets with their
    comments (the On Hold search comes first), in which each reply's reference line is looked
    for, nor any ticket's comment list."""
    fail_after(desk.stack.jira, SEARCH, ok=1, status=503, times=50)
    desk.stack.jira.inject(COMMENTS_READ, method="GET", status=503, times=50)


def past_the_last_tab(desk: ReliabilityDesk) -> None:
    desk.configure({"sheet": {"tab_index": 5}})


MALFORMED = b'{"issues": [{"key": "SS-1", "fields": {'
FAULTS = [
    # -- Jira: rate limits, bursts, resets, malformed answers ------------------------------------
    Fault("jira search 429 Retry-After 0, twice", "unassigned",
          jira(SEARCH, status=429, retry_after=0, times=2), recovers=True),
    Fault("jira search 429 Retry-After 30: beyond the retry budget", "unassigned",
          jira(SEARCH, status=429, retry_after=30, times=1), recovers=False, error="HTTP 429"),
    Fault("jira search 429 storm: more than the attempts allowed", "unassigned",
          jira(SEARCH, status=429, retry_after=0, times=20), recovers=False, error="HTTP 429"),
    Fault("jira search 500 burst", "unassigned", jira(SEARCH, status=500, times=2), recovers=True),
    Fault("jira search 502 burst", "unassigned", jira(SEARCH, status=502, times=2), recovers=True),
    Fault("jira search 503 burst", "onboard_reset", jira(SEARCH, status=503, times=2),
          recovers=True),
    Fault("jira search 503 outage", "unassigned", jira(SEARCH, status=503, times=50),
          recovers=False, error="HTTP 503", settings=TIGHT),
    Fault("jira search connection reset", "unassigned",
          jira(SEARCH, reset_connection=True, times=1), recovers=True),
    Fault("jira search connection resets that do not stop", "unassigned",
          jira(SEARCH, reset_connection=True, times=50), recovers=False, error="could not reach",
          settings=TIGHT),
    Fault("jira search malformed JSON once", "approval_acting",
          jira(SEARCH, status=200, raw=MALFORMED, times=1), recovers=True),
    Fault("jira search malformed JSON every time", "approval",
          jira(SEARCH, status=200, raw=MALFORMED, times=50), recovers=False,
          error="malformed JSON", settings=TIGHT),
    Fault("jira serverInfo 503 on the first call", "channel_partner",
          jira(r"/serverInfo$", status=503, times=1), recovers=True),
    Fault("jira field list 500 once", "channel_partner", jira(r"/field$", status=500, times=1),
          recovers=True),
    Fault("jira 401: the API token is refused", "unassigned", jira(r"/rest/", status=401, times=50),
          recovers=False, exit_code=2, error="JIRA_API_TOKEN"),
    # -- Jira writes: a reply is never repeated blindly ------------------------------------------
    Fault("jira public comment 429", "onboard_reset",
          jira(PUBLIC_COMMENT, method="POST", status=429, retry_after=0, times=1), recovers=True),
    Fault("jira public comment 503", "onboard_reset",
          jira(PUBLIC_COMMENT, method="POST", status=503, times=1), recovers=False,
          error="not retried: it may have gone through"),
    Fault("jira public comment connection reset", "onboard_reset",
          jira(PUBLIC_COMMENT, method="POST", reset_connection=True, times=1), recovers=False,
          error="not retried: it may have gone through"),
    Fault("jira comments unreadable before a reply", "onboard_reset", comments_unreadable,
          recovers=False, error="read failed", settings=TIGHT),
    Fault("jira create issue 502", "channel_partner",
          jira(r"/rest/api/2/issue$", method="POST", status=502, times=1), recovers=False,
          error="create issue"),
    # A 5xx on a link may have made it: not repeated blind (Jira would add a second one).
    Fault("jira issue link 500", "channel_partner",
          jira(r"/issueLink$", method="POST", status=500, times=1), recovers=False,
          error="not retried"),
    Fault("jira internal comment 503", "approval_acting",  # SS notes go through JSM
          jira(r"/rest/servicedeskapi/request/[^/]+/comment$", method="POST", status=503, times=1),
          recovers=False, error="not retried"),
    # -- Slack -----------------------------------------------------------------------------------
    Fault("slack rate_limited (429) once", "unassigned",
          slack("chat.postMessage", status=429, retry_after=0, times=1), recovers=True),
    Fault("slack rate_limited (429) Retry-After 1", "approval",
          slack("chat.postMessage", status=429, retry_after=1, times=1), recovers=True),
    Fault("slack rate_limited (429) storm", "unassigned",
          slack("chat.postMessage", status=429, retry_after=0, times=8), recovers=False,
          error="ratelimited"),
    Fault("slack 503 burst", "onboarding_missing",
          slack("chat.postMessage", status=503, retry_after=0, times=2), recovers=True),
    Fault("slack connection reset", "unassigned",
          slack("chat.postMessage", reset_connection=True, times=1), recovers=True),
    Fault("slack channel_not_found", "unassigned", slack_error("chat.postMessage",
          "channel_not_found"), recovers=False, error="channel_not_found"),
    *[
        Fault(f"slack channel_not_found on every post ({case})", case,
              slack_error("chat.postMessage", "channel_not_found", times=50), recovers=False,
              error="channel_not_found", known_bug=bug)
        for case, bug in (
            ("unassigned", ""),
            ("approval", ""),
            ("onboarding_missing", ""),
            ("channel_partner", ""),
        )
    ],
    Fault("slack invalid_auth", "unassigned", slack_error("chat.postMessage", "invalid_auth"),
          recovers=False, exit_code=2, error="SLACK_BOT_TOKEN"),
    Fault("slack users.lookupByEmail rate limited", "approval",
          slack("users.lookupByEmail", status=429, retry_after=0, times=2), recovers=True),
    Fault("slack conversations.open fails", "approval",
          slack_error("conversations.open", "user_not_found", times=50), recovers=False,
          error="conversations.open"),
    # -- Sheets ----------------------------------------------------------------------------------
    Fault("sheets values 429", "onboarding_missing",
          sheets(SHEET_VALUES, status=429, retry_after=0, times=1), recovers=True),
    Fault("sheets values 500 burst", "onboarding_missing",
          sheets(SHEET_VALUES, status=500, retry_after=0, times=2), recovers=True),
    Fault("sheets metadata 503 outage", "onboarding_missing",
          sheets(SHEET_METADATA, status=503, times=50), recovers=False, error="HTTP 503",
          settings=TIGHT),
    Fault("sheets token endpoint 500 once", "onboarding_missing",
          sheets(r"^/token$", status=500, times=1), recovers=True),
    Fault("sheets unreadable tab (index past the last tab)", "onboarding_missing",
          past_the_last_tab, recovers=False, error="tab index 5", fixed={}),
    Fault("sheets unreadable range (400)", "onboarding_missing",
          sheets(SHEET_VALUES, status=400, times=1), recovers=False, error="HTTP 400"),
    Fault("sheets not shared with the service account (403)", "onboarding_missing", unshare,
          recovers=False, exit_code=2, error="share it with that address"),
]  # fmt: skip


@pytest.mark.parametrize("fault", [f.param() for f in FAULTS])
def test_a_fault_ends_in_a_complete_run_or_a_clear_error_then_nothing_is_lost_or_doubled(
    fault: Fault, rdesk: ReliabilityDesk, reference: Any, figure: Any
) -> None:
    scenario = figure.fault(fault.id)
    case = CASES[fault.case]
    expected = reference(case)
    rdesk.start(case, settings=fault.settings)
    rdesk.prime()
    fault.inject(rdesk)

    first = rdesk.run_job()
    scenario.traceback = first.traceback
    scenario.one_line = first.one_line()

    if fault.recovers:
        assert first.code == 0, first.describe()
    else:
        assert first.code == fault.exit_code, first.describe()
        assert any(fault.error in e for e in first.errors()), first.describe()
        rdesk.settle(fault.fixed)
        second = rdesk.run_job(case.at + NEXT_RUN)
        scenario.traceback |= second.traceback
        assert second.code == 0, second.describe()
    outcome = tally(rdesk.effects(), expected)
    scenario.duplicates, scenario.lost = len(outcome.duplicates), len(outcome.lost)
    assert not first.traceback
    assert first.one_line(), first.describe()
    assert outcome.duplicates == [], outcome
    assert outcome.lost == [], outcome


def test_a_retry_after_is_waited_out_before_asking_again(
    rdesk: ReliabilityDesk, reference: Any, figure: Any
) -> None:
    scenario = figure.fault("jira search 429 Retry-After 1 honoured")
    case = CASES["unassigned"]
    stack = rdesk.start(case)
    stack.jira.inject(SEARCH, status=429, retry_after=1, times=1)

    run = rdesk.run_job()

    refused, retried = stack.jira.calls_to(SEARCH)[:2]
    outcome = tally(rdesk.effects(), reference(case))
    scenario.duplicates, scenario.lost = len(outcome.duplicates), len(outcome.lost)
    assert run.code == 0, run.describe()
    assert refused.status == 429 and retried.status == 200
    # The emulator stamps each call as it answers it: the retry came no sooner than Jira asked.
    assert retried.at - refused.at >= 1.0
    assert outcome.clean, outcome


# -- a page that fails in the middle of a search --------------------------------------------------

BACKLOG = 130
"""More unassigned tickets than one search page (100) holds."""


def _backlog(tmp_path: Path) -> Path:
    tickets = [
        {
            "key": f"SS-{900 + n}",
            "summary": f"Portal question {n}",
            "status": "Open",
            "created": "-2h30m",
            "reporter": "dana.cho@acmeroofing.example",
        }
        for n in range(BACKLOG)
    ]
    path = tmp_path / "backlog.yaml"
    path.write_text(yaml.safe_dump({"tickets": tickets}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("times", "recovers"), [(1, True), (50, False)], ids=["once", "until-the-budget-is-spent"]
)
def test_a_page_failing_mid_search_sends_nothing_half_read_and_the_next_run_alerts_each_once(
    times: int, recovers: bool, rdesk: ReliabilityDesk, tmp_path: Path, figure: Any
) -> None:
    scenario = figure.fault(f"jira search page 2 fails ({'once' if recovers else 'outage'})")
    case = CASES["unassigned"]
    settings = {} if recovers else TIGHT
    stack = rdesk.start(case, settings=settings, extra_fixtures=(_backlog(tmp_path),))
    fail_after(stack.jira, SEARCH, ok=1, status=503, times=times)

    first = rdesk.run_job()
    if not recovers:
        assert first.code == 1, first.describe()
        assert any("read failed" in e and "HTTP 503" in e for e in first.errors())
        assert stack.slack.messages == []
        rdesk.settle()
        assert rdesk.run_job(case.at + NEXT_RUN).code == 0

    seen = rdesk.effects()
    backlog = {f"SS-{900 + n}" for n in range(BACKLOG)}
    alerted = root_alerts_per_item(seen, backlog)
    scenario.duplicates = sum(n - 1 for n in alerted.values() if n > 1)
    scenario.lost = len(backlog - set(alerted))
    scenario.traceback = first.traceback
    assert first.code == (0 if recovers else 1), first.describe()
    assert len(stack.jira.calls_to(SEARCH)) >= 2  # the first page really was read
    assert scenario.duplicates == 0 and scenario.lost == 0, alerted


def root_alerts_per_item(seen: Any, keys: set[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for effect, n in seen.items():
        kind, *_, item = effect.split(" ")
        if kind == "slack" and " root " in effect and item in keys:
            counts[item] = counts.get(item, 0) + n
    return counts


# -- slow answers ---------------------------------------------------------------------------------

SLOW = 2.0
"""Seconds the emulator holds an answer: twice the run's 1 s http_timeout."""


def test_a_search_slower_than_the_timeout_is_abandoned_and_retried(
    rdesk: ReliabilityDesk, reference: Any, figure: Any
) -> None:
    scenario = figure.fault("jira search slower than run.http_timeout")
    case = CASES["unassigned"]
    rdesk.start(case)
    calm = rdesk.run_job(case.at, "--dry-run")  # the same reads, without the fault
    rdesk.stack.jira.inject(SEARCH, status=200, delay=SLOW, times=1)

    run = rdesk.run_job()

    outcome = tally(rdesk.effects(), reference(case))
    scenario.duplicates, scenario.lost = len(outcome.duplicates), len(outcome.lost)
    assert run.code == 0, run.describe()
    assert outcome.clean, outcome
    # One more Jira request than the calm run: the slow one was abandoned and asked again.
    assert run.report["api_calls"]["jira"] == calm.report["api_calls"]["jira"] + 1


def test_a_reply_slower_than_the_timeout_is_not_repeated_next_run(
    rdesk: ReliabilityDesk, reference: Any, figure: Any
) -> None:
    """The worst case for a customer email: Jira posted the comment, the answer never came."""
    scenario = figure.fault("jira public comment slower than run.http_timeout")
    case = CASES["onboard_reset"]
    stack = rdesk.start(case)
    stack.jira.inject(PUBLIC_COMMENT, method="POST", status=200, delay=SLOW, times=1)

    first = rdesk.run_job()
    assert first.code == 1, first.describe()
    assert any("may have gone through" in e for e in first.errors()), first.describe()
    posted = lambda: len(stack.jira.calls_to(PUBLIC_COMMENT, "POST")) >= 4  # noqa: E731
    _wait_for(posted)  # Jira finishes the slow request in its own time
    second = rdesk.run_job(case.at + NEXT_RUN)

    outcome = tally(rdesk.effects(), reference(case))
    scenario.duplicates, scenario.lost = len(outcome.duplicates), len(outcome.lost)
    assert second.code == 0, second.describe()
    assert any(a["status"] == "suppressed_duplicate" for a in second.report["actions"])
    assert outcome.clean, outcome


def _wait_for(condition: Callable[[], bool], seconds: float = 2 * SLOW) -> None:
    import threading

    done = threading.Event()
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        done.wait(0.05)
    raise AssertionError("the emulator never finished the slow request")


# -- `run all`: one job's failure is that job's ---------------------------------------------------

ALL_FIXTURES = (
    "onboarding_missing_ticket.yaml",
    "onboard_testing.yaml",
)
RUN_ALL = JobCase(
    "run_all",
    "all",
    ("unassigned_first_response.yaml", *ALL_FIXTURES),
    CASES["onboard_reset"].desk_now,
    CASES["onboard_reset"].at,
)


def _replies(stack: Any) -> int:
    keys = ("SS-401", "SS-402", "SS-403", "SS-404")
    return sum("onboard-reset" in c.body for k in keys for c in stack.jira.comments_of(k))


def test_run_all_runs_every_job_when_one_of_them_fails(rdesk: ReliabilityDesk, figure: Any) -> None:
    scenario = figure.fault("run all: the sheet is down for one job")
    stack = rdesk.start(RUN_ALL, settings=TIGHT)
    stack.sheets.inject(SHEET_VALUES, status=503, times=50)

    run = rdesk.run_job()

    scenario.traceback = run.traceback
    by_job = {r["job"]: r for r in run.reports}
    from jobs.registry import all_jobs

    assert run.code == 1, run.describe()
    assert sorted(by_job) == sorted(all_jobs())
    assert by_job["onboarding_missing_ticket"]["exit_code"] == 1
    assert [j for j, r in by_job.items() if r["exit_code"]] == ["onboarding_missing_ticket"]
    assert _replies(stack) == 4  # a later job in the list did its work
    assert not run.traceback


@pytest.mark.parametrize(
    "refuse",
    [
        pytest.param(unshare, id="sheet-not-shared"),
        pytest.param(slack_error("chat.postMessage", "invalid_auth", times=50), id="slack-token"),
    ],
)
def test_run_all_runs_the_other_jobs_when_one_system_refuses_the_credentials(
    refuse: Inject, rdesk: ReliabilityDesk, figure: Any
) -> None:
    figure.fault("run all: credentials refused by one system")
    stack = rdesk.start(RUN_ALL)
    refuse(rdesk)

    run = rdesk.run_job()

    assert run.code == 2, run.describe()
    assert _replies(stack) == 4  # onboard_reset_reminder needs only Jira
    assert any("onboard_reset_reminder" == r["job"] for r in run.reports)


def test_a_rerun_right_after_fixing_a_refused_token_sends_what_was_not_sent(
    rdesk: ReliabilityDesk, reference: Any, figure: Any
) -> None:
    scenario = figure.fault("slack invalid_auth, rerun at once after the fix")
    case = CASES["unassigned"]
    stack = rdesk.start(case)
    fail_after(
        stack.slack,
        r"^/api/chat\.postMessage$",
        ok=1,
        status=200,
        body={"ok": False, "error": "invalid_auth"},
    )

    refused = rdesk.run_job()
    assert refused.code == 2, refused.describe()
    rdesk.settle()
    rerun = rdesk.run_job(case.at + timedelta(minutes=1))

    outcome = tally(rdesk.effects(), reference(case))
    scenario.duplicates, scenario.lost = len(outcome.duplicates), len(outcome.lost)
    assert rerun.code == 0, rerun.describe()
    assert outcome.clean, outcome
