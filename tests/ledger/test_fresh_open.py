"""Runs that start together on a brand-new SQLite ledger must all open it."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from jobs.ledger import open_ledger


def _open(path: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    try:
        open_ledger(f"sqlite:///{path}").close()
        results.put("ok")
    except Exception as exc:  # reported to the parent, which asserts on it
        results.put(repr(exc))


def test_several_processes_open_a_fresh_file_at_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    outcomes = []
    for round_ in range(30):
        path = str(tmp_path / f"ledger-{round_}.db")
        results = context.Queue()
        processes = [context.Process(target=_open, args=(path, results)) for _ in range(6)]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        outcomes += [results.get() for _ in processes]
    assert [o for o in outcomes if o != "ok"] == []
