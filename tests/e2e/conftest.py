"""End-to-end harness: the emulated desk (Jira, Slack, Sheets on loopback) and the CLI.

def test_it_alerts_once(desk):
    stack = desk("unassigned.yaml", now=NOW)          # people + this workflow's tickets
    result = desk.run("run", "unassigned_first_response", "--now", NOW_ISO)
    assert stack.slack.messages_in("#support-sla")
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, CliResult, run_cli, write_settings

PEOPLE = ROOT / "emulators" / "fixtures" / "demo" / "00_people.yaml"
FIXTURES = Path(__file__).parent / "fixtures"


class Desk:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.stack: Any = None
        self.settings_overrides: dict[str, Any] = {}
        self.env: dict[str, str] = {}

    def __call__(
        self,
        *fixture_files: str | Path,
        now: datetime,
        settings: Mapping[str, Any] | None = None,
        latency: float = 0.0,
    ) -> Any:
        from emulators.fixtures import load_desk
        from emulators.stack import start_stack

        desk_dir = self.tmp_path / "desk"
        desk_dir.mkdir(exist_ok=True)
        shutil.copy(PEOPLE, desk_dir / PEOPLE.name)
        for name in fixture_files:
            src = Path(name) if Path(name).is_absolute() else FIXTURES / name
            shutil.copy(src, desk_dir / src.name)
        self.stack = start_stack(load_desk(desk_dir, now), now=now, latency=latency)
        self.settings_overrides = dict(settings or {})
        self.settings_path = write_settings(self.tmp_path, self.settings_overrides)
        self.env = {
            **self.stack.env(),
            "JOBS_CONFIG": str(self.settings_path),
            "JOBS_LEDGER_URL": f"sqlite:///{self.tmp_path / 'ledger.db'}",
        }
        return self.stack

    def reconfigure(self, settings: Mapping[str, Any]) -> None:
        self.settings_path = write_settings(self.tmp_path, settings)

    def run(self, *args: str, env: Mapping[str, str] | None = None) -> CliResult:
        return run_cli(list(args), {**self.env, **(env or {})})

    def spawn(self, job: str, at: datetime, **extra_env: str) -> subprocess.Popen[str]:
        """``python -m jobs run JOB`` as a real process: a failpoint SIGKILLs it, as a crash
        would (``extra_env`` e.g. ``JOBS_FAILPOINT="after_send"``)."""
        env = {k: v for k, v in os.environ.items() if k != "JOBS_FAILPOINT"}
        env.update(self.env)
        env.update(extra_env)
        return subprocess.Popen(
            [sys.executable, "-m", "jobs", "run", job, "--now", at.isoformat()],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def stop(self) -> None:
        if self.stack is not None:
            self.stack.stop()


def finish(process: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str]:
    """Wait for a spawned run: (exit code, stderr); -9 means it was SIGKILLed."""
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    d = Desk(tmp_path)
    yield d
    d.stop()
