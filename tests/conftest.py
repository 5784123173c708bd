"""Shared test helpers: settings files built from the real config, and the CLI run in-process."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "settings.yaml"
TEMPLATES = ROOT / "config" / "templates"


def deep_merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def write_settings(
    directory: Path, overrides: Mapping[str, Any] | None = None, *, only_jobs: Any = None
) -> Path:
    """A copy of config/settings.yaml with overrides, templates pointing at the real ones.

    ``only_jobs`` keeps just those job sections (for tests that register their own jobs).
    """
    data = yaml.safe_load(CONFIG.read_text())
    data["templates_dir"] = str(TEMPLATES)
    # The Home tab is published after every run, a feature of its own with its own calls: off
    # in the test desks, so a test counts its job's calls only. Its tests turn it on.
    data.setdefault("slack_app", {})["home_tab"] = False
    if only_jobs is not None:
        data["jobs"] = {k: v for k, v in data.get("jobs", {}).items() if k in set(only_jobs)}
    data = deep_merge(data, overrides or {})
    path = directory / "settings.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def run_cli(args: list[str], env: Mapping[str, str], capsys: Any = None) -> CliResult:
    """Run ``python -m jobs`` in-process (fast) with an explicit environment."""
    from jobs.cli import main

    out = io.StringIO()
    err = io.StringIO()
    old_err = sys.stderr
    sys.stderr = err
    try:
        code = main(args, env=dict(env), out=out)
    finally:
        sys.stderr = old_err
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def settings_factory(tmp_path: Path):
    def make(overrides: Mapping[str, Any] | None = None) -> Path:
        return write_settings(tmp_path, overrides)

    return make


# -- make test and make reliability skip nothing ----------------------------------------------

NO_SKIP_ENV = "JOBS_TEST_NO_SKIP"
"""Set by `make test` and `make reliability`: a skipped test is a failure there, so a
PostgreSQL that did not start, or a tool that is missing, cannot pass unnoticed."""


def _skip_reason(report: Any) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr or "")


def _fail_skip(report: Any) -> None:
    if (
        os.environ.get(NO_SKIP_ENV, "").strip() not in ("", "0")
        and report.skipped
        and not hasattr(report, "wasxfail")
    ):
        report.outcome = "failed"
        report.longrepr = (
            f"skipped, but {NO_SKIP_ENV} is set (make test / make reliability skip nothing): "
            f"{_skip_reason(report)}"
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    outcome = yield
    _fail_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: Any) -> Any:
    outcome = yield
    _fail_skip(outcome.get_result())


@pytest.fixture(autouse=True)
def spec_contract(request: pytest.FixtureRequest) -> Any:
    """Every exchange with the emulators in every test, against the vendors' published specs
    (`tests.contract.spec_check`): answers on spec, and anything a test sends off spec refused.
    Injected faults are exempt, and so are tests marked ``off_spec`` (they judge their own)."""
    from tests.contract.spec_check import Recorder, judge, specs_available

    if not specs_available() or request.node.get_closest_marker("off_spec"):
        yield
        return
    with Recorder() as recorder:
        yield
    if recorder.exchanges:
        violations = judge(recorder.exchanges, requests_must_be_valid=False)
        assert not violations, "off the vendors' specs:\n" + "\n".join(map(str, violations[:15]))
