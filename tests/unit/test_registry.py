"""The registry's lines say what the job modules say: `jobs list` shows them without
importing any job, so each line must match its module."""

from __future__ import annotations

import pytest

from jobs import registry


@pytest.mark.parametrize("entry", registry.ENTRIES, ids=lambda e: e.name)
def test_each_line_matches_its_job_module(entry: registry.JobEntry) -> None:
    job = entry.load()

    assert registry.JobEntry.of(job) == entry
    assert entry.config_model() is job.spec.config_model
    assert job.spec.name == entry.name


def test_every_job_module_has_a_line() -> None:
    from pathlib import Path

    scheduled = Path(registry.__file__).with_name("scheduled")
    modules = {f"jobs.scheduled.{p.stem}" for p in scheduled.glob("*.py") if p.stem != "__init__"}
    assert set(registry.JOB_MODULES) == modules


def test_an_unknown_job_is_refused_without_importing_anything() -> None:
    with pytest.raises(registry.UnknownJob):
        registry.get_job("no_such_job")
