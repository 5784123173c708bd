"""jobs.jql: quoting and key batches, pure and cheap to import."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.jql import jql_list, jql_quote, key_batches, key_in_clauses
from tests.conftest import ROOT


def test_it_quotes_and_escapes_a_literal() -> None:
    assert jql_quote('Sun "Power" \\ Co') == '"Sun \\"Power\\" \\\\ Co"'


def test_it_refuses_control_characters_and_non_text() -> None:
    with pytest.raises(ValueError, match="control character"):
        jql_quote("Sunrise\nSolar")
    with pytest.raises(TypeError):
        jql_quote(12)  # type: ignore[arg-type]


def test_the_adapter_re_exports_the_same_function() -> None:
    from jobs.adapters.jira import jql_quote as from_adapter

    assert from_adapter is jql_quote


def test_it_splits_keys_into_batches_of_at_most_the_size() -> None:
    keys = [f"SS-{n}" for n in range(1, 251)]

    batches = list(key_batches(keys))

    assert [len(b) for b in batches] == [100, 100, 50]
    assert [k for b in batches for k in b] == keys


def test_it_drops_repeated_keys_keeping_the_first_order() -> None:
    assert list(key_batches(["SS-2", "SS-1", "SS-2", "CS-4"], size=2)) == [
        ["SS-2", "SS-1"],
        ["CS-4"],
    ]


def test_it_yields_nothing_for_no_keys() -> None:
    assert list(key_batches([])) == []
    assert list(key_in_clauses([])) == []


def test_it_refuses_an_empty_batch_size() -> None:
    with pytest.raises(ValueError):
        list(key_batches(["SS-1"], size=0))


def test_it_builds_key_in_clauses_with_quoted_keys() -> None:
    assert list(key_in_clauses(["SS-1", "SS-2", "SS-3"], size=2)) == [
        'key in ("SS-1", "SS-2")',
        'key in ("SS-3")',
    ]
    assert jql_list(["a", 'b"']) == '"a", "b\\""'


@given(st.lists(st.from_regex(r"[A-Z]{2}-[1-9][0-9]{0,3}", fullmatch=True)), st.integers(1, 7))
def test_batches_cover_every_distinct_key_once(keys: list[str], size: int) -> None:
    batches = list(key_batches(keys, size))

    assert all(1 <= len(b) <= size for b in batches)
    assert [k for b in batches for k in b] == list(dict.fromkeys(keys))


def test_importing_it_loads_only_the_standard_library() -> None:
    code = (
        "import sys; before = set(sys.modules); import jobs.jql; "
        "print('\\n'.join(sorted(set(sys.modules) - before)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()

    outside = [
        m
        for m in loaded
        if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] != "jobs"
    ]
    assert outside == []
    assert [m for m in loaded if m.startswith("jobs")] == ["jobs", "jobs.jql"]
