"""``python -m jobs doctor``: a read-only preflight against the configured site.

One line per check: ``OK``, ``FAIL`` with the fix in one phrase, or ``SKIP`` for a check the
enabled jobs and actions do not need (or that could not run because the check it depends on
failed, saying which). Nothing is written anywhere: Jira is only read (``GET``), Slack only
through read methods, the sheet through its metadata and values, the ledger opened read-only
(no file, table or upgrade created), and a heartbeat URL is never requested, since any request
to it counts as a ping (its server is asked for ``/`` instead).

Layout: `needs` (what the enabled jobs need, from the settings), one module of checks per
place (`jira`, `slack`, `sheet`, `local` for the ledger and heartbeats), and here the result
types, the shared `Site` (adapters, answers read once) and the runner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from jobs.adapters.http import (
    AdapterError,
    CallCounter,
    CredentialError,
    RetryBudget,
    TransientError,
)
from jobs.config import Settings
from jobs.doctor.needs import Needs, needs_of

if TYPE_CHECKING:
    from jobs.adapters.jira import JiraAdapter
    from jobs.adapters.sheets import SheetsAdapter
    from jobs.adapters.slack import SlackAdapter


log = logging.getLogger("jobs.doctor")


class Status(StrEnum):
    OK = "OK"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class Outcome:
    """What one check found: its status, what it saw (or why it was skipped), and for a
    failure what to do about it."""

    status: Status
    detail: str
    fix: str = ""


def ok(detail: str) -> Outcome:
    return Outcome(Status.OK, detail)


def fail(detail: str, fix: str) -> Outcome:
    return Outcome(Status.FAIL, detail, fix)


def skip(why: str) -> Outcome:
    return Outcome(Status.SKIP, why)


@dataclass(frozen=True)
class Result:
    """One line of the preflight's output."""

    check: str
    status: Status
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status.value:<4}  {self.check}: {self.detail}"
        return f"{text} -- fix: {self.fix}" if self.fix else text


@dataclass(frozen=True)
class Check:
    """A check: its name (the start of its line), what it needs to have passed first (names
    of earlier checks), and the small function that runs it."""

    name: str
    run: Callable[[Site], Outcome]
    after: tuple[str, ...] = ()


@dataclass
class Site:
    """What the checks share: settings, environment, the needs, the adapters (built on first
    use, like a run's) and the answers several checks read."""

    settings: Settings
    env: Mapping[str, str]
    needs: Needs
    ledger_url: str | None = None
    counter: CallCounter = field(default_factory=CallCounter)
    memo: dict[str, Any] = field(default_factory=dict)
    """Answers read once and used by several checks (link types, the bot's channels...)."""

    @cached_property
    def budget(self) -> RetryBudget:
        return RetryBudget(total_seconds=self.settings.run.retry_budget.wall.total_seconds())

    @property
    def timeout(self) -> float:
        return self.settings.run.http_timeout.wall.total_seconds()

    @cached_property
    def jira(self) -> JiraAdapter:
        from jobs.adapters.jira import JiraAdapter

        return JiraAdapter.for_desk(
            self.settings, self.env, counter=self.counter, budget=self.budget, timeout=self.timeout
        )

    @cached_property
    def slack(self) -> SlackAdapter:
        from jobs.adapters.slack import SlackAdapter

        return SlackAdapter.from_env(
            self.env, counter=self.counter, budget=self.budget, timeout=self.timeout
        )

    @cached_property
    def sheets(self) -> SheetsAdapter:
        from jobs.adapters.sheets import SheetsAdapter

        return SheetsAdapter.from_env(
            self.env, counter=self.counter, budget=self.budget, timeout=self.timeout
        )

    def once(self, key: str, read: Callable[[], Any]) -> Any:
        """``read()``'s answer, read on first use and kept for the other checks."""
        if key not in self.memo:
            self.memo[key] = read()
        return self.memo[key]


def jobs_text(site: Site, jobs: Iterable[str], system: str) -> str:
    """Jobs named for a line, or "every enabled job" when they are all that use ``system``."""
    named = list(jobs)
    users = site.needs.systems.get(system, ())
    if len(named) <= 2 or set(named) != set(users):
        return ", ".join(named)
    if set(users) == set(site.needs.jobs):
        return f"every enabled job ({len(named)})"
    return f"the {len(named)} jobs that use {system.capitalize()}"


def missing_env(env: Mapping[str, str], names: Iterable[str]) -> list[str]:
    return [name for name in names if not (env.get(name) or "").strip()]


def fix_for(exc: AdapterError) -> str:
    """What to do about an error a check did not expect, by what kind of error it is."""
    if isinstance(exc, CredentialError):
        return {
            "jira": "check JIRA_URL, JIRA_EMAIL and JIRA_API_TOKEN (a token of that account)",
            "slack": "check SLACK_BOT_TOKEN and that the app is still installed",
            "sheets": "check GOOGLE_SERVICE_ACCOUNT_FILE and the sheet's sharing",
        }.get(exc.system, "check the credentials")
    if isinstance(exc, TransientError):
        return "try again; if it persists, check the network path to that service"
    if exc.status == 403:
        return "give the account the permission README 'Least privilege' lists"
    if exc.status == 404:
        return "check the setting that names it"
    return "see the error above"


def run_checks(site: Site, checks: Iterable[Check]) -> Iterator[Result]:
    """Each check in order. One whose prerequisite did not pass is skipped saying which;
    an adapter error is the check's failure, never the end of the preflight."""
    done: dict[str, Result] = {}
    for check in checks:
        blocker = next(
            (done[n] for n in check.after if n in done and done[n].status is not Status.OK), None
        )
        if blocker is not None:
            verb = "failed" if blocker.status is Status.FAIL else "was skipped"
            outcome = skip(f"not checked: {blocker.check} {verb}")
        else:
            try:
                outcome = check.run(site)
            except AdapterError as exc:
                detail = str(exc).removeprefix(f"{exc.system}: ")
                outcome = fail(detail, fix_for(exc))
            except Exception as exc:  # a bug in one check must not hide the others
                log.debug("doctor: %s crashed", check.name, exc_info=True)
                detail = " ".join(str(exc).split())[:300]
                outcome = fail(
                    f"the check itself failed ({type(exc).__name__}: {detail})",
                    "report it; JOBS_LOG_LEVEL=DEBUG logs the traceback",
                )
        result = Result(check.name, outcome.status, outcome.detail, outcome.fix)
        done[check.name] = result
        yield result


def plan(site: Site) -> list[Check]:
    from jobs.doctor.jira import jira_checks
    from jobs.doctor.local import heartbeat_checks, ledger_checks
    from jobs.doctor.sheet import sheet_checks
    from jobs.doctor.slack import slack_checks

    return [
        *jira_checks(site),
        *slack_checks(site),
        *sheet_checks(site),
        *ledger_checks(site),
        *heartbeat_checks(site),
    ]


def run_doctor(
    settings: Settings, env: Mapping[str, str], *, ledger_url: str | None
) -> Iterator[Result]:
    """Every check against the site the settings and environment name, as it completes."""
    from jobs.registry import all_jobs

    systems = {name: job.spec.systems for name, job in all_jobs().items()}
    site = Site(settings, env, needs_of(settings, systems), ledger_url=ledger_url)
    return run_checks(site, plan(site))


def summary(results: Iterable[Result]) -> str:
    counts = {status: 0 for status in Status}
    for result in results:
        counts[result.status] += 1
    shown = ", ".join(f"{counts[s]} {s.value}" for s in Status)
    verdict = "ready" if not counts[Status.FAIL] else "not ready"
    return f"doctor: {shown}: {verdict}"


__all__ = [
    "Check",
    "Outcome",
    "Result",
    "Site",
    "Status",
    "fail",
    "jobs_text",
    "missing_env",
    "ok",
    "run_checks",
    "run_doctor",
    "skip",
    "summary",
]
