"""The report's arithmetic: nearest-rank percentiles with unanswered tickets ranked last."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.rules.sla_report_figures import (
    Figures,
    Outcome,
    Percentile,
    censored_percentile,
    figures_by,
    figures_of,
)

M = timedelta(minutes=1)


@dataclass(frozen=True)
class Row:
    outcome: Outcome
    response_time: timedelta | None = None
    waited: timedelta | None = None
    group: str = "a"


@pytest.mark.parametrize(
    ("answered", "waiting", "p", "expected"),
    [
        ([], [], 50, None),
        ([5], [], 50, Percentile(5 * M)),
        ([5], [], 90, Percentile(5 * M)),
        ([1, 2], [], 50, Percentile(1 * M)),
        ([4, 3, 2, 1], [], 90, Percentile(4 * M)),
        (list(range(1, 11)), [], 50, Percentile(5 * M)),
        (list(range(1, 11)), [], 90, Percentile(9 * M)),
        (list(range(1, 21)), [], 90, Percentile(18 * M)),
        # 8 answered, 2 waiting: rank 5 is an answer, rank 9 the first waiting ticket, whose
        # time is more than its wait (60) and than the slowest answer (270).
        ([20, 30, 45, 75, 120, 121, 180, 270], [60, 3660], 50, Percentile(120 * M)),
        ([20, 30, 45, 75, 120, 121, 180, 270], [60, 3660], 90, Percentile(270 * M, True)),
        ([20, 30, 45, 75, 120, 121, 180, 270], [3660, 60], 100, Percentile(3660 * M, True)),
        # Nothing answered: more than the wait of the ticket at that rank.
        ([], [30, 10, 20], 50, Percentile(20 * M, True)),
        # 7 answered of 22 (the demo week): the median lands among the unanswered.
        (list(range(1, 8)), list(range(100, 1600, 100)), 50, Percentile(400 * M, True)),
    ],
)
def test_it_takes_nearest_rank_percentiles_with_unanswered_tickets_last(
    answered, waiting, p, expected
):
    got = censored_percentile([v * M for v in answered], [v * M for v in waiting], p)
    assert got == expected


@pytest.mark.parametrize("p", [0, -5, 101])
def test_it_refuses_a_percentile_outside_1_to_100(p):
    with pytest.raises(ValueError):
        censored_percentile([M], [], p)


def test_it_counts_every_ticket_in_compliance():
    rows = [
        Row("met", 30 * M),
        Row("breached", 3 * 60 * M),
        Row("breached", None, 61 * 60 * M),
        Row("open", None, 60 * M),
    ]
    f = figures_of(rows)
    assert (f.created, f.answered, f.unanswered, f.answered_late) == (4, 2, 2, 1)
    assert f.compliance == 25.0
    assert Figures().compliance is None


outcomes = st.sampled_from(["met", "breached", "open"])
rows = st.builds(
    lambda outcome, minutes, group, answered: Row(
        outcome,
        minutes * M if answered and outcome != "open" else None,
        None if answered and outcome != "open" else minutes * M,
        group,
    ),
    outcomes,
    st.integers(min_value=0, max_value=20_000),
    st.sampled_from(["Acme", "Sunrise", "(none)"]),
    st.booleans(),
)


@settings(max_examples=100, deadline=None)  # no timed assertions
@given(st.lists(rows, max_size=40))
def test_each_groups_figures_are_those_of_its_tickets_alone(items):
    by_group = figures_by(items, lambda r: r.group, ["Acme"])
    for name, figures in by_group.items():
        assert figures == figures_of([r for r in items if r.group == name])
    assert "Acme" in by_group
    assert sum(f.created for f in by_group.values()) == len(items)
