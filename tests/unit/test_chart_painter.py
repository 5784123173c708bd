"""The weekly chart drawn by a child process: the same bytes as drawn here, or drawn here."""

from __future__ import annotations

import logging
import sys

import pytest

from jobs import chart_painter
from jobs.chart_painter import ChartPainter
from jobs.render.sla_report_chart import render_chart
from tests.unit.test_sla_report_render import the_week

PY = sys.executable


@pytest.fixture(scope="module")
def report():
    _, report = the_week()
    return report


@pytest.fixture(scope="module")
def drawn_here(report) -> bytes:
    return render_chart(report)


def test_the_child_draws_the_same_bytes_as_this_process(report, drawn_here, caplog):
    caplog.set_level(logging.WARNING, logger=chart_painter.__name__)
    painter = ChartPainter()
    painter.start()
    assert painter._child is not None

    assert painter.paint(report) == drawn_here
    assert caplog.records == []  # drawn by the child, not by the fallback
    painter.close()  # nothing left to stop


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (
            [PY, "-c", "import sys; print('matplotlib is missing', file=sys.stderr); sys.exit(3)"],
            "exit 3, matplotlib is missing",
        ),
        (
            [PY, "-c", "import sys; sys.stdin.buffer.read(); sys.stdout.write('<html>busy')"],
            "exit 0, no PNG",
        ),
        ([PY, "-c", "import os; os.kill(os.getpid(), 9)"], "exit -9"),
    ],
    ids=["fails", "answers-garbage", "is-killed"],
)
def test_a_child_that_fails_leaves_the_chart_to_this_process(
    command, said, report, drawn_here, caplog
):
    caplog.set_level(logging.WARNING, logger=chart_painter.__name__)
    painter = ChartPainter(command)
    painter.start()

    assert painter.paint(report) == drawn_here
    (record,) = caplog.records
    assert said in record.getMessage() and "drawing here" in record.getMessage()


def test_the_child_gets_none_of_the_runs_credentials(report, caplog, monkeypatch):
    monkeypatch.setenv("JIRA_API_TOKEN", "tok-123456789")
    monkeypatch.setenv("JOBS_LEDGER_URL", "postgresql://u:pw-123456@db/x")
    monkeypatch.setenv("HOME", "/home/desk")
    caplog.set_level(logging.WARNING, logger=chart_painter.__name__)
    shown = "import os; print(*(os.environ.get(n, '-') for n in ('JIRA_API_TOKEN', "
    shown += "'JOBS_LEDGER_URL', 'HOME')), file=__import__('sys').stderr); raise SystemExit(1)"
    painter = ChartPainter([PY, "-c", shown])
    painter.start()

    painter.paint(report)
    assert "exit 1, - - /home/desk" in caplog.records[0].getMessage()


def test_a_child_that_cannot_start_leaves_the_chart_to_this_process(
    tmp_path, report, drawn_here, caplog
):
    caplog.set_level(logging.WARNING, logger=chart_painter.__name__)
    painter = ChartPainter([str(tmp_path / "no-such-python")])
    painter.start()

    assert painter.paint(report) == drawn_here
    assert "did not start" in caplog.records[0].getMessage()


def test_a_stuck_child_is_killed_and_the_chart_drawn_here(report, drawn_here, caplog, monkeypatch):
    monkeypatch.setattr(chart_painter, "CHART_TIMEOUT_SECONDS", 0.5)
    caplog.set_level(logging.WARNING, logger=chart_painter.__name__)
    painter = ChartPainter([PY, "-c", "import time; time.sleep(60)"])
    painter.start()
    child = painter._child

    assert painter.paint(report) == drawn_here
    assert child is not None and child.returncode is not None  # killed and reaped
    assert "took over" in caplog.records[0].getMessage()


def test_a_child_whose_chart_is_not_needed_is_stopped():
    painter = ChartPainter([PY, "-c", "import time; time.sleep(60)"])
    painter.start()
    child = painter._child

    painter.close()
    painter.close()  # once is enough; twice is harmless

    assert child is not None and child.returncode is not None


def test_the_child_with_no_report_exits_quietly():
    import subprocess

    done = subprocess.run(
        list(chart_painter.CHILD_COMMAND), input=b"", capture_output=True, timeout=120
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
