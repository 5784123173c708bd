from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jobs.calendar import BusinessCalendar
from jobs.config import ActionsConfig
from jobs.model import Comment, IssueLink, Person, StatusCategory, Ticket
from jobs.rules.channel_partner_request import (
    CS_TASK_PROPERTY,
    RULE_CREATE,
    RULE_FIELDS,
    RULE_MISSING,
    RULE_REPLY,
    RULE_REPLY_DUE,
    RULE_UNLINKED,
    ChannelPartnerData,
    ChannelPartnerRequestConfig,
    ExpectedDates,
    RequestPeople,
    check_cs_task,
    cs_task_fields,
    cs_task_label,
    evaluate_requests,
    expected_dates,
    reply_blocker,
    reply_marker,
)
from jobs.rules.desk import Desk, PriorityInstallers

NEW_YORK = ZoneInfo("America/New_York")
THANKSGIVING = date(2026, 11, 26)
CALENDAR = BusinessCalendar.twenty_four_seven(NEW_YORK, holidays={THANKSGIVING})
NINE_TO_FIVE = BusinessCalendar.business(
    NEW_YORK,
    {
        d: (datetime.min.time().replace(hour=9), datetime.min.time().replace(hour=17))
        for d in range(5)
    },
)
CHERISH = Person(
    account_id="acc-cherish", display_name="Cherish Sharma", email="cherish@example.test"
)
# settings.people.onboarding_reporter gives a name and an email, no account id.
ONBOARDING = Person(None, "EverBright Onboarding", "onboarding@goeverbright.example")
CONFIG = ChannelPartnerRequestConfig()
DESK = Desk()
PEOPLE = RequestPeople(qa_assignee=CHERISH, onboarding_reporter=ONBOARDING)
NO_ACTIONS = ActionsConfig()
TITLE = "A New Channel Partner Request for Green Light Solar"


def ny(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK)  # type: ignore[misc]


CREATED = ny(2026, 11, 16, 10)  # Monday
NOW = CREATED + timedelta(hours=2)


def request(
    key: str = "SS-500",
    summary: str = TITLE,
    created: datetime = CREATED,
    links: tuple[IssueLink, ...] = (),
    comments: tuple[Comment, ...] = (),
    **extra: object,
) -> Ticket:
    return Ticket(
        key=key,
        summary=summary,
        status="Open",
        status_category=StatusCategory.NEW,
        created=created,
        project="SS",
        links=links,
        comments=comments,
        comments_total=len(comments),
        url=f"https://jira.example.test/browse/{key}",
        **extra,  # type: ignore[arg-type]
    )


def link_to(key: str, category: StatusCategory = StatusCategory.NEW) -> IssueLink:
    return IssueLink(
        type_name="Relates",
        direction="outward",
        relation="relates to",
        other_key=key,
        other_status_category=category,
    )


def good_task(
    key: str = "CS-40", created: datetime = CREATED + timedelta(minutes=10), **changes: object
) -> Ticket:
    dates = expected_dates(CREATED, CONFIG, CALENDAR)
    task = Ticket(
        key=key,
        summary=TITLE,
        status="To Do",
        status_category=StatusCategory.NEW,
        created=created,
        project="CS",
        issue_type="Task",
        description="| Company Name | Green Light Solar |",
        priority="High",
        parent_key="CS-1",
        qa_assignee=CHERISH,
        due_date=dates.due,
        configuration_date=dates.configuration,
        qa_due_date=dates.qa_due,
        links=(link_to("SS-500"),),
        url=f"https://jira.example.test/browse/{key}",
    )
    return replace(task, **changes)  # type: ignore[arg-type]


def run(
    requests: list[Ticket],
    tasks: list[Ticket] = (),  # type: ignore[assignment]
    now: datetime = NOW,
    config: ChannelPartnerRequestConfig = CONFIG,
    calendar: BusinessCalendar = CALENDAR,
    *,
    desk: Desk = DESK,
    people: RequestPeople = PEOPLE,
    actions: ActionsConfig = NO_ACTIONS,
):
    data = ChannelPartnerData(requests=requests, cs_tasks={t.key: t for t in tasks})
    return evaluate_requests(data, now, config, desk, calendar, people=people, actions=actions)


# -- business-day arithmetic -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "created", "due", "configuration"),
    [
        ("a Monday request", ny(2026, 11, 16, 10), date(2026, 11, 19), date(2026, 11, 18)),
        (
            "a Friday request is due Wednesday",
            ny(2026, 11, 20, 10),
            date(2026, 11, 25),
            date(2026, 11, 24),
        ),
        (
            "Thanksgiving inside the window",
            ny(2026, 11, 24, 10),
            date(2026, 11, 30),
            date(2026, 11, 27),
        ),
        (
            "a Friday request after hours counts from Friday",
            ny(2026, 11, 20, 21, 30),
            date(2026, 11, 25),
            date(2026, 11, 24),
        ),
        (
            "a Saturday request counts from Saturday",
            ny(2026, 11, 21, 11),
            date(2026, 11, 25),
            date(2026, 11, 24),
        ),
        (
            "late Friday local is Saturday in UTC",
            datetime(2026, 11, 21, 3, 0, tzinfo=ZoneInfo("UTC")),
            date(2026, 11, 25),
            date(2026, 11, 24),
        ),
        ("the night DST starts", ny(2026, 3, 6, 23, 30), date(2026, 3, 11), date(2026, 3, 10)),
        (
            "a holiday request counts from the holiday",
            ny(2026, 11, 26, 9),
            date(2026, 12, 1),
            date(2026, 11, 30),
        ),
    ],
)
def test_it_counts_business_days_from_the_local_created_date(
    case: str, created: datetime, due: date, configuration: date
) -> None:
    dates = expected_dates(created, CONFIG, CALENDAR)
    assert (dates.due, dates.configuration, dates.qa_due) == (due, configuration, due), case


def test_it_counts_the_same_days_on_a_business_hours_desk() -> None:
    friday_evening = ny(2026, 11, 20, 21, 30)
    assert expected_dates(friday_evening, CONFIG, NINE_TO_FIVE).due == date(2026, 11, 25)


# -- no CS task --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "fires"),
    [
        (timedelta(minutes=59, seconds=59), False),
        (timedelta(hours=1), True),
        (timedelta(hours=1, seconds=1), True),
    ],
)
def test_it_alerts_on_a_missing_cs_task_only_after_the_grace(age: timedelta, fires: bool) -> None:
    evaluation = run([request()], now=CREATED + age)
    assert [f.rule for f in evaluation.findings] == ([RULE_MISSING] if fires else [])


def test_it_names_the_dates_to_set_when_the_task_is_missing() -> None:
    (finding,) = run([request()]).findings
    assert finding.item == "SS-500"
    assert finding.facts["org"] == "Green Light Solar"
    assert finding.facts["expected"] == {
        "due": "2026-11-19",
        "configuration": "2026-11-18",
        "qa_due": "2026-11-19",
    }
    assert "due 2026-11-19" in finding.summary
    assert finding.realert == CONFIG.realert.wall


def test_it_measures_the_grace_in_working_time_on_a_business_hours_desk() -> None:
    friday_evening = ny(2026, 11, 20, 18)
    monday_morning = ny(2026, 11, 23, 9, 59)
    assert (
        run([request(created=friday_evening)], now=monday_morning, calendar=NINE_TO_FIVE).findings
        == []
    )
    later = run([request(created=friday_evening)], now=ny(2026, 11, 23, 10), calendar=NINE_TO_FIVE)
    assert [f.rule for f in later.findings] == [RULE_MISSING]


def test_it_creates_at_once_when_creation_is_switched_on() -> None:
    actions = ActionsConfig(create_cs_tasks=True)
    (finding,) = run([request()], now=CREATED + timedelta(minutes=1), actions=actions).findings
    assert finding.rule == RULE_CREATE
    assert finding.facts["expected"]["due"] == "2026-11-19"


def test_it_ignores_tickets_whose_title_does_not_match() -> None:
    evaluation = run([request(summary="Re: Channel partner question")])
    assert evaluation.findings == []
    assert evaluation.examined == 0


def test_it_takes_the_org_from_the_organizations_field_when_the_pattern_has_no_group() -> None:
    config = ChannelPartnerRequestConfig(title_pattern="A New Channel Partner Request")
    (finding,) = run([request(organizations=("Green Light Solar LLC",))], config=config).findings
    assert finding.facts["org"] == "Green Light Solar LLC"


# -- recovering a creation that did not finish ---------------------------------------------------


CREATING = ActionsConfig(create_cs_tasks=True)


@pytest.mark.parametrize(
    ("case", "changes"),
    [
        ("open, same title", {}),
        ("renamed since", {"summary": "Green Light Solar: partner setup"}),
        ("closed before anyone linked it", {"status_category": StatusCategory.DONE}),
        ("an older task (clock skew)", {"created": CREATED - timedelta(days=3)}),
    ],
)
def test_it_links_the_task_labelled_for_the_request_instead_of_creating_another(
    case: str, changes: dict[str, object]
) -> None:
    created = good_task(key="CS-41", links=(), labels=(cs_task_label("SS-500"),), **changes)
    (finding,) = run([request()], [created], actions=CREATING).findings
    assert (finding.rule, finding.facts["cs_key"], finding.facts["source"]) == (
        RULE_UNLINKED,
        "CS-41",
        "label",
    ), case
    assert finding.episode == "CS-41"


def test_the_label_decides_where_two_requests_share_a_title() -> None:
    created = good_task(key="CS-41", links=(), labels=(cs_task_label("SS-501"),))
    findings = run([request(), request(key="SS-501")], [created], actions=CREATING).findings
    assert [(f.item, f.rule, f.facts.get("cs_key")) for f in findings] == [
        ("SS-500", RULE_CREATE, None),
        ("SS-501", RULE_UNLINKED, "CS-41"),
    ]


def test_a_task_labelled_for_another_request_is_never_taken_by_its_title() -> None:
    other = good_task(key="CS-41", links=(), labels=(cs_task_label("SS-499"),))
    assert [f.rule for f in run([request()], [other], actions=CREATING).findings] == [RULE_CREATE]


def test_it_matches_the_label_whatever_its_case() -> None:
    created = good_task(key="CS-41", links=(), labels=("SLA-MONITOR-ss-500",))
    (finding,) = run([request()], [created], actions=CREATING).findings
    assert (finding.rule, finding.facts["cs_key"]) == (RULE_UNLINKED, "CS-41")


def test_it_links_the_oldest_of_two_tasks_labelled_for_the_request_and_names_both() -> None:
    first = good_task(key="CS-41", links=(), labels=(cs_task_label("SS-500"),))
    second = replace(first, key="CS-44", created=first.created + timedelta(minutes=1))
    (finding,) = run([request()], [second, first], actions=CREATING).findings
    assert finding.facts["cs_key"] == "CS-41"
    assert finding.facts["candidates"] == ["CS-41", "CS-44"]
    assert "CS-41, CS-44 were created for this request" in finding.summary


def test_the_label_wins_over_the_legacy_property() -> None:
    created = good_task(key="CS-41", links=(), labels=(cs_task_label("SS-500"),))
    ss = request(properties={CS_TASK_PROPERTY: {"key": "CS-39"}})
    (finding,) = run([ss], [created], actions=CREATING).findings
    assert (finding.facts["cs_key"], finding.facts["source"]) == ("CS-41", "label")


def test_it_ignores_the_label_once_the_request_is_linked() -> None:
    created = good_task(labels=(cs_task_label("SS-500"),))
    assert run([request(links=(link_to("CS-40"),))], [created], actions=CREATING).findings == []


def test_it_alerts_rather_than_links_a_labelled_task_when_creation_is_off() -> None:
    created = good_task(key="CS-41", links=(), labels=(cs_task_label("SS-500"),))
    (finding,) = run([request()], [created]).findings
    assert (finding.rule, finding.facts["cs_key"]) == (RULE_UNLINKED, "CS-41")


def test_it_links_the_task_recorded_in_the_legacy_property_instead_of_creating_another() -> None:
    actions = ActionsConfig(create_cs_tasks=True)
    ss = request(properties={CS_TASK_PROPERTY: {"key": "CS-41"}})
    (finding,) = run([ss], actions=actions).findings
    assert finding.rule == RULE_UNLINKED
    assert finding.facts["cs_key"] == "CS-41"
    assert finding.facts["source"] == "property"


def test_it_links_an_unlinked_task_with_the_same_title() -> None:
    actions = ActionsConfig(create_cs_tasks=True)
    orphan = good_task(key="CS-42", links=())
    (finding,) = run([request()], [orphan], actions=actions).findings
    assert (finding.rule, finding.facts["cs_key"]) == (RULE_UNLINKED, "CS-42")


def test_it_does_not_guess_when_two_requests_share_a_title() -> None:
    actions = ActionsConfig(create_cs_tasks=True)
    orphan = good_task(key="CS-42", links=())
    findings = run([request(), request(key="SS-501")], [orphan], actions=actions).findings
    assert [(f.rule, f.facts["cs_key"]) for f in findings] == [
        (RULE_UNLINKED, None),
        (RULE_UNLINKED, None),
    ]


def test_it_does_not_take_a_closed_unlabelled_task_with_the_same_title() -> None:
    closed = good_task(key="CS-42", links=(), status_category=StatusCategory.DONE)
    assert [f.rule for f in run([request()], [closed], actions=CREATING).findings] == [RULE_CREATE]


def test_it_does_not_take_an_older_task_with_the_same_title_for_the_request() -> None:
    actions = ActionsConfig(create_cs_tasks=True)
    old = good_task(key="CS-7", links=(), created=CREATED - timedelta(days=30))
    assert [f.rule for f in run([request()], [old], actions=actions).findings] == [RULE_CREATE]


def test_it_does_not_take_a_task_linked_to_another_request() -> None:
    actions = ActionsConfig(create_cs_tasks=True)
    other = good_task(key="CS-42", links=(link_to("SS-499"),))
    assert [f.rule for f in run([request()], [other], actions=actions).findings] == [RULE_CREATE]


# -- fields of the linked task -------------------------------------------------------------------


def test_it_is_quiet_when_the_linked_task_is_right() -> None:
    assert run([request(links=(link_to("CS-40"),))], [good_task()]).findings == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"priority": "Medium"}, "Priority is Medium, expected High"),
        ({"priority": None}, "Priority is missing, expected High"),
        ({"issue_type": "Epic"}, "Issue Type is Epic, expected Task"),
        ({"parent_key": None}, "Parent is missing, expected CS-1"),
        ({"parent_key": "CS-9"}, "Parent is CS-9, expected CS-1"),
        ({"qa_assignee": None}, "QA Assignee is missing, expected Cherish Sharma"),
        (
            {"qa_assignee": Person("acc-luis", "Luis Moreno")},
            "QA Assignee is Luis Moreno, expected Cherish Sharma",
        ),
        ({"summary": "Channel partner"}, "Summary differs from SS-500's title"),
        ({"description": "  "}, "Description is empty (paste the Jotform table from SS-500)"),
        ({"due_date": None}, "Due Date is missing, expected 2026-11-19"),
        (
            {"configuration_date": date(2026, 11, 30)},
            "Configuration Date is 2026-11-30, expected 2026-11-18",
        ),
        ({"qa_due_date": None}, "QA Due Date is missing, expected 2026-11-19"),
    ],
)
def test_it_names_each_wrong_or_missing_field(changes: dict[str, object], problem: str) -> None:
    ss = request(links=(link_to("CS-40"),))
    assert check_cs_task(good_task(**changes), ss, CONFIG, DESK, PEOPLE, CALENDAR) == [problem]
    (finding,) = run([ss], [good_task(**changes)]).findings
    assert (finding.rule, finding.item, finding.facts["problems"]) == (
        RULE_FIELDS,
        "CS-40",
        [problem],
    )


def test_it_accepts_dates_counted_from_the_day_the_task_was_created() -> None:
    next_morning = CREATED + timedelta(days=1)
    dates = expected_dates(next_morning, CONFIG, CALENDAR)
    task = good_task(
        created=next_morning,
        due_date=dates.due,
        configuration_date=dates.configuration,
        qa_due_date=dates.qa_due,
    )
    assert check_cs_task(task, request(), CONFIG, DESK, PEOPLE, CALENDAR) == []


def test_it_matches_the_qa_assignee_by_name_when_jira_gives_no_identifier() -> None:
    task = good_task(qa_assignee=Person(None, "Cherish Sharma"))
    assert check_cs_task(task, request(), CONFIG, DESK, PEOPLE, CALENDAR) == []


def test_it_waits_the_grace_after_the_task_was_created_before_complaining() -> None:
    task = good_task(priority="Low", created=NOW - timedelta(minutes=30))
    assert run([request(links=(link_to("CS-40"),))], [task]).findings == []


def test_it_reports_a_linked_task_the_search_did_not_return() -> None:
    evaluation = run([request(links=(link_to("CS-40"),))], [])
    assert evaluation.findings == []
    assert [p.where for p in evaluation.problems] == ["SS-500"]


# -- telling the customer ------------------------------------------------------------------------


ALEX = Person("qm:alex", "Alex Rivera", "alex@greenlight.example", account_type="customer")
REPLYING = ActionsConfig(reply_channel_partner=True)


def done_request(*comments: Comment, reporter: Person | None = ALEX) -> Ticket:
    return request(
        links=(link_to("CS-40", StatusCategory.DONE),),
        comments=comments,
        reporter=reporter,
    )


def comment(body: str, public: bool = True) -> Comment:
    return Comment(id="1", author=None, body=body, created=NOW, public=public)


def test_it_tells_support_the_customer_can_be_told_when_the_task_is_done() -> None:
    (finding,) = run([done_request()]).findings
    assert finding.rule == RULE_REPLY_DUE
    assert finding.facts["cs_keys"] == ["CS-40"]
    assert finding.facts["customer"] == "Alex Rivera"
    assert "outstanding issues" in finding.summary


def test_it_replies_once_when_replies_are_switched_on() -> None:
    (finding,) = run([done_request()], actions=REPLYING).findings
    assert finding.rule == RULE_REPLY
    assert finding.realert is None
    assert finding.facts["marker"] == reply_marker("SS-500")
    assert "reply_by_hand" not in finding.facts


@pytest.mark.parametrize(
    ("display_name", "email", "greeting"),
    [
        ("Alex Rivera", "alex@greenlight.example", "Alex"),
        ("alex@greenlight.example", "alex@greenlight.example", ""),
        ("ALEX@GREENLIGHT.EXAMPLE Rivera", None, ""),
        (None, "alex@greenlight.example", ""),
        ("  Alex  ", None, "Alex"),
    ],
)
def test_it_greets_the_customer_by_first_name_never_by_email_address(
    display_name: str | None, email: str | None, greeting: str
) -> None:
    reporter = Person("qm:alex", display_name, email, account_type="customer")
    (finding,) = run([done_request(reporter=reporter)], actions=REPLYING).findings
    assert finding.facts["greeting_name"] == greeting


@pytest.mark.parametrize(
    ("case", "reporter", "why"),
    [
        (
            "the onboarding automation account",
            Person(
                "app-everbright-onboarding",
                "EverBright Onboarding",
                "onboarding@goeverbright.example",
                "app",
            ),
            "the reporter is the onboarding automation account (EverBright Onboarding)",
        ),
        (
            "the onboarding account even if Jira calls it a customer",
            Person(
                "qm:onb", "EverBright Onboarding", "Onboarding@GoEverBright.example", "customer"
            ),
            "the reporter is the onboarding automation account (EverBright Onboarding)",
        ),
        ("no reporter", None, "the ticket has no reporter to email"),
        (
            "an account Jira did not type",
            Person("qm:alex", "Alex Rivera", "alex@greenlight.example"),
            "Jira did not say whether the reporter (Alex Rivera) is a customer",
        ),
        (
            "an agent",
            Person("acc-maya", "Maya Patel", "maya.patel@goeverbright.example", "atlassian"),
            "the reporter (Maya Patel) is not a customer account (Jira account type 'atlassian')",
        ),
        (
            "another automation",
            Person("app-automation", "Automation for Jira", None, "app"),
            "the reporter (Automation for Jira) is not a customer account "
            "(Jira account type 'app')",
        ),
    ],
)
def test_it_asks_support_to_reply_by_hand_when_the_reporter_is_not_the_customer(
    case: str, reporter: Person | None, why: str
) -> None:
    (finding,) = run([done_request(reporter=reporter)], actions=REPLYING).findings
    assert finding.rule == RULE_REPLY_DUE, case
    assert finding.facts["reply_by_hand"] == why
    assert f"from CXone to the customer on the form ({why})" in finding.summary
    assert finding.realert == CONFIG.realert.wall


def test_it_matches_the_onboarding_account_by_its_account_id_too() -> None:
    people = replace(PEOPLE, onboarding_reporter=Person("app-everbright-onboarding"))
    reporter = Person("app-everbright-onboarding", "EverBright Onboarding", None, "customer")
    assert reply_blocker(reporter, people.onboarding_reporter) is not None
    (finding,) = run([done_request(reporter=reporter)], actions=REPLYING, people=people).findings
    assert finding.rule == RULE_REPLY_DUE


def test_it_replies_to_a_customer_when_no_onboarding_account_is_configured() -> None:
    people = replace(PEOPLE, onboarding_reporter=None)
    assert [f.rule for f in run([done_request()], actions=REPLYING, people=people).findings] == [
        RULE_REPLY
    ]


def test_it_names_why_in_the_reply_due_alert_even_with_replies_switched_off() -> None:
    (finding,) = run([done_request(reporter=None)]).findings
    assert finding.rule == RULE_REPLY_DUE
    assert finding.facts["reply_by_hand"] == "the ticket has no reporter to email"


def test_it_is_quiet_once_the_reply_is_on_the_ticket() -> None:
    ss = done_request(comment(f"Hi Alex,\n...\n{reply_marker('SS-500')}"))
    assert run([ss]).findings == []
    assert run([ss], actions=REPLYING).findings == []


@pytest.mark.parametrize(
    ("actions", "rule"), [(NO_ACTIONS, RULE_REPLY_DUE), (REPLYING, RULE_REPLY)]
)
def test_it_does_not_take_an_internal_draft_with_the_ref_line_for_the_reply(
    actions: ActionsConfig, rule: str
) -> None:
    draft = comment(f"Draft for Alex:\nHi Alex, ...\n{reply_marker('SS-500')}", public=False)
    (finding,) = run([done_request(draft)], actions=actions).findings
    assert finding.rule == rule


def test_it_waits_until_every_linked_task_is_done() -> None:
    ss = request(links=(link_to("CS-40", StatusCategory.DONE), link_to("CS-43")))
    task = good_task(key="CS-43")
    assert run([ss], [task]).findings == []


def test_it_does_not_guess_about_the_reply_when_comments_were_truncated() -> None:
    ss = replace(done_request(), comments_total=60)
    evaluation = run([ss])
    assert evaluation.findings == []
    assert "truncated" in evaluation.problems[0].message


# -- the task to create ----------------------------------------------------------------------------


def test_it_builds_the_cs_task_the_sop_describes() -> None:
    dates = ExpectedDates(date(2026, 11, 19), date(2026, 11, 18), date(2026, 11, 19))
    fields = cs_task_fields(
        TITLE + "  ", "| Company | Green Light |", dates, CONFIG, DESK, PEOPLE, request_key="SS-500"
    )
    assert fields == {
        "project": "CS",
        "issuetype": "Task",
        "priority": "High",
        "summary": TITLE,
        "description": "| Company | Green Light |",
        "parent": "CS-1",
        "QA Assignee": "acc-cherish",
        "duedate": "2026-11-19",
        "Configuration Date": "2026-11-18",
        "QA Due Date": "2026-11-19",
        "labels": ["sla-monitor-SS-500"],
    }


@pytest.mark.parametrize("key", ["SS-500", "SS-1", "CS_OPS-12345", "ss-7"])
def test_it_names_the_request_in_a_label_jira_accepts(key: str) -> None:
    label = cs_task_label(key)
    assert label == f"sla-monitor-{key}"
    assert label and not any(ch.isspace() for ch in label)
    assert len(label) <= 255  # Jira's limit for a label


@pytest.mark.parametrize(
    "text", ["", "SS 500", "SS-500 ", "SS-", "-500", 'SS-5" OR project = HR', "SS-5\n"]
)
def test_it_refuses_a_label_for_anything_but_an_issue_key(text: str) -> None:
    with pytest.raises(ValueError, match="not a Jira issue key"):
        cs_task_label(text)


def test_it_marks_a_priority_installers_request() -> None:
    desk = Desk(priority_installers=PriorityInstallers(("Green Light Solar, LLC",)))
    (finding,) = run([request()], desk=desk).findings
    assert finding.priority is True
    (other,) = run([request(summary="A New Channel Partner Request for HW Solar")]).findings
    assert other.priority is False


def test_it_names_the_accounts_when_two_qa_assignees_share_a_name() -> None:
    task = good_task(qa_assignee=Person("acc-other", "Cherish Sharma"))
    assert check_cs_task(task, request(), CONFIG, DESK, PEOPLE, CALENDAR) == [
        "QA Assignee is Cherish Sharma (account acc-other), "
        "expected Cherish Sharma (account acc-cherish)"
    ]
