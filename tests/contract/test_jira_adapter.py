"""JiraAdapter (on the real ``jira`` library) against the Jira emulator's REST contract."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from emulators import jql
from emulators.jira import REMOVED_SEARCH_MESSAGE, JiraEmulator
from jobs.adapters.http import (
    CallCounter,
    CredentialError,
    PermanentError,
    RetryBudget,
    TransientError,
)
from jobs.adapters.jira import JiraAdapter, jql_quote
from jobs.model import StatusCategory
from tests.contract.conftest import NOW

SEARCH = r"/rest/api/3/search/jql$"
ALL_SS = 'project = "SS" ORDER BY key ASC'
SS_KEYS = [f"SS-{n}" for n in range(1, 10)]


def _search_bodies(emulator: JiraEmulator) -> list[dict]:
    return [c.body for c in emulator.calls_to(SEARCH, "POST")]


def _auth(emulator: JiraEmulator) -> tuple[str, str]:
    return (emulator.email, emulator.token)


# -- search ------------------------------------------------------------------------------------


def test_answers_are_read_whole_over_one_kept_connection(
    jira_adapter: JiraAdapter, jira_emulator: JiraEmulator
) -> None:
    """Each answer is read to its end, so the connection goes back to the pool for the next
    call: one connection for a run's searches, pages and writes."""
    first = [t.key for t in jira_adapter.search(ALL_SS, ["summary", "comment"], page_size=2)]
    again = [t.key for t in jira_adapter.search(ALL_SS, ["summary"], page_size=50)]
    jira_adapter.add_internal_comment("SS-1", "checked")

    assert first == again == SS_KEYS
    session = jira_adapter._jira()._session
    pools = session.get_adapter(jira_emulator.url).poolmanager.pools
    opened = sum(pools[key].num_connections for key in pools.keys())
    # Pages asked early (`EarlyPages`) may need a second connection, never one per call.
    assert 1 <= opened <= 2 < len(jira_emulator.calls)


def test_it_pages_a_search_with_next_page_token(jira_adapter, jira_emulator, jira_counter) -> None:
    tickets = list(jira_adapter.search(ALL_SS, ["summary", "status"], page_size=3))

    assert [t.key for t in tickets] == SS_KEYS
    bodies = _search_bodies(jira_emulator)
    assert len(bodies) == 3
    assert "nextPageToken" not in bodies[0]
    assert bodies[1]["nextPageToken"] and bodies[2]["nextPageToken"] != bodies[1]["nextPageToken"]
    assert all(b["maxResults"] == 3 and b["jql"] == ALL_SS for b in bodies)
    # serverInfo (the library, at construction) + one GET /field + three pages
    assert jira_counter.as_dict()["jira"] == 5
    assert len(jira_emulator.calls) == 5


def test_it_streams_pages_instead_of_fetching_them_all(jira_adapter, jira_emulator) -> None:
    import time

    from jobs.adapters.jira.client import PAGES_AHEAD

    tickets = jira_adapter.search(ALL_SS, ["summary"], page_size=1)

    first = next(tickets)
    time.sleep(0.5)  # long enough for every page the search would fetch ahead to be asked

    assert first.key == "SS-1"
    # The page being read, the next one, and at most PAGES_AHEAD asked early: never the
    # whole result, however long the consumer takes.
    asked = len(_search_bodies(jira_emulator))
    assert 2 <= asked <= 2 + PAGES_AHEAD
    rest = list(tickets)
    assert 1 + len(rest) > 2 + PAGES_AHEAD  # there were more pages than that to fetch
    assert len(_search_bodies(jira_emulator)) == 1 + len(rest)  # and no page asked twice
    tickets.close()


def test_it_asks_for_fields_by_id_when_given_display_names(jira_adapter, jira_emulator) -> None:
    fields = ["Organizations", "Request Type", "Channel", "Time to first response", "labels"]

    (ticket,) = jira_adapter.search('key = "SS-1"', fields)

    requested = _search_bodies(jira_emulator)[0]["fields"]
    assert {
        "customfield_10002",
        "customfield_10010",
        "customfield_10043",
        "customfield_10030",
    } <= set(requested)
    assert "Organizations" not in requested
    assert ticket.organizations == ("Sunrise Solar Co",)
    assert ticket.organization == "Sunrise Solar Co"
    assert ticket.request_type == "Company-specific Data Change"
    assert ticket.channel == ("Email",)
    assert ticket.labels == ("EB",)
    assert ticket.status == "Open" and ticket.status_category is StatusCategory.NEW
    assert ticket.created == NOW - timedelta(hours=3)
    assert ticket.url == f"{jira_emulator.url}/browse/SS-1"


def test_it_reads_the_field_list_once_per_adapter(jira_adapter, jira_emulator) -> None:
    list(jira_adapter.search('key = "SS-1"', ["Organizations"]))
    list(jira_adapter.search('key = "SS-2"', ["Channel", "QA Due Date"]))
    jira_adapter.field_ids()

    assert len(jira_emulator.calls_to(r"/field$")) == 1


def test_it_names_a_custom_field_the_site_does_not_have(jira_adapter, jira_emulator) -> None:
    with pytest.raises(PermanentError, match="'Renewal Date' does not exist"):
        jira_adapter.search(ALL_SS, ["summary", "Renewal Date"])

    assert _search_bodies(jira_emulator) == []


def test_it_parses_description_and_configuration_fields(jira_adapter) -> None:
    fields = ["description", "Configuration Date", "QA Due Date", "QA Assignee", "duedate"]
    (cs,) = jira_adapter.search('key = "CS-1"', [*fields, "assignee", "issuetype"])
    (ss,) = jira_adapter.search('key = "SS-1"', ["description", "reporter"])

    assert cs.configuration_date == date(2026, 11, 4)
    assert cs.qa_due_date == cs.due_date == date(2026, 11, 5)
    assert cs.qa_assignee is not None and cs.qa_assignee.display_name == "Cherish Sharma"
    assert cs.assignee is not None and cs.assignee.account_id == "acc-luis-moreno"
    assert cs.issue_type == "Task" and cs.project == "CS"
    # v3 answers with ADF; the adapter flattens it back to the text agents wrote.
    assert ss.description == (
        "Contractor name: Sunrise Solar Co\nContact: dana.whitfield@sunrise-solar.example"
    )
    assert ss.reporter is not None and ss.reporter.email == "onboarding@goeverbright.example"


def test_it_keeps_mentions_in_comment_bodies(jira_adapter) -> None:
    (ticket,) = jira_adapter.search('key = "SS-2"', ["comment"])

    internal = [c for c in ticket.comments if not c.public]
    assert [c.body for c in internal] == [
        "[~accountid:acc-rachel-kim] is this account on invoice billing?"
    ]


def test_it_tells_public_replies_from_internal_notes(jira_adapter) -> None:
    (ticket,) = jira_adapter.search('key = "SS-2"', ["comment"])

    assert [(c.author.display_name if c.author else None, c.public) for c in ticket.comments] == [
        ("Omar Haddad", True),
        ("Maya Patel", True),
        ("Maya Patel", False),
    ]
    assert ticket.comments_total == 3 and ticket.comments_complete


def test_it_tells_customers_from_agents_by_account_type(jira_adapter) -> None:
    (ticket,) = jira_adapter.search('key = "SS-2"', ["comment"])

    assert [c.author.account_type if c.author else None for c in ticket.comments] == [
        "customer",
        "atlassian",
        "atlassian",
    ]


def test_it_pages_comments_only_when_the_search_truncated_them(jira_adapter, jira_emulator) -> None:
    bodies = [f"note {n}" for n in range(25)]
    jira_emulator.add_issue(
        key="SS-50",
        summary="Long thread",
        created="-1d",
        reporter="dana.whitfield@sunrise-solar.example",
        comments=[{"author": "Maya Patel", "body": b, "created": "-20h"} for b in bodies],
    )
    long_one, short_one = jira_adapter.search(
        'key in ("SS-50", "SS-2") ORDER BY key DESC', ["comment"]
    )

    assert (len(long_one.comments), long_one.comments_total) == (20, 25)
    assert not long_one.comments_complete
    assert jira_adapter.with_all_comments(short_one) is short_one
    assert jira_emulator.calls_to(r"/comment$") == []

    complete = jira_adapter.with_all_comments(long_one)

    assert [c.body for c in complete.comments] == bodies
    assert complete.comments_complete
    assert len(jira_emulator.calls_to(r"/issue/SS-50/comment$", "GET")) == 1


def test_it_reads_truncated_threads_side_by_side_in_order(jira_adapter, jira_emulator) -> None:
    for n in range(51, 56):
        jira_emulator.add_issue(
            key=f"SS-{n}",
            summary="Long thread",
            created="-1d",
            reporter="dana.whitfield@sunrise-solar.example",
            comments=[
                {"author": "Maya Patel", "body": f"{n}: {b}", "created": "-20h"} for b in range(22)
            ],
        )
    found = list(
        jira_adapter.search('key in ("SS-2", "SS-51", "SS-52", "SS-53", "SS-54", "SS-55") '
                            "ORDER BY key", ["comment"])
    )  # fmt: skip

    complete = jira_adapter.with_all_comments_of(found)

    assert [t.key for t in complete] == [t.key for t in found]
    assert complete[0] is found[0]  # not truncated: not read
    assert all(t.comments_complete and len(t.comments) == 22 for t in complete[1:])
    assert [c.body for c in complete[3].comments][-1] == "53: 21"
    reads = jira_emulator.calls_to(r"/issue/SS-5\d/comment$", "GET")
    assert len(reads) == 5


def test_a_truncated_thread_is_read_while_the_tickets_are_still_coming(
    jira_adapter, jira_emulator
) -> None:
    """Read as soon as its ticket is in (beside a search's next pages), not after the last
    ticket; the tickets still come out in their order, and an error in the tickets' order."""
    import time

    jira_emulator.add_issue(
        key="SS-57",
        summary="Long thread",
        created="-1d",
        reporter="dana.whitfield@sunrise-solar.example",
        comments=[{"author": "Maya Patel", "body": f"c{b}", "created": "-20h"} for b in range(22)],
    )
    long_one, short_one = list(
        jira_adapter.search('key in ("SS-57", "SS-2") ORDER BY key DESC', ["comment"])
    )
    seen_before_the_last: list[int] = []

    def coming():
        yield long_one
        deadline = time.monotonic() + 5
        while not jira_emulator.calls_to(r"/issue/SS-57/comment$", "GET"):
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        seen_before_the_last.append(len(jira_emulator.calls_to(r"/issue/SS-57/comment$", "GET")))
        yield short_one

    complete = list(jira_adapter.with_all_comments_as_read(coming()))

    assert seen_before_the_last == [1]
    assert [t.key for t in complete] == ["SS-57", "SS-2"]
    assert complete[0].comments_complete and len(complete[0].comments) == 22
    assert complete[1] is short_one

    def failing():
        yield long_one
        raise PermanentError("jira", "search: the page broke")

    with pytest.raises(PermanentError, match="the page broke"):
        list(jira_adapter.with_all_comments_as_read(failing()))


def test_a_truncated_thread_no_decision_needs_is_left_unread(jira_adapter, jira_emulator) -> None:
    """``needed`` refuses a ticket: it comes out as the search gave it, with no read; the
    others are read in full, in the tickets' order."""
    for n in (58, 59):
        jira_emulator.add_issue(
            key=f"SS-{n}",
            summary="Long thread",
            created="-1d",
            reporter="dana.whitfield@sunrise-solar.example",
            comments=[
                {"author": "Maya Patel", "body": f"c{b}", "created": "-20h"} for b in range(22)
            ],
        )
    found = list(jira_adapter.search('key in ("SS-58", "SS-59") ORDER BY key', ["comment"]))

    complete = list(
        jira_adapter.with_all_comments_as_read(found, needed=lambda t: t.key == "SS-59")
    )

    assert [t.key for t in complete] == ["SS-58", "SS-59"]
    assert complete[0] is found[0] and not complete[0].comments_complete
    assert complete[1].comments_complete and len(complete[1].comments) == 22
    assert not jira_emulator.calls_to(r"/issue/SS-58/comment$", "GET")
    assert len(jira_emulator.calls_to(r"/issue/SS-59/comment$", "GET")) == 1


def test_comments_read_without_text_keep_who_when_and_for_whom(jira_adapter, jira_emulator) -> None:
    """``comment_text=False`` (a job that never reads what a comment says): every comment is
    there with its author, dates and visibility, and its body is empty, on the search and
    on the reads of truncated threads alike."""
    jira_emulator.add_issue(
        key="SS-56",
        summary="Long thread",
        created="-1d",
        reporter="dana.whitfield@sunrise-solar.example",
        comments=[
            {"author": "Maya Patel", "body": f"note {n}", "created": "-20h"} for n in range(25)
        ],
    )
    jql = 'key in ("SS-2", "SS-56") ORDER BY key'

    def shape(tickets: list) -> list:
        return [
            [(c.id, c.author, c.created, c.updated, c.public) for c in t.comments] for t in tickets
        ]

    with_text = jira_adapter.with_all_comments_of(list(jira_adapter.search(jql, ["comment"])))
    bare = jira_adapter.with_all_comments_of(
        list(jira_adapter.search(jql, ["comment"], comment_text=False)), text=False
    )

    assert shape(bare) == shape(with_text)
    assert [len(t.comments) for t in bare] == [3, 25]
    assert all(c.body for t in with_text for c in t.comments)
    assert {c.body for t in bare for c in t.comments} == {""}
    assert jira_adapter.with_all_comments(with_text[0], text=False) is with_text[0]
    assert {c.body for c in jira_adapter.comments("SS-56", text=False)} == {""}


def test_it_reads_every_comment_across_pages(jira_adapter, jira_emulator) -> None:
    jira_emulator.add_issue(
        key="SS-51",
        summary="Very long thread",
        created="-2d",
        comments=[{"author": "Maya Patel", "body": f"c{n}", "created": "-1d"} for n in range(130)],
    )

    comments = jira_adapter.comments("SS-51")

    assert [c.body for c in comments] == [f"c{n}" for n in range(130)]
    pages = jira_emulator.calls_to(r"/issue/SS-51/comment$", "GET")
    assert [p.query["startAt"] for p in pages] == [["0"], ["100"]]


def test_it_parses_links_from_both_ends(jira_adapter) -> None:
    approval, onboarding = jira_adapter.search(
        'key in ("SS-4", "SS-1") ORDER BY key DESC', ["issuelinks"]
    )

    (link,) = approval.links
    assert (link.type_name, link.direction, link.relation, link.other_key) == (
        "Duplicate",
        "outward",
        "duplicates",
        "SS-1",
    )
    assert link.other_summary == "Re: EverBright Partner Onboarding"
    assert link.other_status == "Open" and link.other_status_category is StatusCategory.NEW
    (back,) = onboarding.links
    assert (back.direction, back.relation, back.other_key) == ("inward", "is duplicated by", "SS-4")
    assert link.other_priority == onboarding_priority(jira_adapter) == "High"


def onboarding_priority(jira_adapter) -> str | None:
    (ticket,) = jira_adapter.search('key = "SS-1"', ["priority"])
    return ticket.priority


def test_it_returns_the_entity_properties_it_asked_for(jira_adapter, jira_emulator) -> None:
    (ticket,) = jira_adapter.search('key = "SS-5"', ["summary"], properties=["sla-monitor"])

    assert ticket.properties == {
        "sla-monitor": {"alerted": ["unassigned_first_response"], "episode": "2026-W45"}
    }
    assert _search_bodies(jira_emulator)[0]["properties"] == ["sla-monitor"]


def test_it_parses_the_first_response_sla(jira_adapter, jira_emulator) -> None:
    fields = ["Time to first response"]
    running, answered, paused = jira_adapter.search(
        'key in ("SS-1", "SS-2", "SS-3") ORDER BY key', fields
    )

    sla = running.first_response_sla
    assert sla is not None and sla.name == "Time to first response" and not sla.completed
    assert sla.ongoing is not None
    assert sla.ongoing.breached and not sla.ongoing.paused
    assert sla.ongoing.goal == timedelta(hours=2)
    assert sla.ongoing.elapsed == timedelta(hours=3)
    assert sla.ongoing.remaining == timedelta(hours=-1)
    assert sla.ongoing.breach_time == NOW - timedelta(hours=1)

    done = answered.first_response_sla
    assert done is not None and done.ongoing is None
    (cycle,) = done.completed
    assert not cycle.breached and cycle.elapsed == timedelta(minutes=30)
    assert cycle.stop == NOW - timedelta(hours=4, minutes=30)

    held = paused.first_response_sla
    assert held is not None and held.ongoing is not None
    assert held.ongoing.paused and held.ongoing.breach_time is None
    assert held.ongoing.elapsed == timedelta(hours=1)


def test_it_sees_the_sla_clock_move(jira_adapter, jira_emulator) -> None:
    jira_emulator.advance(timedelta(minutes=30))

    (ticket,) = jira_adapter.search('key = "SS-8"', ["Time to first response"])

    assert ticket.first_response_sla is not None and ticket.first_response_sla.ongoing is not None
    assert ticket.first_response_sla.ongoing.elapsed == timedelta(minutes=70)
    assert not ticket.first_response_sla.ongoing.breached


def test_it_finds_tickets_by_sla_state_in_jql(jira_adapter) -> None:
    breached = jira_adapter.search('"Time to first response" = breached() ORDER BY key', [])
    soon = jira_adapter.search('"Time to first response" < remaining("90m") ORDER BY key', [])

    # breached() includes completed cycles that breached (SS-6 was resolved late), as in JSM.
    assert [t.key for t in breached] == ["SS-1", "SS-5", "SS-6", "SS-7"]
    assert [t.key for t in soon] == ["SS-1", "SS-3", "SS-4", "SS-5", "SS-7", "SS-8"]


def test_it_survives_null_and_odd_typed_fields(jira_adapter, jira_emulator) -> None:
    odd = {
        "issues": [
            {
                "id": "1",
                "key": "SS-77",
                "fields": {
                    "summary": None,
                    "status": "Open",
                    "created": "2026-11-22T09:00:00.000+0000",
                    "labels": "EB",
                    "comment": {"comments": [None, {"id": 5, "body": None}], "total": "x"},
                    "issuelinks": [{"type": None}],
                    "customfield_10030": [],
                    "customfield_10002": {"name": "x"},
                    "assignee": {"displayName": "nobody"},
                    "duedate": 20261101,
                },
            },
        ],
        "isLast": True,
    }
    jira_emulator.inject(SEARCH, status=200, body=odd)

    (ticket,) = jira_adapter.search(ALL_SS, ["comment", "Organizations", "Time to first response"])

    assert ticket.key == "SS-77" and ticket.summary == "" and ticket.status == ""
    assert ticket.status_category is StatusCategory.NEW
    assert ticket.labels == () and ticket.links == () and ticket.organizations == ()
    assert ticket.first_response_sla is None and ticket.assignee is None and ticket.due_date is None
    assert [c.id for c in ticket.comments] == ["5"] and ticket.comments_total == 1


@pytest.mark.parametrize("entry", ["not an issue", None, 12, {"fields": {}}, {"key": ""}])
def test_an_entry_that_names_no_ticket_fails_the_search(jira_adapter, jira_emulator, entry) -> None:
    """Skipped, it would be one ticket fewer: had it an open alert, a false all-clear."""
    page = {"issues": [{"id": "1", "key": "SS-77", "fields": {"summary": "x"}}, entry]}
    jira_emulator.inject(SEARCH, status=200, body={**page, "isLast": True})

    with pytest.raises(PermanentError, match="search: "):
        list(jira_adapter.search(ALL_SS, ["summary"]))


@pytest.mark.parametrize("created", [None, "yesterday", 20261101])
def test_it_skips_a_ticket_without_a_usable_creation_date_and_says_so(
    jira_adapter, jira_emulator, created
) -> None:
    page = {
        "issues": [
            {"id": "1", "key": "SS-78", "fields": {"summary": "x", "created": created}},
            {
                "id": "2",
                "key": "SS-79",
                "fields": {"summary": "y", "created": "2026-11-22T09:00:00Z"},
            },
        ],
        "isLast": True,
    }
    jira_emulator.inject(SEARCH, status=200, body=page)

    assert [t.key for t in jira_adapter.search(ALL_SS, ["summary"])] == ["SS-79"]
    assert [(p.where, "creation date" in p.message) for p in jira_adapter.problems] == [
        ("SS-78", True)
    ]


def test_it_stops_when_jira_repeats_the_next_page_token(jira_adapter, jira_emulator) -> None:
    looping = {"issues": [], "isLast": False, "nextPageToken": "same"}
    jira_emulator.inject(SEARCH, status=200, body=looping, times=10)

    with pytest.raises(PermanentError, match="nextPageToken"):
        list(jira_adapter.search(ALL_SS, ["summary"]))
    assert len(jira_emulator.calls_to(SEARCH)) <= 3


# -- writes --------------------------------------------------------------------------------------


def test_without_service_desk_projects_an_internal_note_keeps_the_internal_property(
    jira_adapter, jira_emulator
) -> None:
    # No project types given: the platform API with sd.public.comment, which a service desk
    # project honours, so the note stays internal even on a desk missing from the settings.
    comment = jira_adapter.add_internal_comment("SS-7", "[~accountid:acc-david-ellis] approved?")

    assert not comment.public
    (call,) = jira_emulator.calls_to(r"/rest/api/2/issue/SS-7/comment$", "POST")
    assert call.body["properties"] == [{"key": "sd.public.comment", "value": {"internal": True}}]
    stored = jira_emulator.comments_of("SS-7")[-1]
    assert (stored.body, stored.public) == ("[~accountid:acc-david-ellis] approved?", False)


def _desk_adapter(jira_emulator, jira_counter, jira_budget) -> JiraAdapter:
    return JiraAdapter(
        jira_emulator.url,
        jira_emulator.email,
        jira_emulator.token,
        counter=jira_counter,
        budget=jira_budget,
        timeout=5.0,
        service_desk_projects=("SS",),
    )


def test_an_internal_note_on_a_service_desk_ticket_goes_through_service_management(
    jira_emulator, jira_counter, jira_budget
) -> None:
    adapter = _desk_adapter(jira_emulator, jira_counter, jira_budget)

    comment = adapter.add_internal_comment("SS-7", "[~accountid:acc-david-ellis] approved?")

    assert not comment.public
    (call,) = jira_emulator.calls_to(r"/rest/servicedeskapi/request/SS-7/comment$", "POST")
    assert call.body == {"body": "[~accountid:acc-david-ellis] approved?", "public": False}
    assert jira_emulator.calls_to(r"/rest/api/\d/issue/SS-7/comment$") == []
    assert jira_emulator.comments_of("SS-7")[-1].public is False


def test_an_internal_note_on_another_project_is_a_platform_comment_and_not_a_failure(
    jira_emulator, jira_counter, jira_budget
) -> None:
    # CS is not a service desk: Jira answers jsdPublic true there (no portal, no customer),
    # which is what the platform spec says and not "Jira made it public".
    adapter = _desk_adapter(jira_emulator, jira_counter, jira_budget)

    comment = adapter.add_internal_comment("CS-1", "Please publish on Engine.")

    (call,) = jira_emulator.calls_to(r"/rest/api/2/issue/CS-1/comment$", "POST")
    assert call.body["body"] == "Please publish on Engine."
    assert jira_emulator.calls_to(r"/servicedeskapi/") == []
    assert comment.body == "Please publish on Engine." and comment.id
    assert jira_emulator.comments_of("CS-1")[-1].body == "Please publish on Engine."


def test_an_internal_note_that_came_back_public_on_a_service_desk_is_reported(
    jira_emulator, jira_counter, jira_budget
) -> None:
    adapter = _desk_adapter(jira_emulator, jira_counter, jira_budget)
    jira_emulator.inject(
        r"/servicedeskapi/request/SS-7/comment$",
        status=201,
        body={"id": "1", "body": "x", "public": True, "created": {"epochMillis": 0}},
    )

    with pytest.raises(PermanentError, match="Jira made it public"):
        adapter.add_internal_comment("SS-7", "x")


def test_it_sends_public_replies_through_service_management(jira_adapter, jira_emulator) -> None:
    comment = jira_adapter.add_public_comment("SS-1", "Hi Dana,\n\nYour request is in progress.")

    assert comment.public and comment.body == "Hi Dana,\n\nYour request is in progress."
    (call,) = jira_emulator.calls_to(r"/rest/servicedeskapi/request/SS-1/comment$", "POST")
    assert call.body == {"body": "Hi Dana,\n\nYour request is in progress.", "public": True}
    assert jira_emulator.comments_of("SS-1")[-1].public
    assert [c.body for c in jira_adapter.comments("SS-1")] == [comment.body]


def test_it_does_not_repeat_a_comment_that_may_have_been_posted(
    jira_adapter, jira_emulator
) -> None:
    jira_emulator.inject(r"/servicedeskapi/request/SS-1/comment$", status=502)

    with pytest.raises(PermanentError, match="not retried"):
        jira_adapter.add_public_comment("SS-1", "Hello")

    assert len(jira_emulator.calls_to(r"/servicedeskapi/request/SS-1/comment$")) == 1


def test_it_retries_a_rate_limited_comment(jira_adapter, jira_emulator, jira_slept) -> None:
    jira_emulator.inject(r"/issue/SS-7/comment$", status=429, retry_after=2)

    jira_adapter.add_internal_comment("SS-7", "retry me")

    assert jira_slept == [2.0]
    assert [c.body for c in jira_emulator.comments_of("SS-7")] == ["retry me"]


def test_it_transitions_by_target_status_name(jira_adapter, jira_emulator) -> None:
    jira_adapter.transition("SS-1", "waiting for CUSTOMER")

    issue = jira_emulator.issue("SS-1")
    assert issue.status == "Waiting for customer"
    (post,) = jira_emulator.calls_to(r"/issue/SS-1/transitions$", "POST")
    assert post.body["transition"]["id"] == "11"  # IssueTransition.id is a string


def test_it_lists_transitions_for_each_ticket_as_ids_differ_by_status(
    jira_adapter, jira_emulator
) -> None:
    # Transition ids are per workflow step: an id that closed one ticket may reopen another,
    # so the adapter never reuses one across tickets.
    jira_adapter.transition("SS-2", "Waiting for support")  # "Back to support"
    jira_adapter.transition("SS-6", "Waiting for support")  # Resolved: only "Reopen" leads there

    assert jira_emulator.issue("SS-6").status == "Waiting for support"
    assert len(jira_emulator.calls_to(r"/transitions$", "GET")) == 2
    assert [c.status for c in jira_emulator.calls_to(r"/transitions$", "POST")] == [204, 204]


def test_it_treats_a_ticket_already_in_the_status_as_transitioned(
    jira_adapter, jira_emulator
) -> None:
    jira_adapter.transition("SS-6", "Resolved")

    assert jira_emulator.calls_to(r"/transitions$", "POST") == []


def test_it_lists_the_reachable_statuses_when_none_matches(jira_adapter) -> None:
    with pytest.raises(PermanentError) as raised:
        jira_adapter.transition("CS-1", "Closed")

    message = str(raised.value)
    assert "'Closed'" in message and "'On Hold'" in message
    assert "'In Progress' (via 'Resume')" in message and "'Done' (via 'Done')" in message


def test_it_resolves_and_reopens_with_the_resolution_date(jira_adapter, jira_emulator) -> None:
    jira_adapter.transition("SS-8", "Resolved")
    assert jira_emulator.issue("SS-8").resolved == NOW

    jira_adapter.transition("SS-8", "Waiting for support")
    assert jira_emulator.issue("SS-8").resolved is None


def test_it_links_an_approval_ticket_as_a_duplicate(jira_adapter, jira_emulator) -> None:
    jira_adapter.link(inward_key="SS-9", outward_key="SS-1", link_type="Duplicate")

    assert {"type": "Duplicate", "direction": "outward", "key": "SS-1"} in jira_emulator.links_of(
        "SS-9"
    )
    (post,) = jira_emulator.calls_to(r"/issueLink$", "POST")
    assert jira_emulator.calls_to(r"/issueLinkType") == []  # one request per link
    assert post.body["inwardIssue"] == {"key": "SS-9"}
    assert post.body["outwardIssue"] == {"key": "SS-1"}


def test_it_sets_priority_and_adds_labels(jira_adapter, jira_emulator) -> None:
    jira_adapter.set_priority("SS-8", "Highest")
    jira_adapter.add_labels("SS-1", ["EB", "priority-installer"])

    assert jira_emulator.issue("SS-8").priority == "Highest"
    assert jira_emulator.issue("SS-1").labels == ["EB", "priority-installer"]
    label_put = jira_emulator.calls_to(r"/issue/SS-1$", "PUT")[0]
    assert label_put.body == {"update": {"labels": [{"add": "EB"}, {"add": "priority-installer"}]}}


def test_it_edits_fields_by_display_name(jira_adapter, jira_emulator) -> None:
    jira_adapter.edit(
        "SS-8",
        {
            "Organizations": ["Cedar Ridge Roofing"],
            "Request Type": "Company-specific Data Change",
            "Needs Configuration?": "Integrated Finance",
            "Channel": ["Email", "Phone"],
            "reporter": "onboarding@goeverbright.example",
            "QA Due Date": date(2026, 11, 5),
        },
    )

    issue = jira_emulator.issue("SS-8")
    assert issue.organizations == ["Cedar Ridge Roofing"]
    assert issue.request_type == "Company-specific Data Change"
    assert issue.needs_configuration == "Integrated Finance"
    assert issue.channel == ["Email", "Phone"]
    assert issue.reporter == "app-everbright-onboarding"
    put = jira_emulator.calls_to(r"/issue/SS-8$", "PUT")[-1]
    assert put.body["fields"]["customfield_10002"] == [2]
    assert put.body["fields"]["customfield_10043"] == [{"value": "Email"}, {"value": "Phone"}]
    assert put.body["fields"]["reporter"] == {"accountId": "app-everbright-onboarding"}


def test_it_reports_a_rejected_edit_with_jiras_message(jira_adapter) -> None:
    with pytest.raises(PermanentError, match="Option value 'Fax' is not valid") as raised:
        jira_adapter.edit("SS-8", {"Channel": ["Fax"]})

    assert raised.value.status == 400


def test_it_creates_a_configuration_ticket(jira_adapter, jira_emulator) -> None:
    key = jira_adapter.create_issue(
        {
            "project": "CS",
            "issuetype": "Task",
            "summary": "A New Channel Partner Request for Cedar Ridge Roofing",
            "description": "| Company | Cedar Ridge Roofing |",
            "priority": "High",
            "QA Assignee": "Cherish Sharma",
            "duedate": date(2026, 11, 5),
            "Configuration Date": date(2026, 11, 4),
            "QA Due Date": date(2026, 11, 5),
        }
    )

    assert key == "CS-2"
    issue = jira_emulator.issue(key)
    assert issue.summary == "A New Channel Partner Request for Cedar Ridge Roofing"
    assert (issue.priority, issue.qa_assignee) == ("High", "acc-cherish-sharma")
    assert (issue.due_date, issue.configuration_date) == (date(2026, 11, 5), date(2026, 11, 4))
    assert issue.status == "To Do"


def test_it_sets_and_reads_entity_properties(jira_adapter, jira_emulator) -> None:
    jira_adapter.set_property("SS-2", "sla-monitor", {"alerted": True, "n": 2})

    assert jira_adapter.get_property("SS-2", "sla-monitor") == {"alerted": True, "n": 2}
    assert jira_adapter.get_property("SS-2", "absent") is None
    assert jira_emulator.issue("SS-2").properties["sla-monitor"] == {"alerted": True, "n": 2}


def test_it_finds_users_by_email_or_name(jira_adapter) -> None:
    approver = jira_adapter.find_user("david.ellis@goeverbright.example")
    qa = jira_adapter.find_user("Cherish")

    assert approver is not None and approver.account_id == "acc-david-ellis"
    assert qa is not None and qa.display_name == "Cherish Sharma"
    assert jira_adapter.find_user("nobody@nowhere.example") is None


def test_it_assigns_a_ticket_through_the_assign_operation(jira_adapter, jira_emulator) -> None:
    jira_adapter.assign("SS-8", "acc-maya-patel")
    jira_adapter.assign("SS-8", "acc-maya-patel")  # again: nothing changes

    assert jira_emulator.issue("SS-8").assignee == "acc-maya-patel"
    puts = jira_emulator.calls_to(r"/rest/api/3/issue/SS-8/assignee$", "PUT")
    assert [c.body for c in puts] == [{"accountId": "acc-maya-patel"}] * 2
    assert [c.status for c in puts] == [204, 204]
    changes = [c for c in jira_adapter.changes("SS-8") if c.field == "assignee"]
    assert [c.to_id for c in changes] == ["acc-maya-patel"]  # one change, not two


def test_it_reports_an_assignee_jira_refuses(jira_adapter, jira_emulator) -> None:
    before = jira_emulator.issue("SS-8").assignee
    with pytest.raises(PermanentError, match="does not exist") as raised:
        jira_adapter.assign("SS-8", "acc-nobody")
    with pytest.raises(PermanentError, match="cannot be assigned"):
        jira_adapter.assign("SS-8", "app-everbright-onboarding")

    assert raised.value.status == 400
    assert jira_emulator.issue("SS-8").assignee == before


# -- retries and errors --------------------------------------------------------------------------


def test_it_waits_what_retry_after_says(
    jira_adapter, jira_emulator, jira_budget, jira_slept, jira_counter
) -> None:
    jira_emulator.inject(SEARCH, status=429, retry_after=7, times=1)

    keys = [t.key for t in jira_adapter.search(ALL_SS, ["summary"])]

    assert keys == SS_KEYS
    assert jira_slept == [7.0]
    assert jira_budget.spent == 7.0
    assert jira_counter.as_dict()["jira"] == 4  # serverInfo, field, 429, retried search


def test_it_rides_out_a_burst_of_server_errors(jira_adapter, jira_emulator, jira_slept) -> None:
    jira_emulator.inject(SEARCH, status=500, times=2)
    jira_emulator.inject(SEARCH, status=503, times=1)

    assert len(list(jira_adapter.search(ALL_SS, ["summary"]))) == 9
    assert len(jira_slept) == 3
    assert [c.status for c in jira_emulator.calls_to(SEARCH)] == [500, 500, 503, 200]


def test_it_retries_a_dropped_connection(jira_adapter, jira_emulator) -> None:
    jira_emulator.inject(SEARCH, reset_connection=True)

    assert len(list(jira_adapter.search(ALL_SS, ["summary"]))) == 9


def test_it_reports_rejected_credentials_without_retrying(jira_emulator, jira_slept) -> None:
    counter = CallCounter()
    adapter = JiraAdapter(
        jira_emulator.url,
        jira_emulator.email,
        "wrong-token",
        counter=counter,
        budget=RetryBudget(sleep=jira_slept.append),
    )

    with pytest.raises(CredentialError, match="JIRA_API_TOKEN") as raised:
        list(adapter.search(ALL_SS, ["summary"]))

    assert raised.value.status == 401
    assert counter.as_dict()["jira"] == 1 and jira_slept == []


def test_it_does_not_retry_a_missing_ticket(jira_adapter, jira_emulator, jira_slept) -> None:
    with pytest.raises(PermanentError, match="404") as raised:
        jira_adapter.comments("SS-404")

    assert "Issue does not exist" in str(raised.value)
    assert len(jira_emulator.calls_to(r"/issue/SS-404/comment$")) == 1 and jira_slept == []


def test_it_retries_malformed_json_then_gives_up(
    jira_adapter, jira_emulator, jira_budget, jira_slept
) -> None:
    jira_adapter.field_ids()
    jira_emulator.inject(SEARCH, status=200, raw=b'{"issues": [', times=10)

    with pytest.raises(TransientError, match="malformed JSON"):
        list(jira_adapter.search(ALL_SS, ["summary"]))

    assert len(jira_emulator.calls_to(SEARCH)) == jira_budget.max_attempts
    assert len(jira_slept) == jira_budget.max_attempts - 1


def test_it_stops_when_the_retry_budget_is_spent(jira_emulator, jira_slept) -> None:
    budget = RetryBudget(total_seconds=10.0, sleep=jira_slept.append)
    adapter = JiraAdapter(
        jira_emulator.url,
        jira_emulator.email,
        jira_emulator.token,
        counter=CallCounter(),
        budget=budget,
    )
    adapter.field_ids()
    jira_emulator.inject(SEARCH, status=429, retry_after=30, times=5)

    with pytest.raises(TransientError) as raised:
        list(adapter.search(ALL_SS, ["summary"]))

    assert raised.value.status == 429 and raised.value.retry_after == 30.0
    assert jira_slept == [] and len(jira_emulator.calls_to(SEARCH)) == 1


def test_it_keeps_the_token_out_of_errors_and_logs(jira_emulator, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    bad = JiraAdapter(
        jira_emulator.url,
        jira_emulator.email,
        "another-secret-DO-NOT-LEAK",
        counter=CallCounter(),
        budget=RetryBudget(sleep=lambda _s: None),
    )
    good = JiraAdapter(
        jira_emulator.url,
        jira_emulator.email,
        jira_emulator.token,
        counter=CallCounter(),
        budget=RetryBudget(max_attempts=2, sleep=lambda _s: None),
    )
    jira_emulator.inject(r"/issue/SS-1/comment$", status=500, times=2)
    errors = []
    for attempt in (
        lambda: list(bad.search(ALL_SS, [])),
        lambda: good.comments("SS-1"),
        lambda: good.comments("SS-404"),
    ):
        with pytest.raises(Exception) as raised:
            attempt()
        errors.append(raised.value)

    for error in errors:
        assert error.__cause__ is None and error.__context__ is None
        text = f"{error!s} {error!r} {error.args!r}"
        assert "DO-NOT-LEAK" not in text and "Authorization" not in text and "Basic " not in text
    assert "DO-NOT-LEAK" not in caplog.text and "Basic " not in caplog.text
    assert "DO-NOT-LEAK" not in repr(good) + repr(bad)


def test_it_builds_from_the_environment_and_names_what_is_missing() -> None:
    counter, budget = CallCounter(), RetryBudget()

    with pytest.raises(CredentialError, match="JIRA_EMAIL, JIRA_API_TOKEN"):
        JiraAdapter.from_env(
            {"JIRA_URL": "https://x.atlassian.net"}, counter=counter, budget=budget
        )
    with pytest.raises(CredentialError, match="JIRA_URL"):
        JiraAdapter.from_env(
            {"JIRA_URL": "x.atlassian.net", "JIRA_EMAIL": "a@b", "JIRA_API_TOKEN": "t"},
            counter=counter,
            budget=budget,
        )
    adapter = JiraAdapter.from_env(
        {"JIRA_URL": "https://x.atlassian.net/", "JIRA_EMAIL": "a@b", "JIRA_API_TOKEN": "t"},
        counter=counter,
        budget=budget,
        browse_url="https://support.example/jira",
    )
    assert adapter.browse_url("SS-1") == "https://support.example/jira/browse/SS-1"
    assert counter.as_dict()["jira"] == 0  # nothing is called until the first use


# -- the removed search API ----------------------------------------------------------------------


def test_it_never_calls_the_removed_search_api(jira_adapter, jira_emulator) -> None:
    list(jira_adapter.search(ALL_SS, ["summary", "comment"], page_size=4))
    jira_adapter.with_all_comments(next(iter(jira_adapter.search('key = "SS-2"', ["comment"]))))
    jira_adapter.transition("SS-1", "In Progress")
    jira_adapter.find_user("Maya")

    assert jira_emulator.calls_to(r"/rest/api/(2|3|latest)/search$") == []
    searches = {c.path for c in jira_emulator.calls_to(r"/search") if "/user/" not in c.path}
    assert searches == {"/rest/api/3/search/jql"}


@pytest.mark.parametrize("version", ["2", "3"])
def test_the_removed_search_api_answers_410(jira_emulator, version) -> None:
    url = f"{jira_emulator.url}/rest/api/{version}/search"
    for response in (
        requests.get(url, params={"jql": ALL_SS}, auth=_auth(jira_emulator), timeout=5),
        requests.post(url, json={"jql": ALL_SS}, auth=_auth(jira_emulator), timeout=5),
    ):
        assert response.status_code == 410
        assert response.json()["errorMessages"] == [REMOVED_SEARCH_MESSAGE]


# -- the emulator keeps Jira's contract ----------------------------------------------------------


def _post_search(emulator: JiraEmulator, **body) -> requests.Response:
    return requests.post(
        f"{emulator.url}/rest/api/3/search/jql", json=body, auth=_auth(emulator), timeout=5
    )


def test_every_rest_call_needs_basic_auth(jira_emulator) -> None:
    for auth in (None, (jira_emulator.email, "nope"), ("someone@else", jira_emulator.token)):
        response = requests.get(f"{jira_emulator.url}/rest/api/2/myself", auth=auth, timeout=5)
        assert response.status_code == 401
        assert response.json()["errorMessages"]


def test_the_page_token_is_bound_to_its_query(jira_emulator) -> None:
    first = _post_search(jira_emulator, jql=ALL_SS, maxResults=2).json()
    assert first["isLast"] is False and "total" not in first

    replayed = _post_search(
        jira_emulator, jql='project = "CS"', nextPageToken=first["nextPageToken"]
    )
    garbage = _post_search(jira_emulator, jql=ALL_SS, nextPageToken="not-a-token")

    assert replayed.status_code == 400 and garbage.status_code == 400


def test_the_search_caps_pages_and_needs_a_restriction(jira_emulator) -> None:
    for n in range(150):
        jira_emulator.add_issue(project="CS", summary=f"bulk {n}", created="-1h")
    with_fields = _post_search(
        jira_emulator, jql='project = "CS"', fields=["summary"], maxResults=500
    )
    ids_only = _post_search(jira_emulator, jql='project = "CS"', fields=["id"], maxResults=500)
    default = _post_search(jira_emulator, jql='project = "CS"')
    unbounded = _post_search(jira_emulator, jql="ORDER BY created DESC")

    assert len(with_fields.json()["issues"]) == 100
    assert len(ids_only.json()["issues"]) == 151 and ids_only.json()["isLast"] is True
    assert len(default.json()["issues"]) == 50
    assert "fields" not in default.json()["issues"][0]
    assert unbounded.status_code == 400
    assert "Unbounded JQL" in unbounded.json()["errorMessages"][0]


@pytest.mark.parametrize(
    "query, message",
    [
        ('projct = "SS"', "Field 'projct' does not exist"),
        ('project = "SS" AND', "Expecting a field name"),
        ('status = "Nope"', "The value 'Nope' does not exist for the field 'status'"),
        ('summary = "x"', "The operator '=' is not supported by the 'summary' field"),
        ('summary ~ "unterminated', "has not been completed"),
        ('summary ~ "bad \\q escape"', "escape sequence"),
        ("created > whenever", "Date value 'whenever'"),
        ("assignee = nobodyFn()", "Unable to find JQL function 'nobodyFn()'"),
    ],
)
def test_bad_jql_is_a_400_like_jiras(jira_emulator, query, message) -> None:
    response = _post_search(jira_emulator, jql=query)

    assert response.status_code == 400
    (error,) = response.json()["errorMessages"]
    assert error.startswith("Error in the JQL Query: ") and message in error


@pytest.mark.parametrize(
    "query, keys",
    [
        (
            "project = SS AND assignee IS EMPTY AND statusCategory != Done",
            ["SS-1", "SS-4", "SS-8", "SS-9"],
        ),
        ("assignee = currentUser()", []),
        (
            'assignee in ("Maya Patel", jordan.reyes@goeverbright.example)',
            ["SS-2", "SS-3", "SS-6", "SS-7"],
        ),
        ("assignee != acc-maya-patel AND project = SS", ["SS-3", "SS-5", "SS-6"]),
        ('summary ~ "onboard"', ["SS-1"]),
        ('summary ~ "\\"partner onboarding\\""', ["SS-1"]),
        ('summary ~ "\\"onboarding partner\\""', []),
        ("text ~ invoice", ["SS-2"]),
        ("created >= -1d AND project = SS", ["SS-1", "SS-2", "SS-3", "SS-4", "SS-8", "SS-9"]),
        ('created < "2026-11-01" AND project = SS', ["SS-5", "SS-6", "SS-7"]),
        (
            "updated >= startOfDay() AND resolution = Unresolved",
            ["SS-1", "SS-2", "SS-3", "SS-4", "SS-8", "SS-9"],
        ),
        ("resolved IS NOT EMPTY", ["SS-6"]),
        ('organizations = "Cedar Ridge Roofing"', ["SS-7"]),
        ('"Request Type" = "Company-specific Data Change"', ["SS-1"]),
        ("cf[10044] = Docs", ["SS-7"]),
        ('"QA Due Date" <= 3d', ["CS-1"]),
        ("duedate > now() AND project = CS", ["CS-1"]),
        ("labels = EB OR priority = High", ["SS-1"]),
        ("NOT (project = SS) OR key = SS-9", ["CS-1", "SS-9"]),
        ("issueLink = SS-7", None),
        ("parent IS EMPTY AND project = CS", ["CS-1"]),
        ("assignee IS NULL AND project = CS", []),
        ("key = SS-1 OR key = SS-2 AND key = SS-3", ["SS-1"]),
        (
            'project = SS AND status NOT IN (Open, Resolved, "Waiting for customer")',
            ["SS-3", "SS-5", "SS-7"],
        ),
        ('status in (Open, "Waiting for support") AND key > SS-3', ["SS-4", "SS-8", "SS-9"]),
    ],
)
def test_jql_selects_what_jira_would(jira_emulator, query, keys) -> None:
    response = _post_search(jira_emulator, jql=f"{query} ORDER BY key", maxResults=100)

    if keys is None:  # a field the emulator does not search by: refused, never ignored
        assert response.status_code == 400
        return
    assert response.status_code == 200, response.text
    assert sorted(i["key"] for i in response.json()["issues"]) == sorted(keys)


def test_the_search_also_answers_get_with_comma_separated_fields(jira_emulator) -> None:
    url = f"{jira_emulator.url}/rest/api/2/search/jql"
    params = {"jql": ALL_SS, "fields": "summary,-summary,status", "maxResults": 5}

    first = requests.get(url, params=params, auth=_auth(jira_emulator), timeout=5).json()
    rest = requests.get(
        url,
        params={**params, "nextPageToken": first["nextPageToken"]},
        auth=_auth(jira_emulator),
        timeout=5,
    ).json()

    assert [i["key"] for i in first["issues"] + rest["issues"]] == SS_KEYS
    assert set(first["issues"][0]["fields"]) == {"status"}
    assert rest["isLast"] is True and "nextPageToken" not in rest


def test_order_by_sorts_like_jira(jira_emulator) -> None:
    jira_emulator.issue("SS-8").priority = "Low"
    newest = _post_search(jira_emulator, jql="project = SS ORDER BY created DESC", maxResults=3)
    by_priority = _post_search(
        jira_emulator, jql="key in (SS-1, SS-8) ORDER BY priority DESC, key ASC"
    )

    assert [i["key"] for i in newest.json()["issues"]] == ["SS-9", "SS-8", "SS-4"]
    assert [i["key"] for i in by_priority.json()["issues"]] == ["SS-1", "SS-8"]


def test_v2_and_v3_render_comment_bodies_differently(jira_emulator) -> None:
    url = f"{jira_emulator.url}/rest/api/%s/issue/SS-2/comment"
    v2 = requests.get(url % 2, auth=_auth(jira_emulator), timeout=5).json()["comments"][2]
    v3 = requests.get(url % 3, auth=_auth(jira_emulator), timeout=5).json()["comments"][2]

    assert v2["body"].startswith("[~accountid:acc-rachel-kim]") and v2["jsdPublic"] is False
    mention = v3["body"]["content"][0]["content"][0]
    assert mention == {
        "type": "mention",
        "attrs": {"id": "acc-rachel-kim", "text": "@Rachel Kim", "accessLevel": ""},
    }


def test_an_adf_comment_is_stored_as_text_with_mentions(jira_emulator) -> None:
    adf = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "mention", "attrs": {"id": "acc-david-ellis", "text": "@David Ellis"}},
                    {"type": "text", "text": " approved?"},
                ],
            }
        ],
    }
    response = requests.post(
        f"{jira_emulator.url}/rest/api/3/issue/SS-9/comment",
        json={"body": adf},
        auth=_auth(jira_emulator),
        timeout=5,
    )

    assert response.status_code == 201 and response.json()["jsdPublic"] is True
    assert jira_emulator.comments_of("SS-9")[-1].body == "[~accountid:acc-david-ellis] approved?"


def test_service_management_comments_page_with_start_and_limit(jira_emulator) -> None:
    url = f"{jira_emulator.url}/rest/servicedeskapi/request/SS-2/comment"

    page = requests.get(url, params={"start": 1, "limit": 1}, auth=_auth(jira_emulator), timeout=5)
    public_only = requests.get(
        url, params={"internal": "false"}, auth=_auth(jira_emulator), timeout=5
    )

    body = page.json()
    assert (body["start"], body["limit"], body["size"], body["isLastPage"]) == (1, 1, 1, False)
    assert body["values"][0]["public"] is True
    assert [v["public"] for v in public_only.json()["values"]] == [True, True]


# -- JQL quoting -----------------------------------------------------------------------------------


def test_jql_quote_escapes_backslashes_and_quotes() -> None:
    assert jql_quote('He said "hi"') == '"He said \\"hi\\""'
    assert jql_quote("C:\\temp\\") == '"C:\\\\temp\\\\"'
    assert jql_quote("SS-1") == '"SS-1"'
    with pytest.raises(ValueError, match="control character"):
        jql_quote("two\nlines")


def test_a_quoted_value_round_trips_through_the_emulator(jira_adapter, jira_emulator) -> None:
    awkward = 'Re: "Q4" report \\ draft \\"final\\"'
    jira_emulator.add_issue(key="SS-60", summary=awkward, created="-1h")

    found = list(
        jira_adapter.search(f"summary ~ {jql_quote(awkward)} AND key = SS-60", ["summary"])
    )

    assert [t.summary for t in found] == [awkward]
    sent = _search_bodies(jira_emulator)[-1]["jql"]
    assert sent == 'summary ~ "Re: \\"Q4\\" report \\\\ draft \\\\\\"final\\\\\\"" AND key = SS-60'
    clause = jql.parse(sent).where.parts[0]  # type: ignore[union-attr]
    assert clause.operand == jql.Value(awkward, quoted=True)


@given(st.text(alphabet=st.characters(min_codepoint=32, exclude_characters="\x7f"), max_size=40))
def test_any_quoted_value_parses_back_to_itself(value: str) -> None:
    query = jql.parse(f"summary ~ {jql_quote(value)}")

    assert isinstance(query.where, jql.Clause)
    assert query.where.operand == jql.Value(value, quoted=True)


# -- desk fixtures and the stack -------------------------------------------------------------------


def test_a_desk_directory_is_merged_with_relative_times(tmp_path) -> None:
    from emulators.fixtures import PEOPLE_FILE, load_desk

    (tmp_path / "00_people.yaml").write_text(PEOPLE_FILE.read_text())
    (tmp_path / "10_one.yaml").write_text(
        "tickets:\n"
        "  - {key: SS-1, summary: One, created: -2d4h, due_date: +3d,"
        " reporter: new.customer@acme.example}\n"
        "sheets:\n  onboarding:\n    tabs:\n"
        '      - {title: Accounts, rows: [[Name, {date: -1d, format: "%m/%d/%Y"}]]}\n'
    )
    (tmp_path / "20_two.yaml").write_text(
        "tickets:\n  - {key: CS-1, summary: Two, status: QA, qa_assignee: Cherish Sharma}\n"
        "slack:\n  channels: ['#support-leads']\n"
    )

    desk = load_desk(tmp_path, NOW)

    one, two = desk["tickets"]
    assert one["created"] == NOW - timedelta(days=2, hours=4)
    assert one["due_date"] == date(2026, 11, 5)
    assert one["reporter"] == "qm:new-customer-acme-example"
    assert two["qa_assignee"] == "acc-cherish-sharma" and two["status"] == "QA"
    assert desk["slack"]["channels"] == ["#support-sla", "#support-leads"]
    assert {"id": "U01DAVIDEL", "email": "david.ellis@goeverbright.example"}.items() <= next(
        u for u in desk["slack"]["users"] if u["id"] == "U01DAVIDEL"
    ).items()
    assert desk["sheets"]["onboarding"]["tabs"][0]["rows"] == [["Name", "11/01/2026"]]


@pytest.mark.badinput
@pytest.mark.parametrize(
    "text, message",
    [
        ("tickets:\n  - {key: SS-1, status: Flying}\n", "tickets[0] (SS-1).status: 'Flying'"),
        ("tickets:\n  - {key: SS-1, created: yesterday}\n", "created: 'yesterday' is not a time"),
        ("tickets:\n  - {key: SS-1, assignee: Nobody Here}\n", "unknown user 'Nobody Here'"),
        ("tickets:\n  - {key: SS-1, colour: red}\n", "unknown ticket key(s) colour"),
        ("tickets:\n  - {key: SS-1, links: [{type: Duplicate, key: SS-2}]}\n", "no ticket SS-2"),
        ("tickts: []\n", "unknown section 'tickts'"),
    ],
)
def test_a_bad_desk_file_names_the_file_and_key(tmp_path, text, message) -> None:
    from emulators.fixtures import PEOPLE_FILE, FixtureError, load_desk

    bad = tmp_path / "10_bad.yaml"
    bad.write_text(text)

    with pytest.raises(FixtureError) as raised:
        load_desk([PEOPLE_FILE, bad], NOW)

    assert str(bad) in str(raised.value) and message in str(raised.value)


def test_the_stack_env_points_the_jobs_at_the_emulators() -> None:
    from emulators.fixtures import PEOPLE_FILE, load_desk
    from emulators.stack import start_stack

    with start_stack(load_desk(PEOPLE_FILE, NOW), now=NOW) as stack:
        env = stack.env()
        response = requests.get(
            f"{env['JIRA_URL']}/rest/api/2/myself",
            auth=(env["JIRA_EMAIL"], env["JIRA_API_TOKEN"]),
            timeout=5,
        )
        assert response.status_code == 200
        assert stack.jira.now() == NOW
        if stack.slack is not None:
            assert env["SLACK_API_URL"].endswith("/api/") and env["SLACK_BOT_TOKEN"]
        if stack.sheets is not None:
            assert env["SHEETS_API_URL"].startswith("http://127.0.0.1:")
    assert stack.jira._server is None
