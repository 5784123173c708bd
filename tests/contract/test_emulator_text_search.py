"""The emulators' ``~`` (word search) skips a text before splitting it into words when a stem
the query asks for is not in it; the answer must be the one splitting every text gives."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from emulators.jql import TextQuery, _stem

WORDS = ["approval", "approvals", "approved", "Onboarding", "new", "NEW", "Straße", "ticket"]
word = st.sampled_from(WORDS) | st.text(alphabet="abcdeßİ", min_size=1, max_size=6)


def split_every_text(text: str, query: str) -> bool:
    """Jira's ``~`` read plainly: split the text into stemmed words, then look."""
    words = [w.casefold() for w in re.findall(r"\w+", text)]
    stems = [_stem(w) for w in words]
    checked = False
    for phrase in re.findall(r'"([^"]*)"', query):
        wanted = [_stem(w.casefold()) for w in re.findall(r"\w+", phrase)]
        if wanted:
            checked = True
            if not any(stems[i : i + len(wanted)] == wanted for i in range(len(stems))):
                return False
    for term in re.findall(r"\w+\*?", re.sub(r'"[^"]*"', " ", query)):
        checked = True
        if term.endswith("*"):
            if not any(w.startswith(term[:-1].casefold()) for w in words):
                return False
        elif _stem(term.casefold()) not in stems:
            return False
    return checked


@settings(max_examples=400, deadline=None)
@given(
    text=st.lists(word, max_size=8).map(" ".join),
    terms=st.lists(word, max_size=3),
    phrase=st.lists(word, max_size=3),
    star=st.booleans(),
)
def test_skipping_a_text_never_changes_the_answer(
    text: str, terms: list[str], phrase: list[str], star: bool
) -> None:
    parts = list(terms)
    if star and parts:
        parts[-1] = parts[-1][:3] + "*"
    if phrase:
        parts.append('"' + " ".join(phrase) + '"')
    query = " ".join(parts)
    assert TextQuery.parse(query).matches(text) == split_every_text(text, query)


def test_the_onboarding_phrase_matches_its_summary_only() -> None:
    query = TextQuery.parse('"New Onboarding - Integrated Finance"')
    assert query.matches("Acme: New Onboarding - Integrated Finance")
    assert not query.matches("Onboarding for new Integrated Finance customer")
    assert not TextQuery.parse('""').matches("anything")
