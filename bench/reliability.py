"""``make reliability``: run the reliability suite and print its three figures.

    python -m bench.reliability [extra pytest arguments, e.g. -x or -k kill]

Runs ``pytest tests/reliability`` with ``$RELIABILITY_FIGURES`` pointing at a temporary file
(the suite's `tests.reliability.figures` hooks fill it), then prints:

    Faults           faults tried / survived with the correct outcome
    Overlap & crash  overlapping and killed runs tried, duplicates (must be 0),
                     lost actions (must be 0)
    Bad input        bad inputs tried, crashes with a traceback (must be 0),
                     one-line errors naming the place
    Hostile items    one hostile item among ordinary ones, other alerts blocked (must be 0)
    Malformed        answers of the wrong shape with status 200, false all-clears (must be 0)
    Secrets          secret forms tried per sink, leaks (must be 0)

plus the security checks, the known bugs (strict xfails, each with its reason) and the failures.
Exits 1 when a test failed, errored or was skipped (PostgreSQL included: ``make reliability``
starts its own server, as ``make test`` does), or when duplicates, lost actions, tracebacks,
leaks, blocked alerts or false all-clears are not zero; 0 otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SUITE = "tests/reliability"
FIGURES_ENV = "RELIABILITY_FIGURES"
"""The variable `tests.reliability.figures` reads (its ``ENV``)."""
TRIED = ("passed", "failed", "error", "xfailed", "xpassed")
"""Outcomes of scenarios that ran (skipped ones, e.g. PostgreSQL without a server, did not)."""


@dataclass
class Figures:
    faults_tried: int = 0
    faults_survived: int = 0
    overlapping: int = 0
    killed: int = 0
    duplicates: int = 0
    lost: int = 0
    repeated_internal: int = 0
    bad_inputs: int = 0
    tracebacks: int = 0
    one_line: int = 0
    security_tried: int = 0
    security_passed: int = 0
    secret_forms: set[str] = field(default_factory=set)
    secret_sinks: dict[str, list[int]] = field(default_factory=dict)
    """Sink -> [forms tried, leaks found]."""
    leaks: int = 0
    hostile_tried: int = 0
    blocked: int = 0
    malformed_tried: int = 0
    false_all_clears: int = 0
    known_bugs: dict[str, str] = field(default_factory=dict)
    """Test id -> reason, for strict xfails: a bug in shared code, described where it is."""
    failures: dict[str, str] = field(default_factory=dict)
    skipped: int = 0
    tests: int = 0

    @property
    def clean(self) -> bool:
        return not (
            self.duplicates
            or self.lost
            or self.tracebacks
            or self.leaks
            or self.blocked
            or self.false_all_clears
            or self.failures
            or self.skipped
        )


def figures_of(data: dict[str, Any]) -> Figures:
    """The figures from the file the suite wrote (format in `tests.reliability.figures`)."""
    figures = Figures()
    for test in data.get("tests", []):
        figures.tests += 1
        outcome = test["outcome"]
        if outcome == "skipped":
            figures.skipped += 1
        elif outcome == "xfailed":
            figures.known_bugs[test["nodeid"]] = test.get("reason", "")
        elif outcome in ("failed", "error", "xpassed"):
            reason = test.get("reason") or outcome
            if outcome == "xpassed":
                reason = "passes now: the bug it marks is fixed, remove its xfail"
            figures.failures[test["nodeid"]] = reason
    for s in data.get("scenarios", []):
        if s["outcome"] not in TRIED:
            continue
        ok = s["outcome"] == "passed"
        kind = s["kind"]
        if kind == "fault":
            figures.faults_tried += 1
            figures.faults_survived += ok
        elif kind in ("overlap", "kill"):
            if kind == "overlap":
                figures.overlapping += 1
            else:
                figures.killed += 1
            figures.duplicates += int(s["duplicates"])
            figures.lost += int(s["lost"])
            figures.repeated_internal += int(s["repeated_internal"])
        elif kind == "bad_input":
            figures.bad_inputs += 1
            figures.tracebacks += bool(s["traceback"])
            figures.one_line += bool(s["one_line"]) and not s["traceback"]
        elif kind == "security":
            figures.security_tried += 1
            figures.security_passed += ok
        elif kind == "hostile":
            figures.hostile_tried += 1
            figures.blocked += int(s.get("blocked", 0))
        elif kind == "malformed":
            figures.malformed_tried += 1
            figures.false_all_clears += int(s.get("false_all_clear", 0))
        elif kind == "secret":
            figures.secret_forms.add(s.get("form", ""))
            tried = figures.secret_sinks.setdefault(s.get("sink", ""), [0, 0])
            tried[0] += 1
            tried[1] += int(s.get("leaks", 0))
            figures.leaks += int(s.get("leaks", 0))
    return figures


def render(figures: Figures, seconds: float) -> str:
    f = figures
    runs = f.overlapping + f.killed
    lines = [
        "",
        f"Reliability suite: {f.tests} tests in {seconds:.0f} s"
        + (f", {f.skipped} skipped" if f.skipped else ""),
        "",
        f"  Faults           {f.faults_tried} tried, {f.faults_survived} survived with the "
        "correct outcome",
        f"  Overlap & crash  {runs} runs tried ({f.overlapping} overlapping, {f.killed} killed): "
        f"duplicates {f.duplicates}, lost actions {f.lost}",
        f"  Bad input        {f.bad_inputs} tried: crashes with a traceback {f.tracebacks}, "
        f"one-line errors naming the place {f.one_line}/{f.bad_inputs}",
        f"  Hostile items    {f.hostile_tried} tried among ordinary ones: other alerts blocked "
        f"{f.blocked}",
        f"  Malformed answers {f.malformed_tried} tried (status 200, wrong shape): false "
        f"all-clears {f.false_all_clears}",
        f"  Secrets          {len(f.secret_forms)} secret forms x {len(f.secret_sinks)} sinks "
        f"tried: leaks {f.leaks}",
    ]
    for sink, (tried, leaked) in sorted(f.secret_sinks.items()):
        lines.append(f"                     {sink:<22} {tried} forms tried, leaks {leaked}")
    lines.append(f"  Security         {f.security_tried} checks, {f.security_passed} passed")
    if f.repeated_internal:
        lines.append(
            f"                   ({f.repeated_internal} internal Slack alerts sent again after "
            "a kill between sending and recording: at least once, by design)"
        )
    if f.known_bugs:
        lines += ["", f"Known bugs in shared code ({len(f.known_bugs)} strict xfails):"]
        lines += [f"  - {nodeid}\n      {reason}" for nodeid, reason in f.known_bugs.items()]
    if f.failures:
        lines += ["", f"FAILED ({len(f.failures)}):"]
        lines += [f"  - {nodeid}: {reason}" for nodeid, reason in f.failures.items()]
    verdict = "OK" if f.clean else "NOT OK"
    lines += [
        "",
        f"{verdict}: duplicates {f.duplicates}, lost actions {f.lost}, "
        f"tracebacks {f.tracebacks}, leaks {f.leaks}, blocked {f.blocked}, "
        f"false all-clears {f.false_all_clears}, failed tests {len(f.failures)}, "
        f"skipped {f.skipped}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    extra = list(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="reliability-") as folder:
        target = Path(folder) / "figures.json"
        env = {**os.environ, FIGURES_ENV: str(target)}
        started = time.monotonic()
        pytest = subprocess.run(
            [sys.executable, "-m", "pytest", SUITE, "-q", "-p", "no:cacheprovider", *extra],
            cwd=ROOT,
            env=env,
            check=False,
        )
        seconds = time.monotonic() - started
        if not target.exists():
            print(
                f"error: pytest wrote no figures (exit code {pytest.returncode})", file=sys.stderr
            )
            return 1
        figures = figures_of(json.loads(target.read_text(encoding="utf-8")))
    print(render(figures, seconds))
    if pytest.returncode not in (0,) and not figures.failures:
        print(f"error: pytest exited {pytest.returncode}", file=sys.stderr)
        return 1
    return 0 if figures.clean else 1


if __name__ == "__main__":
    sys.exit(main())
