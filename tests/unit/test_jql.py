"""jobs.jql: quoting and key batches, pure and cheap to import."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.jql import jql_list, jql_quote, key_batches, without_order
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


def _keys_of(clause: str) -> list[str]:
    assert clause.startswith("key in (") and clause.endswith(")")
    return [k.strip().strip('"') for k in clause[len("key in (") : -1].split(",")]


def test_it_splits_keys_into_clauses_of_at_most_the_size() -> None:
    keys = [f"SS-{n}" for n in range(1, 251)]

    clauses = key_batches(keys)

    assert [len(_keys_of(c)) for c in clauses] == [100, 100, 50]
    assert [k for c in clauses for k in _keys_of(c)] == keys


def test_it_names_each_key_once_in_the_order_given() -> None:
    assert key_batches(["SS-2", "SS-1", "SS-2", "CS-4"], size=2) == [
        'key in ("SS-2", "SS-1")',
        'key in ("CS-4")',
    ]


def test_it_gives_no_clause_for_no_keys() -> None:
    assert key_batches([]) == []


def test_it_refuses_an_empty_clause_size() -> None:
    with pytest.raises(ValueError):
        key_batches(["SS-1"], size=0)


def test_it_quotes_each_key_and_list() -> None:
    assert key_batches(['SS-1"'], size=2) == ['key in ("SS-1\\"")']
    assert jql_list(["a", 'b"']) == '"a", "b\\""'


@given(st.lists(st.from_regex(r"[A-Z]{2}-[1-9][0-9]{0,3}", fullmatch=True)), st.integers(1, 7))
def test_clauses_cover_every_distinct_key_once(keys: list[str], size: int) -> None:
    clauses = key_batches(keys, size)

    assert all(1 <= len(_keys_of(c)) <= size for c in clauses)
    assert [k for c in clauses for k in _keys_of(c)] == list(dict.fromkeys(keys))


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


@pytest.mark.parametrize(
    ("jql", "where"),
    [
        ('project = "SS" ORDER BY key', 'project = "SS"'),
        ('project = "SS" order  by created DESC, key', 'project = "SS"'),
        ('summary ~ "order by" ORDER BY created', 'summary ~ "order by"'),
        ("summary ~ 'x order by y' AND a = b", "summary ~ 'x order by y' AND a = b"),
        ('summary ~ "a \\" order by" ORDER BY key', 'summary ~ "a \\" order by"'),
        ("recorder = x", "recorder = x"),
        ("ORDER BY key", ""),
        ('project = "SS"', 'project = "SS"'),
    ],
)
def test_without_order_drops_the_order_clause_outside_quoted_text(jql: str, where: str) -> None:
    assert without_order(jql) == where


@given(
    st.lists(
        st.one_of(
            st.sampled_from(["project = SS", "AND", "OR", "labels in (a, b)", "reorder = 1"]),
            st.text(st.characters(min_codepoint=32, exclude_characters="\x7f"), max_size=12).map(
                jql_quote
            ),
            st.sampled_from(['"order by"', "'a order by b'", '"x\\" order by"']),
        ),
        max_size=6,
    ),
    st.sampled_from(["", " ORDER BY key", " order by created DESC, key ASC"]),
)
def test_a_quoted_value_never_ends_the_query_early(parts: list[str], order: str) -> None:
    """Whatever a quoted value says ("order by" included), only the clause after it goes."""
    where = " ".join(parts)
    assert without_order(where + order) == where.rstrip()
