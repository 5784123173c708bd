"""The large desk `make bench` measures against: generated in code, deterministic, realistic.

`generate_desk(shape, now)` returns the same dict `emulators.fixtures.load_desk` returns (users,
organizations, projects, custom fields, link types, tickets, Slack, sheets), built from the
shared people file plus generated customers, organizations and tickets. `desk_skeleton` and
`iter_tickets` are the same desk in two parts, so the benchmark can feed 100,000 tickets to the
Jira emulator one at a time instead of holding every ticket dict at once.

The open tickets are spread over the flows the jobs look at (shares in `DeskShape`); most are
healthy, as on a real desk, and a few of each flow need something done:

- the ordinary queue: assigned SS tickets with a first response (a few miss an Organization,
  a few priority installers are not at High): ticket_hygiene, sla_report;
- unassigned SS tickets of every age, quiet to escalated (some answered but not assigned):
  unassigned_first_response, sla_report;
- "EverBright Partner Onboarding" tickets for accounts approved on the sheet, with approver
  asks of every age, answers, and approval tickets sent by email: approval_reminder,
  onboarding_missing_ticket, ticket_hygiene (the EB label);
- customers testing on Onboard: a CS ticket On Hold linked to an SS ticket whose first email
  went out days ago, nudged, answered: onboard_reset_reminder, doc_test_followup;
- channel partner requests, with and without their CS task: channel_partner_request;
- CS configuration tasks with Configuration, QA and Due Dates, a few of them come:
  config_due_dates;
- resolved tickets of the last 30 days (some fulfilled and silent, a few without a Channel).

A fifth of all tickets carry ``comments_per_ticket`` comments (20 = exactly what a search
returns, so no per-ticket read is needed) and a few carry ``long_thread_comments`` (more than a
search returns: the only tickets whose comments a job may page). The financier sheet has
``sheet_rows`` rows on its second tab (column B the account, column L the status).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from emulators.fixtures import DEFAULT_FIRST_RESPONSE_GOAL, PEOPLE_FILE, load_desk

DESK_TZ = ZoneInfo("America/New_York")
"""config/settings.yaml's desk.timezone."""
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=DESK_TZ)
"""A Monday 10:00 at the desk: the Monday jobs (reset reminder, weekly report) have work too."""

SHEET_KEY = "1EverBrightFinancierOnboardingSheet"
"""The key config/settings.yaml points sheet.key at."""
SHEET_STATUS_COLUMN = 11
"""Column L (0-based): the status column of config/settings.yaml's sheet section."""
PRIORITY_INSTALLERS = ("Sunrise Solar Co", "Bright Path Energy LLC")
"""config/settings.yaml's priority_installers."""
EPIC_KEY = "CS-1"
ONBOARDING_SUMMARY = "EverBright Partner Onboarding"
CHANNEL_PARTNER_SUMMARY = "A New Channel Partner Request for {org}"
ALERT_CHANNEL = "#support-sla"

SUPPORT_AGENTS = ("acc-maya-patel", "acc-jordan-reyes", "acc-priya-nair", "acc-sam-whitaker")
CONFIG_TEAM = ("acc-luis-moreno", "acc-hannah-brooks")
QA_ASSIGNEE = "acc-cherish-sharma"
APPROVER = "acc-david-ellis"
ONBOARDING_APP = "app-everbright-onboarding"
JIRA_AUTOMATION = "app-automation-for-jira"

OPEN_SS_STATUSES = ("Open", "Waiting for support", "Waiting for customer", "In Progress")
REQUEST_TYPES = ("Get help", "Billing", "Training", "Cancellation", "Company-specific Data Change")
CHANNELS = ("Email", "Email", "Email", "Chat", "Phone", "Portal")

_PLACES = (
    "Sunrise Acacia Amber Aspen Atlas Beacon Birch Blue Bright Canyon Cedar Clear Coastal "
    "Copper Cypress Delta Eagle Ember Evergreen Falcon Golden Granite Green Harbor Hawk Heron "
    "Highland Horizon Iron Juniper Lake Liberty Lone Maple Meadow Mesa North Oak Pacific Pine "
    "Prairie Red Ridge River Sage Silver Stone Summit Timber Valley"
).split()
_FEATURES = (
    "Bay Bend Bluff Brook Creek Crest Dale Field Fork Gap Glen Grove Haven Hill Hollow Knoll "
    "Landing Mill Park Peak Point Rock Run Spring Trail Vista Wood"
).split()
_TRADES = (
    "Solar",
    "Energy",
    "Power",
    "Roofing",
    "Electric",
    "Renewables",
    "Home Services",
    "Builders",
    "Contracting",
    "Sun Systems",
)
_LEGAL = ("", "", "", "LLC", "Inc", "Co", "Group")
_FIRST = (
    "Alex Ana Ben Carla Dana Eli Fatima Grace Hugo Iris Jon Kim Lena Marco Nia Omar Pat Quinn "
    "Rosa Sam Tara Uma Victor Wen Yara Zoe"
).split()
_LAST = (
    "Alvarez Brooks Carter Diaz Evans Fox Garcia Hughes Ito Jensen Khan Lee Morgan Ng Ortiz "
    "Park Quinn Reyes Silva Tran Underwood Vega Walsh Young Zhang"
).split()

_FILLER_CUSTOMER = (
    "Thanks, attaching the screenshot from the portal.",
    "Any update on this one?",
    "Our crew is on site tomorrow, so this is getting urgent.",
    "That worked for the first account but not the second.",
    "Adding our office manager to this thread.",
)
_FILLER_AGENT = (
    "Thanks, I can see it on our side and I am looking into it.",
    "Could you send the homeowner's application number?",
    "I have asked the engineering team and will update you here.",
    "This should be fixed now; please try again and let us know.",
    "Following up on this: do you still see the problem?",
)


@dataclass(frozen=True)
class DeskShape:
    """How big the desk is and how its open tickets spread over the flows."""

    open_tickets: int = 10_000
    commented_share: float = 0.2
    """A fifth of the tickets have a long conversation..."""
    comments_per_ticket: int = 20
    """...of this many comments: what a search returns with each ticket, so nothing is paged."""
    long_thread_share: float = 0.005
    long_thread_comments: int = 45
    """Longer than a search returns (20): a job that needs these comments must page them."""
    resolved_share: float = 0.1
    """Resolved tickets of the last 30 days, beyond the open ones, as a share of them."""
    sheet_rows: int = 2_000
    seed: int = 20261123
    # Shares of the open tickets per flow (see the module docstring); the queue gets the rest.
    unassigned: float = 0.04
    onboarding: float = 0.03
    onboard_testing: float = 0.01
    fulfilled: float = 0.003
    channel_partner: float = 0.01
    config_tasks: float = 0.08

    def count(self, share: float) -> int:
        return int(round(self.open_tickets * share))


@dataclass(frozen=True)
class Contact:
    account_id: str
    display_name: str
    email: str


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    domain: str
    contacts: tuple[Contact, ...]


# -- names ---------------------------------------------------------------------------------------


def organization_names(count: int, seed: int) -> list[str]:
    """``count`` distinct installer names, the priority installers first.

    No two differ only by a legal suffix (LLC, Inc...), which the name matching of
    onboarding_missing_ticket ignores: each is a distinct place, feature and trade.
    """
    rng = random.Random(seed)
    names = list(PRIORITY_INSTALLERS)
    triples = [(p, f, t) for p in _PLACES for f in _FEATURES for t in _TRADES]
    if count > len(names) + len(triples):
        raise ValueError(f"at most {len(names) + len(triples)} organizations, not {count}")
    rng.shuffle(triples)
    for place, feature, trade in triples[: max(0, count - len(names))]:
        names.append(" ".join(w for w in (place, feature, trade, rng.choice(_LEGAL)) if w))
    return names[:count]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


# -- the desk ------------------------------------------------------------------------------------


def desk_skeleton(shape: DeskShape, now: datetime = NOW) -> dict[str, Any]:
    """Everything but the tickets: people, customers, organizations, projects, Slack, the sheet."""
    desk = load_desk(PEOPLE_FILE, now)
    orgs = organizations(shape)
    for org in orgs:
        for contact in org.contacts:
            desk["users"].append(
                {
                    "account_id": contact.account_id,
                    "display_name": contact.display_name,
                    "email": contact.email,
                    "slack_id": None,
                    "kind": "customer",
                    "time_zone": "America/New_York",
                }
            )
    desk["organizations"] = [{"id": org.id, "name": org.name} for org in orgs]
    if ALERT_CHANNEL not in desk["slack"]["channels"]:
        desk["slack"]["channels"].append(ALERT_CHANNEL)
    desk["sheets"] = {SHEET_KEY: {"tabs": sheet_tabs(shape, orgs, now)}}
    desk["tickets"] = []
    return desk


def iter_tickets(shape: DeskShape, now: datetime = NOW) -> Iterator[dict[str, Any]]:
    """The desk's tickets, one normalized ticket dict at a time, for `desk_skeleton`'s people.

    A link always points at a ticket yielded earlier, so tickets can be loaded as they come.
    """
    yield from _Generator(shape, organizations(shape), now).tickets()


def generate_desk(shape: DeskShape, now: datetime = NOW) -> dict[str, Any]:
    """The whole desk as `emulators.fixtures.load_desk` returns it (tickets materialized)."""
    desk = desk_skeleton(shape, now)
    desk["tickets"] = list(iter_tickets(shape, now))
    return desk


def organizations(shape: DeskShape) -> list[Organization]:
    """The installers: one per onboarding ticket and channel partner, and a pool the rest of
    the desk's customers come from (big enough that the sheet's accounts are mostly distinct)."""
    rng = random.Random(shape.seed)
    count = max(
        shape.count(shape.onboarding) + shape.count(shape.channel_partner) + 200,
        shape.open_tickets // 10,
        shape.sheet_rows // 2,
    )
    orgs = []
    for n, name in enumerate(organization_names(count, shape.seed), start=1):
        domain = _slug(name.removesuffix(" LLC").removesuffix(" Inc")) + ".example"
        contacts: dict[str, Contact] = {}
        for _ in range(1 + n % 2):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            email = f"{first.lower()}.{last.lower()}@{domain}"
            # The account id a customer first seen by email gets in the fixtures ("qm:...").
            account_id = "qm:" + _slug(email)
            contacts[account_id] = Contact(account_id, f"{first} {last}", email)
        orgs.append(Organization(str(n), name, domain, tuple(contacts.values())))
    return orgs


def sheet_tabs(shape: DeskShape, orgs: Sequence[Organization], now: datetime) -> list[dict]:
    """Tab 1 explains the sheet; tab 2 has a header and ``sheet_rows`` account rows.

    The accounts with an onboarding ticket are Approved; a few approved accounts have none
    (what onboarding_missing_ticket looks for); the rest are pending, in review or declined.
    """
    rng = random.Random(shape.seed + 1)
    onboarding = shape.count(shape.onboarding)
    header = [
        "Submitted",
        "Account Name",
        "Contact",
        "Email",
        "Phone",
        "State",
        "Program",
        "Rep",
        "Systems/yr",
        "Notes",
        "Financier ID",
        "Status",
    ]
    rows: list[list[Any]] = [header]
    states = ("TX", "CA", "AZ", "FL", "NV", "CO", "NJ", "NY", "MA", "NC")
    for n in range(shape.sheet_rows):
        org = orgs[n % len(orgs)]
        if n < onboarding:
            status = "Approved"
        elif n < onboarding + max(1, shape.sheet_rows // 100):
            status = "Approved"  # approved, but the automation opened no ticket
        else:
            status = rng.choice(("Pending", "Pending", "In review", "Declined", "Withdrawn"))
        submitted = (now - timedelta(days=rng.randint(1, 200))).strftime("%m/%d/%Y")
        rows.append(
            [
                submitted,
                org.name,
                f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                f"office@{org.domain}",
                f"555-01{n % 100:02d}",
                rng.choice(states),
                rng.choice(("Residential", "Commercial")),
                rng.choice(("M. Patel", "J. Reyes", "P. Nair")),
                str(rng.randint(5, 400)),
                "",
                f"FIN-{100000 + n}",
                status,
            ]
        )
    return [
        {"title": "Read me", "rows": [["Financier onboarding sheet"], ["Tab 2: accounts"]]},
        {"title": "Financier onboarding", "rows": rows},
    ]


class _Generator:
    """Builds the normalized ticket dicts, flow by flow, from one seeded random source.

    Which tickets of a flow land in which state is spread evenly by a low-discrepancy sequence
    (``_spread``), so every size has the same mix; the random source picks the details.
    """

    def __init__(self, shape: DeskShape, orgs: Sequence[Organization], now: datetime) -> None:
        self.shape = shape
        self.orgs = list(orgs)
        self.now = now.astimezone(UTC)
        self.rng = random.Random(shape.seed + 2)
        self.numbers = {"SS": 0, "CS": 0}
        self.open_count = 0
        # One SLA dict for every ticket: the emulator only reads it.
        self.sla = {
            "first_response": {
                "paused": False,
                "paused_at": None,
                "goal": DEFAULT_FIRST_RESPONSE_GOAL,
            }
        }

    # -- helpers ---------------------------------------------------------------------------
    def ago(self, low: timedelta, high: timedelta) -> datetime:
        seconds = self.rng.uniform(low.total_seconds(), high.total_seconds())
        return self.now - timedelta(seconds=int(seconds))

    def day(self, offset_days: int) -> date:
        return (self.now.astimezone(DESK_TZ) + timedelta(days=offset_days)).date()

    def customer_org(self) -> Organization:
        # Priority installers are busy customers: about 1 ticket in 200 is theirs.
        if self.rng.random() < 0.005:
            return self.orgs[self.rng.randrange(len(PRIORITY_INSTALLERS))]
        return self.orgs[self.rng.randrange(len(self.orgs))]

    def contact(self, org: Organization) -> str:
        return self.rng.choice(org.contacts).account_id

    def next_key(self, project: str) -> str:
        return f"{project}-{self.numbers[project] + 1}"

    @staticmethod
    def comment(author: str | None, body: str, at: datetime, public: bool = True) -> dict:
        return {"author": author, "body": body, "created": at, "public": public}

    def ticket(
        self,
        project: str,
        *,
        summary: str,
        status: str,
        created: datetime,
        reporter: str | None,
        done: bool = False,
        customer_only: bool = False,
        comments: Sequence[dict[str, Any]] = (),
        resolved: datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A ticket dict as `emulators.fixtures` normalizes it (unknown ``fields`` refused)."""
        self.numbers[project] += 1
        assignee = fields.pop("assignee", None)
        all_comments = self.pad(list(comments), created, reporter, assignee, customer_only)
        updated = max([created, *(c["created"] for c in all_comments)])
        if done:
            resolved = resolved or updated
            updated = max(updated, resolved)
        else:
            self.open_count += 1
        ticket = {
            "key": f"{project}-{self.numbers[project]}",
            "project": project,
            "issuetype": fields.pop("issuetype", "Service Request" if project == "SS" else "Task"),
            "summary": summary,
            "description": fields.pop("description", ""),
            "status": status,
            "created": created,
            "updated": updated,
            "resolved": resolved if done else None,
            "assignee": assignee,
            "reporter": reporter,
            "priority": fields.pop("priority", None),
            "labels": list(fields.pop("labels", ())),
            "components": [],
            "organizations": list(fields.pop("organizations", ())),
            "request_type": fields.pop("request_type", None),
            "channel": list(fields.pop("channel", ())),
            "needs_configuration": fields.pop("needs_configuration", None),
            "due_date": fields.pop("due_date", None),
            "configuration_date": fields.pop("configuration_date", None),
            "qa_due_date": fields.pop("qa_due_date", None),
            "qa_assignee": fields.pop("qa_assignee", None),
            "parent": fields.pop("parent", None),
            "properties": {},
            "custom": {},
            "sla": self.sla,
            "comments": all_comments,
            "links": list(fields.pop("links", ())),
        }
        if fields:
            raise TypeError(f"unknown ticket fields: {', '.join(sorted(fields))}")
        return ticket

    def pad(
        self,
        comments: list[dict[str, Any]],
        created: datetime,
        reporter: str | None,
        assignee: str | None,
        customer_only: bool,
    ) -> list[dict[str, Any]]:
        """A fifth of the tickets get a conversation, older than their flow's own comments
        (which therefore stay the latest and decide what the jobs see)."""
        roll = self.rng.random()
        if roll < self.shape.long_thread_share:
            total = self.shape.long_thread_comments
        elif roll < self.shape.long_thread_share + self.shape.commented_share:
            total = self.shape.comments_per_ticket
        else:
            return comments
        missing = total - len(comments)
        if missing <= 0:
            return comments
        end = min([c["created"] for c in comments] + [self.now - timedelta(minutes=1)])
        step = max((end - created).total_seconds(), 60.0) / (missing + 1)
        # Unassigned tickets get only the customer's words: an agent's public reply would be
        # their first response and change what unassigned_first_response sees.
        by_customer_only = customer_only or assignee is None
        filler = []
        for n in range(missing):
            by_agent = not by_customer_only and n % 2 == 1
            filler.append(
                self.comment(
                    assignee if by_agent else reporter,
                    self.rng.choice(_FILLER_AGENT if by_agent else _FILLER_CUSTOMER),
                    created + timedelta(seconds=step * (n + 1)),
                )
            )
        return filler + comments

    # -- flows -----------------------------------------------------------------------------
    def tickets(self) -> Iterator[dict[str, Any]]:
        shape = self.shape
        yield self.ticket(
            "CS",
            issuetype="Epic",
            summary="Configuration Partner/Product Onboarding",
            status="In Progress",
            created=self.now - timedelta(days=400),
            reporter="acc-sam-whitaker",
        )
        yield from self.unassigned(shape.count(shape.unassigned))
        yield from self.onboarding(shape.count(shape.onboarding))
        yield from self.onboard_testing(shape.count(shape.onboard_testing))
        yield from self.channel_partner(shape.count(shape.channel_partner))
        yield from self.config_tasks(shape.count(shape.config_tasks))
        yield from self.queue(max(0, shape.open_tickets - self.open_count))
        yield from self.resolved(shape.count(shape.resolved_share))
        yield from self.fulfilled(shape.count(shape.fulfilled))

    def ss_fields(self, org: Organization) -> dict[str, Any]:
        installer = org.name in PRIORITY_INSTALLERS
        return {
            "organizations": [org.name],
            "priority": "High" if installer else self.rng.choice(("Medium", "Medium", "Low")),
            "request_type": self.rng.choice(REQUEST_TYPES),
            "channel": [self.rng.choice(CHANNELS)],
        }

    def unassigned(self, count: int) -> Iterator[dict[str, Any]]:
        """Quiet (under 90 min), warning, breached, escalated, and answered but unassigned."""
        for n in range(count):
            org = self.customer_org()
            place = _spread(n)
            answered = place >= 0.85
            if place < 0.40:
                created = self.ago(timedelta(minutes=5), timedelta(minutes=89))
            elif place < 0.55:
                created = self.ago(timedelta(minutes=91), timedelta(minutes=119))
            elif place < 0.75:
                created = self.ago(timedelta(minutes=121), timedelta(minutes=239))
            else:
                created = self.ago(timedelta(hours=4, minutes=1), timedelta(days=3))
            comments = []
            if answered:  # an agent replied publicly but nobody took the ticket
                comments.append(
                    self.comment(
                        self.rng.choice(SUPPORT_AGENTS),
                        "Thanks for reaching out; we are looking into it.",
                        created + timedelta(minutes=self.rng.randint(10, 100)),
                    )
                )
            fields = self.ss_fields(org)
            if n % 10 == 3:
                fields["organizations"] = []
            yield self.ticket(
                "SS",
                summary=f"Portal question from {org.name}",
                status=self.rng.choice(("Open", "Waiting for support")),
                created=created,
                reporter=self.contact(org),
                comments=comments,
                customer_only=True,
                **fields,
            )

    def onboarding(self, count: int) -> Iterator[dict[str, Any]]:
        """SOP 001: one onboarding ticket per approved installer, its CS configuration ticket,
        and for 40 % the ask to the approver: recent, overdue (> 24 h), answered on the ticket,
        or answered by email in a ticket of his own."""
        for n in range(count):
            org = self.orgs[n]
            agent = self.rng.choice(SUPPORT_AGENTS)
            created = self.ago(timedelta(days=3), timedelta(days=50))
            place = _spread(n)
            asked = place >= 0.60
            cs_key = self.next_key("CS")
            yield self.ticket(
                "CS",
                summary=f"Integrated Finance configuration: {org.name}",
                status="On Hold" if asked else self.rng.choice(("To Do", "In Progress", "QA")),
                created=created + timedelta(hours=2),
                reporter=agent,
                assignee=self.rng.choice(CONFIG_TEAM),
                qa_assignee=QA_ASSIGNEE,
                priority="High",
                organizations=[org.name],
                configuration_date=self.day(self.rng.randint(1, 20)),
                qa_due_date=self.day(self.rng.randint(2, 21)),
                due_date=self.day(self.rng.randint(3, 25)),
            )
            comments = []
            answered_by_email = None
            if asked:
                hours = self.rng.uniform(1, 23) if place < 0.75 else self.rng.uniform(25, 72)
                ask_at = self.now - timedelta(hours=hours)
                comments.append(
                    self.comment(
                        agent,
                        f"[~accountid:{APPROVER}] {org.name} is configured ({cs_key}). "
                        "Are we approved to push the products live?",
                        ask_at,
                        public=False,
                    )
                )
                if 0.88 <= place < 0.98:
                    answer = self.comment(
                        APPROVER, "Approved, go ahead.", ask_at + timedelta(minutes=50), False
                    )
                    comments.append(answer)
                elif place >= 0.98:
                    answered_by_email = ask_at + timedelta(minutes=50)
            installer = org.name in PRIORITY_INSTALLERS
            yield self.ticket(
                "SS",
                summary=("Re: " if n % 10 == 0 else "") + ONBOARDING_SUMMARY,
                description=(
                    f"Contractor Installer name: {org.name}\n"
                    f"Contractor Installer contact email: office@{org.domain}"
                ),
                status=self.rng.choice(
                    ("Waiting for support", "In Progress", "Needs Configuration")
                ),
                created=created,
                reporter=ONBOARDING_APP,
                assignee=agent,
                organizations=[org.name],
                labels=[] if n % 20 == 7 else ["EB"],
                priority="High" if installer else "Medium",
                request_type="Company-specific Data Change",
                needs_configuration="Integrated Finance",
                channel=["Email"],
                comments=comments,
                links=[{"type": "Relates", "direction": "outward", "key": cs_key}],
            )
            if answered_by_email is not None:
                yield self.ticket(
                    "SS",
                    summary=f"Re: {org.name} go-live",
                    description=f"{org.name} is approved - please push the products live.",
                    status="Waiting for support",
                    created=answered_by_email,
                    reporter=APPROVER,
                    channel=["Email"],
                )

    def onboard_testing(self, count: int) -> Iterator[dict[str, Any]]:
        """SOP 003: a CS ticket On Hold, its SS ticket waiting for the customer after the first
        email: recent, nudge due (3 days), publish due (nudged over a day ago), nudged
        recently, or answered by the customer."""
        for n in range(count):
            org = self.customer_org()
            reporter = self.contact(org)
            agent = self.rng.choice(SUPPORT_AGENTS)
            place = _spread(n)
            created = self.ago(timedelta(days=8), timedelta(days=30))
            if place < 0.45:
                first_at = self.now - timedelta(hours=self.rng.uniform(2, 70))
            elif place < 0.65:
                first_at = self.now - timedelta(hours=self.rng.uniform(73, 95))
            else:
                first_at = self.now - timedelta(hours=self.rng.uniform(100, 160))
            comments = [
                self.comment(
                    agent,
                    f"Hi, good news: the document for {org.name} is ready to test on Onboard. "
                    "Please log in to Onboard, review the document, and reply within 3 days.",
                    first_at,
                )
            ]
            if 0.65 <= place < 0.85:
                nudged = first_at + timedelta(days=3, hours=1)
                if place >= 0.80:
                    nudged = self.now - timedelta(hours=5)
                comments.append(
                    self.comment(
                        agent,
                        "Hi, just checking in: your document is still waiting for your review "
                        "on Onboard.",
                        nudged,
                    )
                )
            elif place >= 0.85:
                comments.append(
                    self.comment(
                        reporter,
                        "Thanks! Section 4 still shows last year's rate table, can you fix it?",
                        first_at + timedelta(hours=20),
                    )
                )
            ss_key = self.next_key("SS")
            yield self.ticket(
                "SS",
                summary=f"Document Survey: {org.name}",
                status="Waiting for customer",
                created=created,
                reporter=reporter,
                assignee=agent,
                labels=["EB"],
                comments=comments,
                **self.ss_fields(org),
            )
            yield self.ticket(
                "CS",
                summary=f"Docs: {org.name}",
                status="On Hold",
                created=created + timedelta(days=1),
                reporter=agent,
                assignee=self.rng.choice(CONFIG_TEAM),
                links=[{"type": "Relates", "direction": "outward", "key": ss_key}],
            )

    def fulfilled(self, count: int) -> Iterator[dict[str, Any]]:
        """SOP 003 part 1: published, Jira told the customer; silent for 5 h to 3 days."""
        for _ in range(count):
            org = self.customer_org()
            resolved = self.ago(timedelta(hours=5), timedelta(days=3))
            ss_key = self.next_key("SS")
            yield self.ticket(
                "SS",
                summary=f"Document Survey: {org.name}",
                status="Resolved",
                done=True,
                resolved=resolved,
                created=resolved - timedelta(days=6),
                reporter=self.contact(org),
                assignee=self.rng.choice(SUPPORT_AGENTS),
                comments=[
                    self.comment(
                        JIRA_AUTOMATION,
                        "Your request has been fulfilled: your document is now live on Engine.",
                        resolved,
                    )
                ],
                **self.ss_fields(org),
            )
            yield self.ticket(
                "CS",
                summary=f"Docs: {org.name}",
                status="Done",
                done=True,
                resolved=resolved - timedelta(hours=1),
                created=resolved - timedelta(days=5),
                reporter=self.rng.choice(SUPPORT_AGENTS),
                assignee=self.rng.choice(CONFIG_TEAM),
                links=[{"type": "Relates", "direction": "outward", "key": ss_key}],
            )

    def channel_partner(self, count: int) -> Iterator[dict[str, Any]]:
        """SOP 002: requests just in (grace), without a CS task past the grace (to create),
        with a finished task (the customer reply is due), or with their task under way."""
        first_org = self.shape.count(self.shape.onboarding)
        for n in range(count):
            org = self.orgs[(first_org + n) % len(self.orgs)]
            manager = self.customer_org()
            place = _spread(n)
            summary = CHANNEL_PARTNER_SUMMARY.format(org=org.name)
            task: str | None
            if place < 0.10:
                created, task = self.ago(timedelta(minutes=5), timedelta(minutes=55)), None
            elif place < 0.25:
                created, task = self.ago(timedelta(hours=2), timedelta(days=2)), None
            elif place < 0.35:
                created, task = self.ago(timedelta(days=5), timedelta(days=12)), "Done"
            else:
                created = self.ago(timedelta(days=1), timedelta(days=10))
                task = self.rng.choice(("To Do", "In Progress", "QA"))
            agent = self.rng.choice(SUPPORT_AGENTS) if task else None
            links = []
            if task is not None:
                cs_key = self.next_key("CS")
                # The CS task "relates to" its request, as the SOP's hand-made link reads.
                links = [{"type": "Relates", "direction": "inward", "key": cs_key}]
                yield self.ticket(
                    "CS",
                    summary=summary,
                    description=f"| Company Name | {org.name} | Channel Manager | {manager.name} |",
                    status=task,
                    done=task == "Done",
                    resolved=self.now - timedelta(hours=2) if task == "Done" else None,
                    created=created + timedelta(hours=1),
                    reporter=agent,
                    assignee=self.rng.choice(CONFIG_TEAM),
                    priority="Medium" if n % 20 == 3 else "High",
                    parent=EPIC_KEY,
                    qa_assignee=QA_ASSIGNEE,
                    configuration_date=self.day(self.rng.randint(1, 15)),
                    qa_due_date=self.day(self.rng.randint(2, 16)),
                    due_date=self.day(self.rng.randint(2, 16)),
                )
            yield self.ticket(
                "SS",
                summary=summary,
                description=(
                    f"| Contact | office@{org.domain} |\n| Company Name | {org.name} |\n"
                    f"| Channel Manager | {manager.name} |\n| Effective | Immediately |"
                ),
                status="In Progress" if task else "Open",
                created=created,
                reporter=self.contact(org),
                assignee=agent,
                request_type="Get help",
                channel=["Email"],
                organizations=[manager.name],
                links=links,
            )

    def config_tasks(self, count: int) -> Iterator[dict[str, Any]]:
        """CS configuration tasks: dates mostly ahead, 7 % today, 5 % past."""
        for n in range(count):
            org = self.customer_org()
            place = _spread(n)
            if place < 0.07:
                offsets = (0, self.rng.randint(0, 2), self.rng.randint(1, 3))
            elif place < 0.12:
                offsets = (
                    -self.rng.randint(1, 10),
                    -self.rng.randint(0, 8),
                    self.rng.randint(-5, 3),
                )
            else:
                offsets = (
                    self.rng.randint(1, 25),
                    self.rng.randint(2, 26),
                    self.rng.randint(3, 27),
                )
            yield self.ticket(
                "CS",
                summary=f"Integrated Finance configuration: {org.name}",
                status=self.rng.choice(("To Do", "In Progress", "QA")),
                created=self.ago(timedelta(days=1), timedelta(days=40)),
                reporter=self.rng.choice(SUPPORT_AGENTS),
                assignee=self.rng.choice(CONFIG_TEAM),
                qa_assignee=QA_ASSIGNEE,
                priority=self.rng.choice(("High", "High", "Medium")),
                organizations=[org.name],
                configuration_date=self.day(offsets[0]),
                qa_due_date=self.day(offsets[1]),
                due_date=self.day(offsets[2]),
            )

    def queue(self, count: int) -> Iterator[dict[str, Any]]:
        """The ordinary assigned queue, answered; 2 % lack an Organization, and 1 in 10
        priority installer tickets was left at Medium."""
        for n in range(count):
            org = self.customer_org()
            agent = self.rng.choice(SUPPORT_AGENTS)
            created = self.ago(timedelta(hours=3), timedelta(days=60))
            fields = self.ss_fields(org)
            if n % 50 == 11:
                fields["organizations"] = []
            if fields["priority"] == "High" and n % 10 == 4:
                fields["priority"] = "Medium"
            answer = created + timedelta(minutes=self.rng.randint(10, 150))
            yield self.ticket(
                "SS",
                summary=f"{self.rng.choice(REQUEST_TYPES)} request from {org.name}",
                status=self.rng.choice(OPEN_SS_STATUSES),
                created=created,
                reporter=self.contact(org),
                assignee=agent,
                comments=[self.comment(agent, "Thanks, we are on it.", answer)],
                **fields,
            )

    def resolved(self, count: int) -> Iterator[dict[str, Any]]:
        """Resolved in the last 30 days; 2 % with the Channel field left empty."""
        for n in range(count):
            org = self.customer_org()
            agent = self.rng.choice(SUPPORT_AGENTS)
            resolved = self.ago(timedelta(hours=1), timedelta(days=30))
            created = resolved - timedelta(hours=self.rng.uniform(1, 240))
            fields = self.ss_fields(org)
            if n % 50 == 17:
                fields["channel"] = []
            yield self.ticket(
                "SS",
                summary=f"{self.rng.choice(REQUEST_TYPES)} request from {org.name}",
                status=self.rng.choice(("Resolved", "Closed")),
                done=True,
                resolved=resolved,
                created=created,
                reporter=self.contact(org),
                assignee=agent,
                comments=[
                    self.comment(agent, "Done; closing this.", created + timedelta(minutes=45))
                ],
                **fields,
            )


def _spread(n: int) -> float:
    """The n-th point of the golden-ratio sequence: evenly spread over [0, 1) at any count."""
    return (n * 0.6180339887498949) % 1.0


def desk_stats(tickets: Sequence[dict[str, Any]] | Iterator[dict[str, Any]]) -> dict[str, int]:
    """Counts a reader of the benchmark wants: open/resolved tickets, comments, long threads."""
    stats = {"tickets": 0, "open": 0, "comments": 0, "long_threads": 0, "links": 0}
    for t in tickets:
        stats["tickets"] += 1
        stats["open"] += t["resolved"] is None
        stats["comments"] += len(t["comments"])
        stats["long_threads"] += len(t["comments"]) > 20
        stats["links"] += len(t["links"])
    return stats
