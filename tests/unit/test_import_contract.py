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


def test_listing_the_jobs_loads_no_http_or_database_client() -> None:
    probe = (
        "import io, json, sys\n"
        "from jobs.cli import main\n"
        "code = main(['list'], env={'JOBS_CONFIG': 'config/settings.yaml'}, out=io.StringIO())\n"
        "print(json.dumps([code, sorted({m.split('.')[0] for m in sys.modules})]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 0
    assert sorted(set(loaded) & set(CLIENTS)) == []
