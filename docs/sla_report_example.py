"""Regenerate docs/sla_report.png: the weekly SLA chart of the 10,000-ticket benchmark desk.

    .venv/bin/python docs/sla_report_example.py

The desk is generated from a fixed seed (`bench.desk`) as of Monday 2026-11-23 10:00 New York,
served by the loopback emulators, and ``python -m jobs report sla --week 2026-W47`` writes the
chart; the same bytes every time.
"""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.desk import DeskShape  # noqa: E402
from bench.run import NOW, bench_settings, start_bench_stack  # noqa: E402
from jobs.cli import main as jobs_main  # noqa: E402

WEEK = "2026-W47"


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="sla-chart-"))
    stack = start_bench_stack(DeskShape(open_tickets=10_000), now=NOW, latency=0.0)
    try:
        env = {
            **stack.env(),
            "JOBS_CONFIG": str(bench_settings(work)),
            "JOBS_LEDGER_URL": f"sqlite:///{work / 'ledger.db'}",
        }
        code = jobs_main(
            ["report", "sla", "--week", WEEK, "--out", str(work)], env=env, out=io.StringIO()
        )
        if code:
            return code
        shutil.copyfile(work / f"sla_{WEEK}.png", ROOT / "docs" / "sla_report.png")
        print(f"wrote {ROOT / 'docs' / 'sla_report.png'}")
        return 0
    finally:
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
