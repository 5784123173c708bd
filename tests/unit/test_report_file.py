"""The ``--report`` file's layout: the same JSON as the report, a finding or action a line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.model import Finding, Severity
from jobs.report import ActionRecord, ReportFile, RunReport, report_text

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
_reports = st.dictionaries(st.text(), _values, max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_reports, st.lists(_reports, max_size=3)))
def test_the_layout_is_the_same_json(payload: Any) -> None:
    assert json.loads(report_text(payload)) == payload


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(), _values, min_size=1, max_size=8))
def test_one_report_is_indented_with_each_list_item_on_its_own_line(report: dict[str, Any]) -> None:
    lines = report_text(report).removesuffix("\n").split("\n")  # as grep sees lines
    assert lines[0] == "{" and lines[-1] == "}"
    items = sum(len(v) for v in report.values() if isinstance(v, list))
    members = len(report)
    # A member per line, a list's items a line each, and a closing line per non-empty list.
    closing = sum(1 for v in report.values() if isinstance(v, list) and v)
    assert len(lines) == 2 + members + items + closing


def _report(findings: int) -> RunReport:
    report = RunReport("config_due_dates", "abc123", NOW, NOW, False)
    report.findings = [
        Finding(
            job="config_due_dates",
            rule="config_dates_due",
            item=f"CS-{500 + n}",
            severity=Severity.BREACH,
            summary=f'QA Due Date {n} days late "quoted"\nsecond line',
            facts={"org": "Coastal Sun Power", "days": n},
        )
        for n in range(findings)
    ]
    report.actions = [
        ActionRecord(kind="slack_message", target="#cs-dates", items=["CS-500"], status="sent")
    ]
    return report


def test_grep_finds_a_tickets_whole_finding_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    ReportFile.prepare(path).write([_report(3)])
    text = path.read_text(encoding="utf-8")
    lines = [line for line in text.split("\n") if "CS-501" in line]
    assert len(lines) == 1
    finding = json.loads(lines[0].strip().rstrip(","))
    assert finding["item"] == "CS-501"
    assert finding["facts"] == {"org": "Coastal Sun Power", "days": 1}
    assert finding["summary"] == 'QA Due Date 1 days late "quoted"\nsecond line'
    assert json.loads(text)["findings"][1] == finding


def test_run_all_writes_a_list_of_reports(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    ReportFile.prepare(path).write([_report(1), _report(0)])
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [len(r["findings"]) for r in data] == [1, 0]
    assert data[0] == _report(1).to_dict() | {"findings": data[0]["findings"]}
