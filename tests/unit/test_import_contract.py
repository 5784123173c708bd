"""The layers hold: pure rules and renders import no I/O, and `jobs list` loads no HTTP client.

Read from the source (every ``import``, also inside functions and under ``TYPE_CHECKING``),
so a lazy import cannot hide a layering mistake; and from a fresh interpreter's
``sys.modules``, so the start-up cost of listing jobs stays what it is.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JOBS = ROOT / "jobs"

IMPERATIVE = (
    "jobs.adapters",
    "jobs.ledger",
    "jobs.context",
    "jobs.pipeline",
    "jobs.scheduled",
    "jobs.cli",
    "jobs.act",
    "jobs.registry",
    "jobs.heartbeat",
    "jobs.metrics",
    "jobs.chart_painter",
)
"""Modules that do I/O or run jobs: a rule or a render that imports one is no longer pure."""
CLIENTS = ("jira", "requests", "slack_sdk", "gspread", "urllib3", "google", "psycopg", "httpx")
"""HTTP and database client libraries."""


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _forbidden(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


PURE = sorted([*JOBS.joinpath("rules").glob("*.py"), *JOBS.joinpath("render").glob("*.py")])


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_rules_and_renders_import_nothing_that_does_io(path: Path) -> None:
    bad = [n for n in _imports(path) if _forbidden(n, IMPERATIVE + CLIENTS)]
    assert bad == [], f"{path.relative_to(ROOT)} imports {bad}: rules and renders stay pure"


def test_the_contract_sees_every_rule_module() -> None:
    names = {p.stem for p in PURE}
    assert {"desk", "config_due_dates", "unassigned_first_response"} <= names


def _loaded_by(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    """Exit code and every module loaded by ``python -m jobs ARGV`` in a fresh interpreter."""
    probe = (
        "import io, json, sys\n"
        "from jobs.cli import main\n"
        f"code = main({argv!r}, env={env or {}!r}, out=io.StringIO())\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    return code, loaded


def _tops(modules: list[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


HEAVY = ("jinja2", "holidays", "pandas", "matplotlib", "pydantic", "croniter", "openpyxl")
"""Libraries that cost a run's start-up more than they do for a job that does not use them."""


def test_listing_the_jobs_loads_no_http_or_database_client() -> None:
    code, loaded = _loaded_by(["list"], {"JOBS_CONFIG": "config/settings.yaml"})
    assert code == 0
    assert sorted(_tops(loaded) & set(CLIENTS)) == []


def test_listing_the_jobs_imports_no_job_rule_settings_model_or_heavy_library() -> None:
    code, loaded = _loaded_by(["list"], {"JOBS_CONFIG": "config/settings.yaml"})
    assert code == 0
    jobs_modules = [
        m
        for m in loaded
        if m.startswith(("jobs.rules", "jobs.render", "jobs.scheduled", "jobs.adapters"))
    ]
    assert jobs_modules == []
    assert "jobs.config" not in loaded and "jobs.job" not in loaded
    assert sorted(_tops(loaded) & set(HEAVY)) == []


def test_a_run_imports_only_its_own_job(tmp_path: Path) -> None:
    """Running one job (here a dry run that fails on its missing credentials, before any
    read) imports its own modules and no other job's rule, render or job module."""
    env = {
        "JOBS_CONFIG": "config/settings.yaml",
        "JOBS_LEDGER_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
    }
    code, loaded = _loaded_by(["run", "config_due_dates", "--dry-run"], env)
    assert code == 2  # no JIRA_URL: refused before anything is read
    from jobs.registry import catalog

    other_jobs = tuple(n for n in catalog() if n != "config_due_dates")
    homes = ("jobs.rules.", "jobs.scheduled.", "jobs.render.")
    others = [
        m
        for m in loaded
        if m.startswith(homes) and m.rsplit(".", 1)[-1].startswith((*other_jobs, "onboard_"))
    ]
    assert "jobs.scheduled.config_due_dates" in loaded
    assert others == []
    assert sorted(_tops(loaded) & {"jinja2", "pandas", "matplotlib", "openpyxl"}) == []
    # Standard modules only some runs need: a log file, a name suggestion, a heartbeat's uuid.
    assert sorted({"logging.handlers", "difflib", "uuid"} & set(loaded)) == []


def test_the_process_runs_the_young_cycle_collection_in_large_batches() -> None:
    """A run holds every ticket it reads until it decides: the entry point spaces the cycle
    collector's young passes (`YOUNG_COLLECTION_EVERY`) so it does not walk them over and
    over, whichever command runs."""
    from jobs.cli import YOUNG_COLLECTION_EVERY

    code = (
        "import gc, sys\n"
        "from jobs import cli\n"
        "cli.main = lambda: 0\n"
        "cli.run_process()\n"
        "sys.__stdout__.write(repr(gc.get_threshold()))\n"
    )
    shown = _entry_point_says(code)
    young, older, oldest = json.loads(shown.replace("(", "[").replace(")", "]"))
    assert young == YOUNG_COLLECTION_EVERY > 700
    assert (older, oldest) == (10, 10)  # the older generations keep the interpreter's pace


def test_the_process_hands_the_interpreter_lock_over_sooner() -> None:
    """A thread whose answer has arrived gets the lock within `THREAD_SWITCH_SECONDS`, not
    the interpreter's 5 ms, whichever command runs."""
    from jobs.cli import THREAD_SWITCH_SECONDS

    code = (
        "import sys\n"
        "from jobs import cli\n"
        "cli.main = lambda: 0\n"
        "cli.run_process()\n"
        "sys.__stdout__.write(repr(sys.getswitchinterval()))\n"
    )
    assert float(_entry_point_says(code)) == THREAD_SWITCH_SECONDS < 0.005


def test_the_process_leaves_its_heap_frozen_for_the_exit_whatever_the_command_returned() -> None:
    """At exit the interpreter would walk every object left with the cycle collector only to
    throw it away; the entry point freezes the heap as it returns, also when the command
    raised, so that last walk skips it."""
    code = (
        "import gc, sys\n"
        "from jobs import cli\n"
        "cli.main = lambda: 3\n"
        "before = gc.get_freeze_count()\n"
        "rc = cli.run_process()\n"
        "returned = gc.get_freeze_count() > 1000\n"
        "def boom():\n"
        "    raise KeyboardInterrupt\n"
        "gc.unfreeze()\n"
        "cli.main = boom\n"
        "try:\n"
        "    cli.run_process()\n"
        "except KeyboardInterrupt:\n"
        "    pass\n"
        "raised = gc.get_freeze_count() > 1000\n"
        "sys.__stdout__.write(repr([before, rc, returned, raised]))\n"
    )
    shown = _entry_point_says(code).replace("True", "true").replace("False", "false")
    assert json.loads(shown) == [0, 3, True, True]


def _entry_point_says(code: str) -> str:
    """What ``code`` (which drives `jobs.cli.run_process`) writes to the real stdout, run in a
    process of its own: the entry point changes the interpreter for good."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout
