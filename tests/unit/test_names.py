"""Company-name normalization and matching: real-looking pairs, look-alikes, properties."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jobs.rules.names import (
    CONTAINED,
    NEEDS_A_LOOK,
    TRADE_ONLY,
    NameIndex,
    best_match,
    compare_names,
    name_score,
    name_tokens,
    normalize_name,
)

MATCH, NEAR = 90, 75  # the job's default thresholds


def verdict(score: int) -> str:
    return "match" if score >= MATCH else "near" if score >= NEAR else "none"


# (sheet name, ticket name, expected verdict at the default thresholds)
PAIRS = [
    # the same installer, typed differently: must match
    ("Sunrise Solar Co", "Sunrise Solar", "match"),
    ("Sunrise Solar Co.", "SUNRISE SOLAR CO", "match"),
    ("Bright Path Energy, LLC", "Bright Path Energy LLC", "match"),
    ("Smith & Sons Roofing", "Smith and Sons Roofing Inc", "match"),
    ("  Green  Leaf   Solar  ", "Green Leaf Solar", "match"),
    ("Acme Solar, Inc.", "ACME SOLAR INCORPORATED", "match"),
    ("O'Brien Electric", "OBrien Electric LLC", "match"),
    ("O’Brien Electric", "O'Brien Electric", "match"),
    ("Solar Solutions Corp", "Solar Solutions Corporation", "match"),
    ("Énergie Solaire Québec", "Energie Solaire Quebec Inc", "match"),
    ("The Solar Guys", "Solar Guys LLC", "match"),
    ("Sun-Valley Solar", "Sun Valley Solar", "match"),
    ("Blue Sky Renewables L.L.C.", "Blue Sky Renewables", "match"),
    ("Peak Power Systems Ltd", "Peak Power Systems Limited", "match"),
    ("Solar Pros Arizona", "Arizona Solar Pros", "match"),
    ("Momentum Solar", "Momentum Solar LLC", "match"),
    ("Sunrise Solar Co", "Sunrise Solar Company, LLC", "match"),
    ("Desert\u00a0Sun Solar", "Desert Sun Solar", "match"),
    ("ＳＵＮＲＩＳＥ　ＳＯＬＡＲ", "Sunrise Solar", "match"),
    # probably the same, but a person should check: near miss
    ("Bright Path Energy, LLC", "Brightpath Energy", "near"),
    ("SolarCity", "Solar City", "near"),
    ("North Star Solar", "Northstar Solar", "near"),
    ("Sun Power Co", "SunPower Inc", "near"),
    ("A1 Solar", "A-1 Solar", "near"),
    ("Sunshine Contractors", "Sunshine Contracters", "near"),
    ("Sunrise Solar", "Sunrize Solar", "near"),
    ("Sunrise Solar", "Sunrise Solar & Roofing", "near"),
    ("Solar Guys of Texas", "Solar Guys", "near"),
    ("Sunnova", "Sunnova Energy", "near"),
    # look-alikes that are other companies: must NOT match
    ("Johnson Electric", "Johnston Electric", "near"),  # one letter: never silently equal
    ("Sun Power Co", "SunPower Solar Inc", "none"),
    ("Sunrise Solar", "Sunset Solar", "none"),
    ("Solar Energy Partners", "Solar Energy Professionals", "none"),
    ("ABC Solar", "ABD Solar", "none"),
    ("Green Energy Solutions", "Greenway Energy Solutions", "none"),
    ("Solar 1 Inc", "Solar 2 Inc", "none"),
    ("Blue Sky Solar", "Blue Sky Roofing", "none"),
    ("Bright Star Solar", "Bright Path Solar", "none"),
    ("Sunrise Solar", "Sunrise Energy", "none"),
    ("Tesla Energy", "Tesla Solar", "none"),
    ("Vivint Solar", "Vivint Smart Home", "none"),
    ("Freedom Forever", "Freedom Solar", "none"),
    ("Palmetto Solar", "Palmetto Clean Technology", "none"),
    ("ABC Solar Energy Systems", "XYZ Solar Energy Systems", "none"),
    ("Apex Solar", "Apex Roofing", "none"),
    ("Solar Energy Systems", "Solar Energy Services", "none"),
    ("Sunrise Solar", "", "none"),
]


@pytest.mark.parametrize(("sheet", "ticket", "expected"), PAIRS)
def test_it_classifies_real_looking_name_pairs(sheet: str, ticket: str, expected: str) -> None:
    match = compare_names(sheet, ticket)
    assert verdict(match.score) == expected, match


def test_the_table_has_enough_pairs_and_look_alikes() -> None:
    assert len(PAIRS) >= 30
    assert sum(1 for *_, v in PAIRS if v == "none") >= 10


@pytest.mark.parametrize(("sheet", "ticket", "_"), PAIRS)
def test_it_scores_both_ways_the_same(sheet: str, ticket: str, _: str) -> None:
    assert name_score(sheet, ticket) == name_score(ticket, sheet)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("Bright Path Energy, L.L.C.", "bright path energy"),
        ("BRIGHT PATH ENERGY LLC", "bright path energy"),
        ("Smith & Sons", "smith and sons"),
        ("Smith and Sons, Inc.", "smith and sons"),
        ("The Solar Guys", "solar guys"),
        ("The Company", "the"),  # never normalized away to nothing
        ("Inc", "inc"),
        ("Sunrise Solar Co., LLC", "sunrise solar"),
        ("St.Louis Solar", "st louis solar"),
        ("J.B. Solar", "jb solar"),
        ("Joe's Roofing", "joes roofing"),
        ("Café Énergie", "cafe energie"),
        ("  tabs\tand\nnewlines  ", "tabs and newlines"),
        ("ＡＣＭＥ　ＬＬＣ", "acme"),
        ("Straße Solar", "strasse solar"),
        ("—", ""),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_it_normalizes_what_never_distinguishes_two_companies(raw: object, normalized: str) -> None:
    assert normalize_name(raw) == normalized


def test_it_keeps_legal_words_that_are_not_at_the_end() -> None:
    assert name_tokens("Co Op Solar") == ("co", "op", "solar")


def test_it_scores_identical_words_100_and_nothing_else() -> None:
    assert name_score("Sunrise Solar LLC", "sunrise solar") == 100
    assert name_score("Sunrise Solar", "Sunrise Solar Roofing") < 100


def test_it_caps_spelling_and_spacing_variants_below_a_default_match() -> None:
    for a, b in [("Brightpath Energy", "Bright Path Energy"), ("Johnson", "Johnston")]:
        assert compare_names(a, b).score <= NEEDS_A_LOOK < MATCH


def test_it_says_why_two_names_differ() -> None:
    assert "spacing differs" in compare_names("Brightpath Energy", "Bright Path Energy").reason
    assert "spelling differs" in compare_names("Johnson Electric", "Johnston Electric").reason
    assert "only trade words" in compare_names("ABC Solar", "XYZ Solar").reason
    assert "contains" in compare_names("Solar Guys", "Solar Guys of Texas").reason


def test_it_gives_contained_names_a_floor_only_with_a_distinctive_word() -> None:
    assert compare_names("Apex", "Apex Solar Roofing and Electric of Florida").score == CONTAINED
    assert compare_names("Solar", "Sunrise Solar").score <= TRADE_ONLY


def test_it_picks_the_best_candidate_first_on_ties() -> None:
    best = best_match("Sunrise Solar", ["Sunset Solar", "Sunrise Solar LLC", "Sunrise Solar"])
    assert best is not None and best.score == 100 and best.right == "sunrise solar"
    assert best_match("Sunrise Solar", []) is None


# -- properties ----------------------------------------------------------------------------------

WORDS = st.sampled_from(
    ["sun", "power", "sunpower", "solar", "bright", "path", "brightpath", "co", "llc", "inc",
     "the", "&", "and", "energy", "Sunrise", "sunrize", "O'Brien", "J.B.", "A-1", "12", "Ltd."]
)  # fmt: skip
NAMES = st.lists(WORDS, min_size=0, max_size=6).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.text())
@example("ＬＬＣ ＬＬＣ")
@example("the the L.L.C.")
@example("ǅ ß İ ς ﬃ ŉ ¼")
def test_normalizing_twice_changes_nothing(text: str) -> None:
    once = normalize_name(text)
    assert normalize_name(once) == once


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
@example("The Bright-Path L.L.C. & Sons, Inc.")
@example("O'BRIEN_solar\t42\x00")
def test_ascii_names_fold_and_split_as_any_other_text(text: str) -> None:
    """ASCII takes a shorter way (lower case, then runs of [a-z0-9]); it must end where the
    general way does."""
    from jobs.rules import names

    assert names._fold(text) == names._fold_unicode(text)
    folded = names._fold(text)
    assert names._words(folded) == names._words_unicode(folded)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalizing_ignores_case(text: str) -> None:
    assert normalize_name(text.upper()) == normalize_name(text.lower()) == normalize_name(text)


@settings(max_examples=200, deadline=None)
@given(NAMES, st.sampled_from([" ", "  ", "\t", "\u00a0", "\n "]))
def test_normalizing_ignores_extra_whitespace(name: str, gap: str) -> None:
    spaced = gap + name.replace(" ", gap + " ") + gap
    assert normalize_name(spaced) == normalize_name(name)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text())
def test_scoring_never_raises_and_stays_in_range(a: str, b: str) -> None:
    match = compare_names(a, b)
    assert 0 <= match.score <= 100
    assert isinstance(match.reason, str)


@settings(max_examples=300, deadline=None)
@given(NAMES, NAMES)
def test_scoring_is_symmetric(a: str, b: str) -> None:
    assert name_score(a, b) == name_score(b, a)


@settings(max_examples=200, deadline=None)
@given(NAMES)
def test_a_name_matches_itself_exactly_once_normalized(a: str) -> None:
    expected = 100 if normalize_name(a) else 0
    assert name_score(a, a) == expected
    assert name_score(a, a.upper() + ", LLC") == expected


# -- many names ----------------------------------------------------------------------------------


def test_the_index_finds_exact_names_in_any_order() -> None:
    index = NameIndex(["Sunrise Solar LLC", "Solar Sunrise", "Sunset Solar", ""])
    assert index.exact("SUNRISE SOLAR") == [0, 1]
    assert index.exact("Sunrise") == []


def test_the_index_offers_look_alikes_but_not_trade_word_neighbours() -> None:
    index = NameIndex(["Brightpath Energy", "Bright Pathway Solar", "Sunset Solar", "Acme Energy"])
    assert index.candidates("Bright Path Energy LLC") == [0, 1]
    assert index.candidates("Sunrise Solar") == []


@settings(max_examples=300, deadline=None)
@given(NAMES, st.lists(NAMES, max_size=8))
def test_the_index_never_hides_a_name_that_scores_above_trade_only(
    name: str, others: list[str]
) -> None:
    index = NameIndex(others)
    offered = set(index.candidates(name))
    for k, other in enumerate(others):
        if name_score(name, other) > TRADE_ONLY:
            assert k in offered, (name, other, compare_names(name, other))
    assert all(name_score(name, others[k]) == 100 for k in index.exact(name))
