"""Slack escaping and Block Kit builders: ticket text must never mention, link or break out."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.render import slack as render
from jobs.render.slack import ZERO_WIDTH_JOINER as ZWJ

pytestmark = pytest.mark.security


@pytest.mark.parametrize(
    ("ticket_text", "escaped"),
    [
        ("<!channel> urgent", "&lt;!channel&gt; urgent"),
        ("<!here>", "&lt;!here&gt;"),
        ("<!everyone>", "&lt;!everyone&gt;"),
        ("ping <@U123ABC>", "ping &lt;@U123ABC&gt;"),
        ("<https://evil.example|click here>", "&lt;https://evil.example|click here&gt;"),
        ("<#C024BE91L|general>", "&lt;#C024BE91L|general&gt;"),
        ("<!subteam^S0614TZR7|@support>", "&lt;!subteam^S0614TZR7|@support&gt;"),
        ("<!date^1392734382^{date}|Feb 18>", "&lt;!date^1392734382^{date}|Feb 18&gt;"),
        ("Sunrise Roofing & Solar", "Sunrise Roofing &amp; Solar"),
        ("already &lt;escaped&gt;", "already &amp;lt;escaped&amp;gt;"),
        ("a > b < c", "a &gt; b &lt; c"),
        ("plain text", "plain text"),
        ("", ""),
    ],
)
def test_it_escapes_slack_control_sequences_in_ticket_text(ticket_text: str, escaped: str) -> None:
    assert render.escape(ticket_text) == escaped


@pytest.mark.parametrize(
    ("ticket_text", "expected"),
    [
        ("@channel please help", f"@{ZWJ}channel please help"),
        ("hey @here!", f"hey @{ZWJ}here!"),
        ("@Everyone look", f"@{ZWJ}Everyone look"),
        ("(@channel)", f"(@{ZWJ}channel)"),
        ("ops@channel.example wrote", "ops@channel.example wrote"),
        ("@channels-team", "@channels-team"),
        ("@herein", "@herein"),
    ],
)
def test_it_breaks_bare_broadcast_words_but_not_email_addresses(
    ticket_text: str, expected: str
) -> None:
    assert render.escape(ticket_text) == expected


@given(st.text())
def test_escaped_text_never_contains_a_control_sequence(text: str) -> None:
    escaped = render.escape(text)

    assert "<" not in escaped and ">" not in escaped
    assert not re.search(r"&(?!amp;|lt;|gt;)", escaped)
    assert not re.search(r"(?<![\w.+-])@(channel|here|everyone)\b", escaped, re.IGNORECASE)


@given(st.text())
def test_escaping_only_adds_entities_and_joiners(text: str) -> None:
    escaped = render.escape(text)
    entities = {"amp": "&", "lt": "<", "gt": ">"}

    restored = re.sub(r"&(amp|lt|gt);", lambda m: entities[m.group(1)], escaped)

    assert restored.replace(ZWJ, "") == text.replace(ZWJ, "")


def test_it_links_an_http_url_with_an_escaped_label() -> None:
    assert (
        render.link("https://everbright.atlassian.net/browse/SS-1", "SS-1 <b> & co")
        == "<https://everbright.atlassian.net/browse/SS-1|SS-1 &lt;b&gt; &amp; co>"
    )


def test_a_label_cannot_close_the_link_or_start_another() -> None:
    linked = render.link("https://jira.example/browse/SS-1", "a|b> <https://evil|x>")

    assert linked.count("<") == 1 and linked.count(">") == 1
    assert linked.count("|") == 1
    assert linked.startswith("<https://jira.example/browse/SS-1|")


def test_a_url_cannot_close_the_link_either() -> None:
    linked = render.link("https://jira.example/search?q=a b|c>d&x=1", "search")

    assert linked == "<https://jira.example/search?q=a%20b%7Cc%3Ed&amp;x=1|search>"


def test_an_empty_label_shows_the_url() -> None:
    assert render.link("http://jira.example/browse/SS-2") == (
        "<http://jira.example/browse/SS-2|http://jira.example/browse/SS-2>"
    )


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "slack://channel?team=T1&id=C1",
        "mailto:someone@example.com",
        "ftp://files.example/x",
        "//jira.example/browse/SS-1",
        "https://",
        "jira.example/browse/SS-1",
        "https://jira.example/\nbrowse",
        "",
    ],
)
def test_it_refuses_urls_that_are_not_http(url: str) -> None:
    with pytest.raises(ValueError):
        render.link(url, "x")


def test_short_text_is_not_truncated() -> None:
    assert render.truncate("abc", 3) == "abc"


def test_long_text_ends_in_an_ellipsis_within_the_limit() -> None:
    cut = render.truncate("x" * 5000, 3000)

    assert len(cut) == 3000 and cut.endswith("…")


def test_truncation_never_splits_an_entity() -> None:
    text = "a" * 8 + "&amp;" + "b" * 10

    assert render.truncate(text, 11) == "a" * 8 + "…"


def test_truncation_never_splits_a_link() -> None:
    text = "see " + render.link("https://jira.example/browse/SS-1", "SS-1") + " now"

    assert render.truncate(text, 20) == "see…"


@given(st.text(min_size=1), st.integers(min_value=1, max_value=200))
def test_truncated_escaped_text_is_within_the_limit_and_well_formed(text: str, limit: int) -> None:
    cut = render.truncate(render.escape(text), limit)

    assert len(cut) <= limit
    assert not re.search(r"&(?!amp;|lt;|gt;)", cut)


def test_it_refuses_a_limit_below_one() -> None:
    with pytest.raises(ValueError):
        render.truncate("abc", 0)


def test_a_header_is_plain_text_cut_to_150_characters() -> None:
    block = render.header("SLA & breaches " + "x" * 200)

    assert block["type"] == "header"
    assert block["text"]["type"] == "plain_text"
    assert len(block["text"]["text"]) == 150
    assert block["text"]["text"].startswith("SLA & breaches")  # plain_text is not entity-escaped


def test_a_header_still_breaks_broadcast_words() -> None:
    assert render.header("@here SLA")["text"]["text"] == f"@{ZWJ}here SLA"


def test_a_section_is_mrkdwn_cut_to_3000_characters() -> None:
    block = render.section("y" * 4000)

    assert block == {"type": "section", "text": {"type": "mrkdwn", "text": "y" * 2999 + "…"}}


def test_fields_keep_ten_of_at_most_2000_characters() -> None:
    block = render.fields(*[f"*{n}*\n" + "z" * 3000 for n in range(12)])

    assert len(block["fields"]) == 10
    assert all(len(f["text"]) == 2000 for f in block["fields"])


def test_a_field_escapes_its_label_and_trusts_its_value() -> None:
    assert (
        render.field("Org <x>", "<https://a.example|A>") == "*Org &lt;x&gt;*\n<https://a.example|A>"
    )


def test_context_keeps_ten_elements_and_skips_empty_ones() -> None:
    block = render.context(["", *[str(n) for n in range(12)]])

    assert [e["text"] for e in block["elements"]] == [str(n) for n in range(10)]


def test_a_context_needs_something_to_show() -> None:
    with pytest.raises(ValueError):
        render.context(["", ""])


def test_a_divider_is_a_divider() -> None:
    assert render.divider() == {"type": "divider"}


def test_blocks_are_chunked_fifty_to_a_message() -> None:
    blocks = [render.section(str(n)) for n in range(120)]

    chunks = render.chunk_blocks(blocks)

    assert [len(c) for c in chunks] == [50, 50, 20]
    assert [b for c in chunks for b in c] == blocks


def test_no_blocks_make_no_messages() -> None:
    assert render.chunk_blocks([]) == []


def test_fallback_text_is_escaped_and_within_slacks_limit() -> None:
    text = render.fallback_text("<!channel> " + "x" * 50_000)

    assert text.startswith("&lt;!channel&gt;")
    assert len(text) == render.MAX_MESSAGE_TEXT
