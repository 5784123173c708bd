"""The weekly chart, drawn by a child process that loads the chart library while the job reads.

Matplotlib costs 0.4-0.6 s of CPU to import and 0.3 s to draw the chart. Imported in the
job's own process, even from a thread, it competes for the interpreter lock with the parsing of
the week's search pages. A child started when the job starts reading imports it on another core
while the job waits on Jira; the job then waits only for the drawing. Same code, same bytes: the
child runs `render_chart` on the report the job hands it.

The child is a convenience, never a dependency: if it cannot start, fails, takes too long or
answers anything but a PNG, the chart is drawn in this process as before, and a warning says
why. A child whose chart is not needed (the week was already posted) is stopped by `close`, so
a run never leaves a process behind.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobs.rules.sla_report import WeeklySlaReport

log = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHART_TIMEOUT_SECONDS = 120.0
"""A drawing that takes longer is abandoned and done in this process (a stuck child)."""
CHILD_COMMAND = (sys.executable, "-m", "jobs.chart_painter")
"""This module run as a program (`_draw_from_standard_input`)."""


class ChartPainter:
    """Draws one report's chart; `start` early, `paint` once, `close` when the run is over."""

    def __init__(self, command: Sequence[str] = CHILD_COMMAND) -> None:
        self._command = list(command)
        self._child: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the child (it imports the chart library at once, then waits for a report)."""
        from jobs.secrets import SECRET_ENV_VARS, SERVICE_ACCOUNT_ENV, URL_ENV_VARS

        # The child draws a picture: none of the run's credentials go with it.
        withheld = {*SECRET_ENV_VARS, *URL_ENV_VARS, SERVICE_ACCOUNT_ENV}
        env = {name: value for name, value in os.environ.items() if name not in withheld}
        # The child imports our modules the way this process does (a script that put the
        # project on sys.path itself, a run from another directory).
        env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
        # NumPy's OpenBLAS starts a spinning thread per core when it loads, about 0.1 s of CPU
        # for a chart that multiplies no matrices; one thread unless the operator says otherwise.
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        try:
            self._child = subprocess.Popen(
                self._command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
        except OSError as exc:
            log.warning("chart: the drawing process did not start (%s); drawing here", exc)
            self._child = None

    def paint(self, report: WeeklySlaReport) -> bytes:
        """The chart's PNG bytes, from the child if it draws it, else drawn here."""
        child, self._child = self._child, None
        if child is not None:
            png = _drawn_by(child, report)
            if png is not None:
                return png
        from jobs.render.sla_report_chart import render_chart

        return render_chart(report)

    def close(self) -> None:
        """Stop a child that was never asked for a chart; nothing once `paint` has run."""
        child, self._child = self._child, None
        if child is not None:
            child.kill()
            child.communicate()


def _drawn_by(child: subprocess.Popen[bytes], report: WeeklySlaReport) -> bytes | None:
    try:
        out, err = child.communicate(
            pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL),
            timeout=CHART_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        log.warning(
            "chart: the drawing process took over %.0f s; drawing here", CHART_TIMEOUT_SECONDS
        )
        return None
    if child.returncode == 0 and out.startswith(PNG_SIGNATURE):
        return out
    lines = err.decode("utf-8", "replace").strip().splitlines()
    why = f"exit {child.returncode}" + (f", {lines[-1][:200]}" if lines else "")
    if child.returncode == 0:
        why += ", no PNG"
    log.warning("chart: the drawing process failed (%s); drawing here", why)
    return None


def _draw_from_standard_input() -> int:
    """The child: load the chart library before the report arrives (the job is still reading
    Jira), then draw the pickled report read from standard input as PNG bytes on standard
    output. No input: the job needed no chart."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.figure  # noqa: F401  (loading it while the job reads is the point)

    from jobs.render.sla_report_chart import render_chart

    data = sys.stdin.buffer.read()
    if not data:
        return 0
    # Written by the job that started this process: the same code at both ends, one user.
    report = pickle.loads(data)
    sys.stdout.buffer.write(render_chart(report))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(_draw_from_standard_input())
