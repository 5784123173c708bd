"""The first-response search may leave out tickets younger than `quiet_age`: none of them can
alert, on a 24x7 desk or a business-hours one, whatever the settings, holidays or comments.

`created <= -Nm` (N = `quiet_minutes`) is then a superset of what can alert whenever Jira's
clock is not behind the run's instant by more than the margin; the job asks for the rest
when it is (see `tests/e2e/test_unassigned_first_response.py`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.calendar import BusinessCalendar
from jobs.model import Comment, Person, StatusCategory, Ticket
from jobs.rules.desk import Desk, PriorityInstallers
from jobs.rules.unassigned_first_response import (
    UnassignedFirstResponseConfig,
    evaluate_unassigned,
    needs_every_comment,
    quiet_age,
)
from jobs.scheduled.unassigned_first_response import CLOCK_MARGIN, quiet_minutes

ZONES = [ZoneInfo(z) for z in ("America/New_York", "UTC", "Asia/Kolkata", "Pacific/Auckland")]
CUSTOMER = Person("acc-customer", "Pat Homeowner", "pat@example.com")
OTHER_CUSTOMER = Person("acc-other", "Lee", "lee@example.com", account_type="customer")
BOT = Person("acc-bot", "Automation for Jira")
DESK = Desk(priority_installers=PriorityInstallers(("Sunrise Solar Co",)))

minutes = st.integers(min_value=0, max_value=60 * 24 * 30)


@st.composite
def configs(draw: st.DrawFn) -> UnassignedFirstResponseConfig:
    target = draw(st.integers(min_value=5, max_value=60 * 24 * 30))
    warn = draw(st.integers(min_value=0, max_value=min(target - 1, 60 * 24)))
    return UnassignedFirstResponseConfig.model_validate(
        {
            "first_response": f"{target}m",
            "warn_before": f"{warn}m",
            "escalate_factor": draw(st.floats(min_value=1.01, max_value=100.0)),
            "priority_levels": draw(st.sampled_from([[], ["High"], ["Highest", "High"]])),
        }
    )


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    tz = draw(st.sampled_from(ZONES))
    holidays = draw(st.sets(st.dates(date(2026, 1, 1), date(2027, 12, 31)), max_size=20))
    if draw(st.booleans()):
        return BusinessCalendar.twenty_four_seven(tz, holidays=holidays)
    hours = {}
    for day in range(7):
        if draw(st.booleans()) or day == 0:
            opens = draw(st.integers(min_value=0, max_value=22))
            closes = draw(st.integers(min_value=opens + 1, max_value=24))
            hours[day] = (time(opens), time(0) if closes == 24 else time(closes))
    return BusinessCalendar.business(tz, hours, holidays=holidays)


@st.composite
def young_tickets(draw: st.DrawFn, now: datetime, youngest: timedelta) -> Ticket:
    """A ticket created less than ``youngest`` before ``now`` (never answered by an agent:
    only the customer, automation and internal notes)."""
    age = draw(st.timedeltas(min_value=timedelta(0), max_value=youngest)) - timedelta(seconds=1)
    created = now - max(age, timedelta(0))
    authors = st.sampled_from([CUSTOMER, OTHER_CUSTOMER, BOT, None])
    comments = tuple(
        Comment(
            id=str(n),
            author=draw(authors),
            body="Any update?",
            created=created + timedelta(minutes=n),
            public=True,
        )
        for n in range(draw(st.integers(min_value=0, max_value=3)))
    )
    return Ticket(
        key=f"SS-{draw(st.integers(min_value=1, max_value=9999))}",
        summary="Cannot log in",
        status="Waiting for support",
        status_category=StatusCategory.NEW,
        created=created,
        project="SS",
        reporter=CUSTOMER,
        priority=draw(st.sampled_from(["Low", "Medium", "High", "Highest", None])),
        organizations=draw(st.sampled_from([(), ("Sunrise Solar Co",), ("Acme",)])),
        comments=comments,
        comments_total=len(comments) + draw(st.sampled_from([0, 0, 30])),
    )


@settings(max_examples=300, deadline=None)
@given(data=st.data(), config=configs(), calendar=calendars())
def test_no_ticket_younger_than_the_quiet_age_alerts(
    data: st.DataObject, config: UnassignedFirstResponseConfig, calendar: BusinessCalendar
) -> None:
    youngest = quiet_age(config)
    assert youngest is not None and youngest > timedelta(0)
    now = data.draw(
        st.datetimes(datetime(2026, 1, 10), datetime(2027, 12, 20), timezones=st.just(UTC))
    )
    tickets = data.draw(st.lists(young_tickets(now, youngest), max_size=5))

    evaluation = evaluate_unassigned(tickets, now, config, DESK, calendar)

    assert evaluation.findings == []
    assert not any(needs_every_comment(t, now, config, DESK, calendar) for t in tickets)


@settings(max_examples=200, deadline=None)
@given(config=configs())
def test_the_search_bound_is_within_the_quiet_age_by_the_clock_margin(
    config: UnassignedFirstResponseConfig,
) -> None:
    youngest = quiet_age(config)
    assert youngest is not None
    bound = timedelta(minutes=quiet_minutes(config))
    assert bound <= max(timedelta(0), youngest - CLOCK_MARGIN)


def test_nothing_is_left_out_when_jira_decides_or_the_scope_is_the_desks() -> None:
    jira = UnassignedFirstResponseConfig.model_validate({"sla_source": "jira"})
    own = UnassignedFirstResponseConfig.model_validate({"jql": "project = SS"})

    assert quiet_age(jira) is None and quiet_minutes(jira) == 0
    assert quiet_minutes(own) == 0
    assert quiet_minutes(UnassignedFirstResponseConfig()) == 88  # 2 h - 30 m - 2 m


@settings(max_examples=100, deadline=None)
@given(config=configs(), tz=st.sampled_from(ZONES))
def test_the_quiet_age_is_tight_on_a_24x7_desk(
    config: UnassignedFirstResponseConfig, tz: ZoneInfo
) -> None:
    youngest = quiet_age(config)
    assert youngest is not None
    now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    created = now - youngest - timedelta(seconds=1)
    ticket = Ticket("SS-1", "s", "Open", StatusCategory.NEW, created, reporter=CUSTOMER)

    evaluation = evaluate_unassigned(
        [ticket], now, config, DESK, BusinessCalendar.twenty_four_seven(tz)
    )

    assert [f.item for f in evaluation.findings] == ["SS-1"]


@settings(max_examples=100, deadline=None)
@given(
    now=st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
    offset_hours=st.integers(min_value=-12, max_value=14),
)
def test_the_lookback_bound_is_early_enough_in_any_timezone_jira_may_read_it_in(
    now: datetime, offset_hours: int
) -> None:
    """Jira reads ``created >= "yyyy/MM/dd HH:mm"`` in its API user's timezone: in every one
    (UTC-12 to UTC+14) the bound is at or before ``now - lookback``."""
    from types import SimpleNamespace

    from jobs.scheduled.unassigned_first_response import _scope

    config = UnassignedFirstResponseConfig()
    [bound] = [c for c in _scope("SS", config, SimpleNamespace(now=now)) if "created >=" in c]  # type: ignore[arg-type]
    wall = datetime.strptime(bound.split('"')[1], "%Y/%m/%d %H:%M")
    read_as = wall.replace(tzinfo=UTC) - timedelta(hours=offset_hours)
    assert read_as <= now - config.lookback.wall


AGENT = Person("acc-agent", "Maya Patel", "maya@example.com", account_type="atlassian")


@st.composite
def any_tickets(draw: st.DrawFn, now: datetime) -> Ticket:
    """A ticket of up to three days, its comments by anyone, public or not, with any text."""
    created = now - draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)))
    comments = tuple(
        Comment(
            id=str(n),
            author=draw(st.sampled_from([CUSTOMER, OTHER_CUSTOMER, BOT, AGENT, None])),
            body=draw(st.text(max_size=30)),
            created=created + timedelta(minutes=draw(st.integers(0, 60 * 72))),
            public=draw(st.booleans()),
        )
        for n in range(draw(st.integers(0, 4)))
    )
    return Ticket(
        f"SS-{draw(st.integers(1, 10_000))}", "s", "Open", StatusCategory.NEW, created,
        reporter=CUSTOMER, comments=comments,
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(data=st.data(), config=configs(), calendar=calendars())
def test_the_rule_decides_the_same_without_the_comments_text(
    data: st.DataObject, config: UnassignedFirstResponseConfig, calendar: BusinessCalendar
) -> None:
    """The job reads comments without what they say (``comment_text=False``: a 100k-ticket
    scan holds every ticket of its lookback): the rule must never have needed it."""
    now = data.draw(
        st.datetimes(datetime(2026, 1, 10), datetime(2027, 12, 20), timezones=st.just(UTC))
    )
    tickets = data.draw(st.lists(any_tickets(now), max_size=4, unique_by=lambda t: t.key))
    bare = [replace(t, comments=tuple(replace(c, body="") for c in t.comments)) for t in tickets]

    assert all(not c.body for t in bare for c in t.comments)
    whole = evaluate_unassigned(tickets, now, config, DESK, calendar)
    assert evaluate_unassigned(bare, now, config, DESK, calendar) == whole
