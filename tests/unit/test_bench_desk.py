"""The benchmark's desk generator and its honest-floor arithmetic (`bench.desk`, `bench.run`)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC

import pytest

from bench.desk import (
    NOW,
    ONBOARDING_SUMMARY,
    PRIORITY_INSTALLERS,
    SHEET_KEY,
    SHEET_STATUS_COLUMN,
    DeskShape,
    desk_skeleton,
    desk_stats,
    generate_desk,
    iter_tickets,
    organization_names,
)
from bench.run import (
    BenchJira,
    DeskFacts,
    JobResult,
    SearchRecord,
    comment_pages_needed,
    excess,
    floor_jira,
    floor_sheets,
    floor_slack,
    floor_wall,
    jira_breakdown,
    markdown_table,
    paced_seconds,
    packing,
    question_of,
    search_pages,
)
from emulators.base import Call
from emulators.jira import JiraEmulator
from emulators.jira.model import HttpError

SMALL = DeskShape(open_tickets=400, sheet_rows=60)


@pytest.fixture(scope="module")
def desk() -> dict:
    return generate_desk(SMALL, NOW)


# -- the desk --------------------------------------------------------------------------------


def test_it_builds_the_same_desk_from_the_same_seed(desk: dict) -> None:
    again = generate_desk(SMALL, NOW)
    assert [t["key"] for t in again["tickets"]] == [t["key"] for t in desk["tickets"]]
    assert again["tickets"][57] == desk["tickets"][57]
    assert again["sheets"] == desk["sheets"]


def test_it_has_exactly_the_open_tickets_asked_for(desk: dict) -> None:
    stats = desk_stats(desk["tickets"])
    assert stats["open"] == SMALL.open_tickets
    assert stats["tickets"] - stats["open"] >= SMALL.count(SMALL.resolved_share)


def test_a_fifth_of_the_tickets_carry_a_full_search_page_of_comments() -> None:
    tickets = list(iter_tickets(DeskShape(open_tickets=3000), NOW))
    full = sum(len(t["comments"]) == 20 for t in tickets) / len(tickets)
    longer = [t for t in tickets if len(t["comments"]) > 20]
    assert 0.17 < full < 0.23
    assert longer and all(len(t["comments"]) == 45 for t in longer)


def test_filler_comments_come_before_the_flows_own(desk: dict) -> None:
    mention = "[~accountid:acc-david-ellis]"
    asked = [t for t in desk["tickets"] if any(mention in c["body"] for c in t["comments"])]
    padded = [t for t in asked if len(t["comments"]) >= 20]
    assert asked and padded
    for ticket in asked:
        comments = ticket["comments"]
        assert [c["created"] for c in comments] == sorted(c["created"] for c in comments)
        ask = next(n for n, c in enumerate(comments) if mention in c["body"])
        assert all(c["public"] for c in comments[:ask])  # the conversation
        assert not any(c["public"] for c in comments[ask:])  # the ask and his answer


def test_unassigned_tickets_have_no_agent_filler(desk: dict) -> None:
    agents = {u["account_id"] for u in desk["users"] if u["kind"] == "agent"}
    for ticket in desk["tickets"]:
        if (
            ticket["assignee"] is None
            and ticket["project"] == "SS"
            and len(ticket["comments"]) >= 20
        ):
            by_agents = [c for c in ticket["comments"] if c["author"] in agents]
            assert len(by_agents) <= 1  # at most the flow's own "answered" reply


def test_every_reference_resolves_and_links_point_backwards(desk: dict) -> None:
    users = {u["account_id"] for u in desk["users"]}
    seen: set[str] = set()
    for ticket in desk["tickets"]:
        for person in (ticket["reporter"], ticket["assignee"], ticket["qa_assignee"]):
            assert person is None or person in users
        assert all(c["author"] in users for c in ticket["comments"])
        assert all(link["key"] in seen for link in ticket["links"])
        assert ticket["parent"] is None or ticket["parent"] in seen
        seen.add(ticket["key"])
    assert desk["tickets"][0]["key"] == "CS-1"


def test_the_sheet_has_its_rows_on_the_second_tab_with_approved_onboarding_accounts(
    desk: dict,
) -> None:
    tabs = desk["sheets"][SHEET_KEY]["tabs"]
    header, *rows = tabs[1]["rows"]
    assert len(rows) == SMALL.sheet_rows
    assert (header[1], header[SHEET_STATUS_COLUMN]) == ("Account Name", "Status")
    onboarding_orgs = {
        t["organizations"][0]
        for t in desk["tickets"]
        if t["summary"].endswith(ONBOARDING_SUMMARY) and t["organizations"]
    }
    approved = {r[1] for r in rows if r[SHEET_STATUS_COLUMN] == "Approved"}
    assert onboarding_orgs < approved  # plus a few approved accounts with no ticket


def test_organization_names_are_distinct_even_without_legal_suffixes() -> None:
    names = organization_names(5000, seed=3)
    assert names[:2] == list(PRIORITY_INSTALLERS)
    stripped = {
        " ".join(w for w in n.split() if w not in ("LLC", "Inc", "Co", "Group")) for n in names
    }
    assert len(stripped) == len(names)


def test_the_emulator_loads_the_generated_desk_like_a_fixture_desk(desk: dict) -> None:
    plain = JiraEmulator(desk, clock=lambda: NOW)
    bench = BenchJira(desk_skeleton(SMALL, NOW), clock=lambda: NOW)
    assert bench.load(iter_tickets(SMALL, NOW)) == len(desk["tickets"])
    for jql in (
        'project = "SS" AND assignee IS EMPTY AND statusCategory != Done ORDER BY created ASC',
        # Read by project (the bench's narrowing), and not: an OR at the top, no project.
        "project in (SS, CS) AND statusCategory != Done",
        'project = "CS" OR labels = "EB"',
        "statusCategory != Done ORDER BY key",
        # Read by key (the bench's narrowing), beside a parent clause too; not in an OR.
        'key in ("SS-3", "ss-1", "CS-2") AND statusCategory != Done ORDER BY key',
        "issuekey = SS-2",
        'project = "SS" AND (key in (SS-1, SS-2) OR labels = "EB")',
        "key in (SS-1, SS-2) AND parent is EMPTY",
        "key in (SS-1, 10002)",
    ):
        assert [i.key for i in bench._run_query(jql)] == [i.key for i in plain._run_query(jql)]


def _same_answers(bench: BenchJira, plain: JiraEmulator, queries: list[str]) -> None:
    for jql in queries:
        assert [i.key for i in bench._run_query(jql)] == [i.key for i in plain._run_query(jql)], jql
        bench._forget_matches()


def test_a_query_read_from_indexes_matches_as_the_plain_emulator(desk: dict) -> None:
    """Read from the issues its dates (by bisection), people and statuses let through, and
    once per condition whatever the order asked: the same issues, in the same order, as a
    scan of every issue; also once they changed after the desk was loaded."""
    plain = JiraEmulator(desk, clock=lambda: NOW)
    bench = BenchJira(desk_skeleton(SMALL, NOW), clock=lambda: NOW)
    bench.load(iter_tickets(SMALL, NOW))
    created = sorted(t["created"] for t in desk["tickets"])
    middle = created[len(created) // 2].astimezone(UTC)
    at = f"{middle:%Y/%m/%d %H:%M}"  # a minute some issue was created in: the edge itself
    late = [t for t in desk["tickets"] if t["created"] > middle and t["project"] == "SS"]
    reporter = next(t["reporter"] for t in late if t.get("reporter"))
    assignee = next(t["assignee"] for t in late if t.get("assignee"))
    named = next(u for u in desk["users"] if u["account_id"] == assignee)
    early = ", ".join(t["key"] for t in desk["tickets"] if t["created"] < middle)
    queries = [
        f'project = "SS" AND statusCategory != Done AND created >= "{at}" AND created <= "-88m"'
        " ORDER BY key ASC",
        f'project = "SS" AND statusCategory != Done AND created >= "{at}" AND created <= "-88m"'
        " ORDER BY key DESC",
        f'created > "{at}" ORDER BY created DESC',
        f'created < "{at}" AND project in (SS, CS)',
        f'createdDate <= "{at}" AND created > startOfDay(-30)',
        "created >= -5d AND created < -1d ORDER BY created ASC, key DESC",
        'created < "1999-01-01"',
        "created > endOfDay(1)",
        # Reporters and assignees by index (the approval job's shape: an OR of a creation
        # date and keys, beside the reporter), with EMPTY and a function among the values.
        f'project = "SS" AND reporter = "{reporter}" AND (created >= "{at}" OR key in ({early}))',
        f'assignee in (EMPTY, "{assignee}") AND created < "{at}"',
        "assignee = currentUser() OR reporter = currentUser()",
        f'reporter != "{reporter}" AND created >= "{at}"',
        f'assignee = "{named["display_name"]}" OR reporter in ("{named["email"].upper()}")',
        # Other dates by the same bisection: due, resolved, updated and custom dates (the
        # configuration job's shape: an OR of three).
        'project = "CS" AND issuetype in ("Task") AND statusCategory != Done AND '
        '("Configuration Date" < "2026-11-24" OR "QA Due Date" < "2026-11-24" OR '
        'duedate < "2026-11-24") ORDER BY key',
        'duedate >= "2026-11-20" AND resolved is EMPTY',
        f'resolved >= -30d OR updated <= "{at}"',
        # Statuses by index, beside keys in an OR (the document follow-up's shape).
        f'project = "SS" AND (key in ({early}) OR (status in ("Resolved") AND updated >= -30d))',
        'status = "on hold" OR status in (Resolved, "Waiting for customer") ORDER BY key DESC',
        # Not a bound at the top: read as before.
        'project = SS AND (created >= -5d OR updated >= "2026-01-01")',
        "NOT created >= -5d",
        f'key in (SS-1, SS-2, SS-3, {early}) AND created <= "{at}"',
    ]

    _same_answers(bench, plain, queries)
    assert 0 < len(bench._run_query(queries[0])) < len(desk["tickets"])
    assert bench._dates["created"].ordered, "the bounds were read by bisection"
    assert {"created", "due", "resolved", "Configuration Date"} <= set(bench._dates)
    # Assigned and reported otherwise after the desk was indexed: read as they now are.
    for jira in (plain, bench):
        jira.issue("SS-2").assignee = assignee
        jira.issue("SS-3").assignee = None
        jira.issue("SS-4").reporter = reporter
        jira.issue("SS-5").status = "Resolved"
        jira.issue("SS-6").due_date = middle.date()
        jira.issue(early.split(", ")[0]).created = NOW
    bench._forget_matches()  # as a write through the API does
    _same_answers(bench, plain, queries)


def test_a_summary_search_matches_as_the_plain_emulator_after_edits(desk: dict) -> None:
    """Read from the words indexed at load (and the summaries changed since): the same issues
    as a scan of every issue, for phrases, words, stems and prefixes."""
    plain = JiraEmulator(desk, clock=lambda: NOW)
    bench = BenchJira(desk_skeleton(SMALL, NOW), clock=lambda: NOW)
    bench.load(iter_tickets(SMALL, NOW))
    queries = [
        f'project = "SS" AND summary ~ "{ONBOARDING_SUMMARY}" AND created >= -120d',
        f'summary ~ "\\"{ONBOARDING_SUMMARY}\\"" AND statusCategory != Done ORDER BY key',
        'summary ~ "partners onboard" ORDER BY key DESC',
        'summary ~ "Onboard*"',
        'summary ~ "zzz-no-such-word"',
        'summary !~ "Onboarding" AND project = CS',
        'summary ~ "Onboarding" AND summary ~ "EverBright"',
    ]

    _same_answers(bench, plain, queries)
    assert bench._run_query(queries[0])
    # A summary edited after the desk was indexed, either way: still read as it now is.
    matched, still = (i.key for i in bench._run_query(queries[0])[:2])
    unmatched = next(
        k for k in bench._issues if bench._issues[k] not in bench._run_query(queries[0])
    )
    for jira in (plain, bench):
        jira.issue(matched).summary = "Printer on fire"
        jira.issue(unmatched).summary = f"Re: {ONBOARDING_SUMMARY}"
        jira.issue(still).summary = f"{ONBOARDING_SUMMARY} (renewal)"
    bench._forget_matches()
    _same_answers(bench, plain, queries)
    # A key no issue has is refused alike, whether the query is read by key or not.
    for jql in ('key in ("SS-1", "SS-99999")', 'key in (SS-1) AND parent = "SS-99999"'):
        with pytest.raises(HttpError) as bench_refusal:
            bench._run_query(jql)
        with pytest.raises(HttpError) as plain_refusal:
            plain._run_query(jql)
        assert bench_refusal.value.response.body == plain_refusal.value.response.body
    assert bench._next_number("CS") == plain._next_number("CS")
    linked = next(t["key"] for t in desk["tickets"] if t["links"])
    assert bench._links_json(bench.issue(linked), "3") == plain._links_json(
        plain.issue(linked), "3"
    )
    assert len(bench._links) == len(plain._links)


def test_a_label_search_matches_as_the_plain_emulator_after_edits(desk: dict) -> None:
    """Read from the labels indexed at load (in any case, alone, in an AND or in an OR), and
    from the issues whose labels changed since, in place or replaced."""
    plain = JiraEmulator(desk, clock=lambda: NOW)
    bench = BenchJira(desk_skeleton(SMALL, NOW), clock=lambda: NOW)
    bench.load(iter_tickets(SMALL, NOW))
    labelled = next(t["key"] for t in desk["tickets"] if t["labels"])
    queries = [
        'labels = "EB"',
        'labels in ("eb", "none-such") AND project = "SS" ORDER BY key DESC',
        'project = "CS" AND (labels in ("Bench-X") OR summary ~ "configuration")',
        f'labels = "bench-x" OR key in ({labelled})',
        'labels in ("bench-x", "EB") AND statusCategory != Done',
        "labels is EMPTY AND project = CS",
        'labels != "EB" AND project = SS',
        'labels not in ("EB") AND project = CS',
    ]
    _same_answers(bench, plain, queries)
    assert bench._run_query(queries[0]), "the desk has labelled tickets"
    for jira in (plain, bench):
        jira.issue("SS-7").labels.append("Bench-X")  # in place
        jira.issue("CS-2").labels = ["bench-x"]  # replaced
        jira.issue(labelled).labels.clear()
    bench._forget_matches()  # as a write through the API does
    _same_answers(bench, plain, queries)
    assert "SS-7" in {i.key for i in bench._run_query('labels = "bench-x"')}


def test_the_emulator_forgets_query_results_after_a_write() -> None:
    shape = DeskShape(open_tickets=50, sheet_rows=5)
    jira = BenchJira(desk_skeleton(shape, NOW), clock=lambda: NOW)
    jira.load(iter_tickets(shape, NOW))
    jira.start()
    try:
        import requests

        auth = (jira.email, jira.token)
        jql = 'project = "SS" AND labels = "bench-x"'
        search = {"jql": jql, "fields": ["summary"], "maxResults": 100}
        url = f"{jira.url}/rest/api/3/search/jql"
        assert requests.post(url, json=search, auth=auth, timeout=5).json()["issues"] == []
        edit = {"update": {"labels": [{"add": "bench-x"}]}}
        requests.put(f"{jira.url}/rest/api/2/issue/SS-1", json=edit, auth=auth, timeout=5)
        found = requests.post(url, json=search, auth=auth, timeout=5).json()["issues"]
        assert [i["key"] for i in found] == ["SS-1"]
        assert [s.matched for s in jira.searches] == [0, 1]
        assert jira.searches[-1].page_cap == 100
    finally:
        jira.stop()


# -- the floor -------------------------------------------------------------------------------


def _keys(project: str, n: int, start: int = 1) -> tuple[str, ...]:
    return tuple(f"{project}-{i}" for i in range(start, start + n))


def test_a_question_is_its_jql_without_values() -> None:
    assert question_of('key in ("SS-1", "SS-22") AND status = "On Hold"') == (
        "key in (?) AND status = ?"
    )
    assert question_of("key in (SS-1, SS-2)") == question_of('key in ("SS-9")')


@pytest.mark.parametrize(
    ("matched", "cap", "pages"),
    [(0, 100, 1), (1, 100, 1), (100, 100, 1), (101, 100, 2), (12_000, 5000, 3)],
)
def test_it_counts_pages_of_the_largest_page_the_endpoint_allows(
    matched: int, cap: int, pages: int
) -> None:
    record = SearchRecord("project = SS", matched, cap, returned=0, keys=_keys("SS", matched))
    assert search_pages([record]) == pages


def test_key_chunks_and_per_ticket_searches_are_one_question() -> None:
    chunks = [
        SearchRecord(f'key in ("SS-{n}")', 100, 100, 100, keys=_keys("SS", 100, 100 * n))
        for n in range(3)
    ]
    per_ticket = [
        SearchRecord(f'key in ("CS-{n}")', 1, 100, 1, keys=(f"CS-{n}",)) for n in range(50)
    ]
    assert search_pages(chunks) == 3
    assert search_pages(per_ticket) == 1


def test_a_repeated_search_counts_its_matches_once() -> None:
    jql = 'project = "CS" AND status = "On Hold"'
    first, rest = _keys("CS", 100), _keys("CS", 50, 101)
    page = SearchRecord(jql, 150, 100, 100, keys=first)
    assert search_pages([page, SearchRecord(jql, 150, 100, 50, keys=rest), page]) == 2


def test_a_re_read_of_tickets_already_read_is_not_in_the_floor() -> None:
    tickets = SearchRecord('project = "SS" AND summary ~ "x"', 10, 100, 10, keys=_keys("SS", 10))
    reread = SearchRecord('key in ("SS-1", "SS-2")', 2, 100, 2, keys=("SS-1", "SS-2"))
    nothing = SearchRecord('project = "CS" AND labels in ("a")', 0, 100, 0)
    assert search_pages([tickets, reread]) == 1
    assert search_pages([tickets, reread, nothing]) == 2  # asking costs one call


def test_the_desk_decides_a_question_it_counts() -> None:
    asked = [SearchRecord("project = SS", 433, 100, 100, keys=_keys("SS", 100))]
    facts = DeskFacts(frozenset(_keys("SS", 263)), {"SS-7": 1})
    floor = floor_jira(asked, {"SS-7": 1, "SS-8": 1}, [], used_jira=True, facts=facts)
    assert floor.parts == {"search": 3, "comments": 1, "writes": 0, "transition lookup": 0}


def test_only_threads_longer_than_the_search_justify_comment_reads() -> None:
    searches = [
        SearchRecord(
            "project = SS",
            3,
            100,
            3,
            truncated=(("SS-1", 45), ("SS-2", 250)),
            keys=("SS-1", "SS-2", "SS-3"),
        ),
    ]
    assert comment_pages_needed(searches) == {"SS-1": 1, "SS-2": 3}
    reads = {"SS-1": 2, "SS-2": 1, "SS-3": 4}  # SS-3 came back complete
    floor = floor_jira(searches, reads, actions=[], used_jira=True)
    assert floor.parts == {"search": 1, "comments": 2, "writes": 0, "transition lookup": 0}
    assert floor.total == 3


def test_each_jira_write_that_reached_jira_counts_one_and_a_transition_two() -> None:
    actions = [
        {"kind": "jira_public_comment", "status": "sent"},
        {"kind": "jira_transition", "status": "failed"},
        {"kind": "jira_internal_comment", "status": "suppressed_duplicate"},
        {"kind": "jira_edit", "status": "dry_run"},
        {"kind": "slack_post", "status": "sent"},
    ]
    floor = floor_jira([], {}, actions, used_jira=True)
    assert floor.parts["writes"] == 2
    assert floor.parts["transition lookup"] == 1  # the id depends on the ticket's status
    assert floor_jira([], {}, actions, used_jira=False).total == 0


def test_slack_floor_is_one_call_per_message_and_one_lookup_per_person() -> None:
    actions = [
        {"kind": "slack_post", "status": "sent"},
        {"kind": "slack_update", "status": "sent"},
        {"kind": "slack_dm", "status": "sent"},
        {"kind": "slack_dm", "status": "sent"},
        {"kind": "slack_file", "status": "sent"},
        {"kind": "slack_post", "status": "dry_run"},
    ]
    floor = floor_slack(actions, ["a@x", "a@x", "b@x"], ["U1"])
    assert floor.parts == {"messages": 4, "files": 3, "lookups": 2, "dm_opens": 1}
    assert floor_sheets(True).total == 2 and floor_sheets(False).total == 0


def test_the_floors_wall_time_is_reads_in_turn_writes_side_by_side_and_paced_messages() -> None:
    jira = floor_jira(
        [SearchRecord("project = SS", 250, 100, 100, keys=_keys("SS", 250))],
        {},
        [{"kind": "jira_public_comment", "status": "sent"}] * 10,
        used_jira=True,
    )
    slack = floor_slack([{"kind": "slack_post", "status": "sent"}] * 5, ["a@x"], [])
    wall = floor_wall(jira, slack, floor_sheets(False), {"#c": 5}, latency=0.05, parallel_writes=8)
    # 3 pages, 2 waves of writes, 3 messages in a burst then 2 a second apart, 1 lookup
    assert wall == pytest.approx(3 * 0.05 + 2 * 0.05 + 3 * 0.05 + 2 * 1.0 + 0.05)
    assert paced_seconds({"#a": 2, "#b": 4}, 0.05, 3, 1.0) == pytest.approx(5 * 0.05 + 1.0)


def test_grouped_messages_are_as_few_as_the_lines_characters_allow() -> None:
    found = {(p.renderer.split(" ")[0], p.lines): (p.messages, p.floor) for p in packing()}
    assert {lines for _renderer, lines in found} == {10, 200, 2_000}
    assert all(messages == floor for messages, floor in found.values()), found
    assert found[("config_due_dates", 2_000)][0] > 1  # past Slack's limits: split


# -- the verdict -----------------------------------------------------------------------------


def _result(**overrides: object) -> JobResult:
    base = JobResult(
        size=1000,
        job="ticket_hygiene",
        latency=0.05,
        exit_code=0,
        wall_seconds=1.5,
        cpu_seconds=0.5,
        peak_rss_mb=90.0,
        examined=900,
        findings=20,
        actions=10,
        calls={"jira": 20, "slack": 5, "sheets": 0},
        reported_calls={"jira": 20, "slack": 5, "sheets": 0},
        floor={"jira": 20, "slack": 5, "sheets": 0},
        floor_parts={
            "jira": {"search": 10, "comments": 2, "writes": 8},
            "slack": {"messages": 5},
            "sheets": {},
        },
        floor_wall_seconds=1.0,
        jira_by_kind={"search": 10, "writes": 8, "comments": 2},
        slack_by_method={"chat.postMessage": 5},
        issues_read=900,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_a_job_within_every_target_passes() -> None:
    result = _result()
    result.check()
    assert result.failures == []


def test_a_job_over_its_targets_fails_with_the_reason() -> None:
    result = _result(
        calls={"jira": 30, "slack": 6, "sheets": 0},
        jira_by_kind={
            "serverInfo": 1,
            "field": 1,
            "search": 10,
            "writes": 8,
            "re-read before writing": 7,
            "transition lookup": 3,
        },
        wall_seconds=10.0,
        peak_rss_mb=210.0,
        reported_calls={"jira": 30, "slack": 5, "sheets": 0},
    )
    result.check()
    text = " | ".join(result.failures)
    assert (
        "jira 30 calls > 1.05 x floor 20 (+7 re-read before writing, +3 transition lookup, "
        "+1 serverInfo, +1 field)" in text
    )
    assert "slack 6 calls > 1.05 x floor 5" in text
    assert "wall 10.0 s > 1.3 x 1.0 s floor + 0.5 s" in text
    assert "peak RSS 210 MB" in text
    assert "the run report counts 5 slack calls, 6 were made" in text


def test_excess_counts_only_what_the_floor_does_not_justify() -> None:
    result = _result(jira_by_kind={"serverInfo": 1, "field": 1, "search": 12, "writes": 8})
    assert excess(result) == {"search": 2, "serverInfo": 1, "field": 1}


def test_a_comment_read_right_before_commenting_is_a_reread_for_the_marker() -> None:
    def call(method: str, path: str) -> Call:
        return Call(method, path, {}, None, 200, 0.0)

    calls = [
        call("GET", "/rest/api/2/issue/SS-1/comment"),
        call("POST", "/rest/servicedeskapi/request/SS-1/comment"),
        call("GET", "/rest/api/2/issue/SS-2/comment"),
        call("POST", "/rest/api/3/search/jql"),
        call("GET", "/rest/api/2/issue/SS-3/transitions"),
    ]
    assert jira_breakdown(calls) == {
        "re-read before writing": 1,
        "writes": 1,
        "comments": 1,
        "search": 1,
        "transition lookup": 1,
    }


def test_the_markdown_table_renders_a_saved_results_file() -> None:
    from dataclasses import asdict

    saved = json.loads(json.dumps({"jobs": [asdict(_result()), asdict(_result(size=10_000))]}))
    table = markdown_table(saved).splitlines()
    assert table[0].startswith("| size | lat ms | job |")
    assert "| 10,000 | 50 | ticket_hygiene | 900 | 20 | 20/20 (1.00) |" in table[3]
    assert len(table) == 4


def test_the_shape_counts_flows_from_the_open_tickets() -> None:
    shape = DeskShape(open_tickets=10_000)
    assert shape.count(shape.unassigned) == 400
    assert shape.count(shape.resolved_share) == 1000


def test_a_user_made_after_a_lookup_is_rendered_as_the_plain_emulator_does() -> None:
    """The bench keeps each user's JSON once found, never an account's absence: a create can
    make the account (an unknown reporter's email), and a write forgets what was kept."""
    shape = DeskShape(open_tickets=20, sheet_rows=5)
    bench = BenchJira(desk_skeleton(shape, NOW), clock=lambda: NOW)
    bench.load(iter_tickets(shape, NOW))
    account = "qm:other-person-newco-example"
    assert bench._user_json(account, "3") is None
    bench.desk["users"].append(
        {"account_id": account, "display_name": "Other Person", "kind": "customer"}
    )
    bench._index_users()  # as a create that made the account does
    assert bench._user_json(account, "3")["displayName"] == "Other Person"
    bench.desk["users"][-1]["display_name"] = "Other P. Person"
    bench._forget_matches()  # as a write through the API does
    assert bench._user_json(account, "3")["displayName"] == "Other P. Person"


# -- what the bench's emulators send -----------------------------------------------------------


def test_the_bench_encodes_answers_to_the_same_json_as_the_plain_emulator(desk: dict) -> None:
    """orjson, for speed: every search page of the desk decodes to what the plain emulator's
    bytes decode to, text beyond ASCII included (sent as UTF-8 rather than escaped)."""
    plain = JiraEmulator(desk, clock=lambda: NOW)
    bench = BenchJira(desk_skeleton(SMALL, NOW), clock=lambda: NOW)
    bench.load(iter_tickets(SMALL, NOW))
    issues = [
        bench._issue_json(issue, "3", ["summary", "comment", "reporter"], [], "changelog", 20)
        for issue in bench._run_query("project in (SS, CS) ORDER BY key")
    ]
    page = {"issues": issues, "isLast": True}
    assert json.loads(bench.encode(page)) == json.loads(plain.encode(page)) == page
    odd = {"summary": "Café — “quoted” ✓ 太陽 \U0001f31e", "n": -(2**63), "x": 1.5e-7, "z": None}
    assert json.loads(bench.encode(odd)) == odd
    assert "Café — “quoted” ✓ 太陽" in bench.encode(odd).decode("utf-8")  # as Jira sends it


@pytest.mark.parametrize(
    "body",
    [
        {"text": "half a pair \ud83d here"},  # a lone surrogate: orjson refuses it
        {"id": 2**70},  # past 64 bits
        [{"nested": {"deep": "ok"}}, 2**64],
    ],
)
def test_what_orjson_refuses_goes_out_as_the_standard_library_sends_it(body: object) -> None:
    bench = BenchJira(desk_skeleton(SMALL, NOW), clock=lambda: NOW)
    assert bench.encode(body) == JiraEmulator.encode(bench, body)


def test_what_is_not_json_still_fails_as_it_did() -> None:
    from datetime import datetime

    bench = BenchJira(desk_skeleton(SMALL, NOW), clock=lambda: NOW)
    for body in ({"at": datetime(2026, 1, 1, tzinfo=UTC)}, {"key": SearchRecord("x", 1, 1, 1)}):
        with pytest.raises(TypeError):
            bench.encode(body)
