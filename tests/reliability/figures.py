"""Figures for `make reliability`: what each scenario tried and how it ended, as JSON.

A test asks the `figure` fixture for a scenario *before* it runs anything, then fills in
what it counted (duplicates, lost actions, tracebacks), still before asserting, so a failing
test is counted too. At the end of the session the scenarios, with the outcome pytest gave
their test (passed, failed, xfailed, ...), are written to the file named by
``$RELIABILITY_FIGURES``; without it nothing is written and recording costs nothing.

The hooks are re-exported by ``tests/reliability/conftest.py``, so the plain ``make test``
run records too; ``bench/reliability.py`` reads the file and prints the figures.

File format (one object)::

    {"tests": [{"nodeid", "outcome", "reason"}],
     "scenarios": [{"nodeid", "kind", "name", "duplicates", "lost", "repeated_internal",
                    "traceback", "one_line", "form", "sink", "leaks", "outcome", "reason"}]}

``kind`` is one of `KINDS`. A ``hostile`` scenario is one hostile item (a name of 9,000
``&``, a summary of 100,000 characters, a comment nested 2,000 deep) among ordinary ones, with
the ordinary alerts it ``blocked``; a ``malformed`` one an upstream answer of the wrong shape
with 200, with the alerts it falsely resolved (``false_all_clear``). A ``secret`` scenario is
one form of one secret (a raw token, a Basic header, ...) tried against one sink (the log, the
report, ...), with the leaks found.
``repeated_internal`` counts internal Slack alerts sent again by the run after a kill between
"sent" and "recorded": at-least-once by design, not a duplicate.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

ENV = "RELIABILITY_FIGURES"
KINDS = ("fault", "overlap", "kill", "bad_input", "security", "secret", "hostile", "malformed")
_ROOT = "tests/reliability/"


@dataclass
class Scenario:
    nodeid: str
    kind: str
    name: str
    duplicates: int = 0
    lost: int = 0
    repeated_internal: int = 0
    traceback: bool = False
    one_line: bool = True
    """Every error or data problem the scenario produced was one line naming its place."""
    form: str = ""
    sink: str = ""
    leaks: int = 0
    blocked: int = 0
    """A hostile item's scenario: the other items' alerts that did not go out because of it."""
    false_all_clear: int = 0
    """A malformed answer's scenario: open alerts it let the run resolve (an all-clear that
    was never true)."""
    outcome: str = ""
    reason: str = ""


_scenarios: list[Scenario] = []
_outcomes: dict[str, str] = {}
_reasons: dict[str, str] = {}


class Recorder:
    """What the `figure` fixture gives a test: one call per scenario it tries."""

    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid

    def _add(self, kind: str, name: str) -> Scenario:
        assert kind in KINDS, kind
        scenario = Scenario(self.nodeid, kind, name)
        _scenarios.append(scenario)
        return scenario

    def once(self, kind: str, name: str) -> Scenario:
        """The same scenario on every call: for a Hypothesis test, whose body runs per example."""
        for scenario in _scenarios:
            if (scenario.nodeid, scenario.kind, scenario.name) == (self.nodeid, kind, name):
                return scenario
        return self._add(kind, name)

    def fault(self, name: str) -> Scenario:
        return self._add("fault", name)

    def overlap(self, name: str) -> Scenario:
        return self._add("overlap", name)

    def kill(self, name: str) -> Scenario:
        return self._add("kill", name)

    def bad_input(self, name: str) -> Scenario:
        return self._add("bad_input", name)

    def security(self, name: str) -> Scenario:
        return self._add("security", name)

    def hostile(self, name: str) -> Scenario:
        """One hostile item among ordinary ones; set ``blocked`` to the others not alerted."""
        return self._add("hostile", name)

    def malformed(self, name: str) -> Scenario:
        """One malformed upstream answer; set ``false_all_clear`` to the alerts it resolved."""
        return self._add("malformed", name)

    def secret(self, form: str, sink: str) -> Scenario:
        """One secret form against one sink; set ``leaks`` to what was found there."""
        scenario = self._add("secret", f"{form} in {sink}")
        scenario.form, scenario.sink = form, sink
        return scenario


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Recorder:
    return Recorder(request.node.nodeid)


def _outcome(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.failed:
        return "failed" if report.when == "call" else "error"
    return "skipped" if report.skipped else "passed"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not report.nodeid.startswith(_ROOT):
        return
    outcome = _outcome(report)
    # The call decides; setup speaks only when it skipped or broke, teardown only when it broke.
    if report.when == "call" or (report.when == "setup" and outcome != "passed"):
        _outcomes[report.nodeid] = outcome
    elif report.when == "teardown" and outcome == "error":
        _outcomes[report.nodeid] = "error"
    if hasattr(report, "wasxfail"):
        _reasons[report.nodeid] = str(report.wasxfail)
    elif report.failed:
        # A strict xfail that passed arrives as a failure whose longrepr is "[XPASS(strict)] ..."
        crash = getattr(report.longrepr, "reprcrash", None) or report.longrepr
        _reasons[report.nodeid] = _first_line(str(crash or ""))


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""


def collected() -> dict[str, Any]:
    """Everything recorded so far, with each scenario's test outcome filled in."""
    scenarios = []
    for scenario in _scenarios:
        row = asdict(scenario)
        row["outcome"] = _outcomes.get(scenario.nodeid, "not run")
        row["reason"] = _reasons.get(scenario.nodeid, "")
        scenarios.append(row)
    tests = [
        {"nodeid": nodeid, "outcome": outcome, "reason": _reasons.get(nodeid, "")}
        for nodeid, outcome in sorted(_outcomes.items())
    ]
    return {"tests": tests, "scenarios": scenarios}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = os.environ.get(ENV)
    if not target:
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(collected(), indent=2) + "\n", encoding="utf-8")
