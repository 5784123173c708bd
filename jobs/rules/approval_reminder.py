"""SOP 001 step 5: approval to push products live, and the reminder when it does not come.

    Support will send an internal comment to David Ellis asking if approved to push live.
    Support will slack David for an update within 24 hours if we don't hear back from him.
    If a separate "approval" ticket comes in ... link the approval ticket to the onboarding
    ticket and close the approval ticket as a duplicate.
    Once approval is received ... change the CS ticket status back to "to do".

Decisions, all from ticket data and an injected ``now``:

- *onboarding tickets* are the searched tickets, less those the approver reported that carry
  no ask: his email reply threaded on the onboarding subject ("Re: EverBright Partner
  Onboarding ...") opens a ticket with that subject, and it is one of his tickets (perhaps
  the approval), not a ticket waiting for him.
- *the ask* is the latest internal comment, by anyone but the approver, that mentions the
  approver (a Jira Cloud mention of his account, his name, his first name alone, his email,
  or a configured alias) AND contains one of the ``ask_phrases`` (any case; "approv" also
  reads "approved", "approval") in a clause that does not negate it ("no need to approve",
  "approval not needed", "without approval" are not asks). Text is read as a person reads
  it: NFKC-normalized, zero-width characters and soft hyphens removed ("Da\u200bvid" is
  David). SOP 001 tags him in other notes too: step 6 "it's complete and products are
  live", and "tag their account manager and David Ellis" when customer communication is
  needed. Those are not questions; taken for the newest ask they would replace an answered
  one and remind him again.
  An ask counts from its ``created`` time even if it was edited later: editing the wording
  of a question does not restart the wait (and an old comment edited to add a mention is
  treated as asked when it was written; the reminder then comes early, never late).
- *approval tickets* are tickets he reported, created after an ask, whose summary or
  description names the onboarding ticket's key or its CS ticket's key (*by key*), or else
  only its organization (*by organization*). A name is weak evidence ("Acme Solar wants a
  new billing contact" names Acme Solar too), so only a match by key is linked and closed
  by the job (``actions.link_approval_tickets``); a match by organization is only reported
  to support, with both keys, for a person to link.
- *answered* when, after the ask (``created``, so an edit of an old comment is no answer):
  the approver commented on the ticket; or a ticket reported by the approver and linked to
  it was created, or commented on by him; or an approval ticket by key arrived; or an
  approval ticket by organization arrived that also contains one of the ``ask_phrases``
  (a *possible* answer: the reminders stop, and support is told to check it and link it).
- *overdue* when unanswered for ``remind_after``: wall-clock hours as the SOP says
  ("within 24 hours"), or working time on the desk calendar when the desk opts in.

- *linking* an approval ticket matched by key is one finding; the job makes it a chain
  (link, explanatory comment, close, notice) that the pipeline finishes across runs. A ticket
  that carries the job's explanatory comment but is not closed (the chain gave up on the
  transition) is closed on a later run (`_close_findings`).

Comments written by this job carry a ``Ref: ... · approval-reminder · ...`` marker and are
never taken for an ask, although they name the approver.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from jobs.calendar import BusinessCalendar
from jobs.config import ActionsConfig, JobConfig
from jobs.durations import Duration, DurationField, parse_duration
from jobs.model import (
    Comment,
    DataProblem,
    Evaluation,
    Finding,
    Person,
    Severity,
    StatusCategory,
    Ticket,
)
from jobs.render.words import human_duration
from jobs.rules.desk import REFERENCE_SEPARATOR, Desk, reference
from jobs.sections import Field, field_validator

JOB_NAME = "approval_reminder"

RULE_OVERDUE = "approval_overdue"
"""No answer ``remind_after`` after the ask: DM the approver (re-sent every ``realert``)."""
RULE_RECEIVED = "approval_received"
"""The approver answered: support may move the CS ticket back to To Do (once per ticket)."""
RULE_UNLINKED = "approval_ticket_unlinked"
"""An approval ticket came in by email and is not linked to its onboarding ticket (once)."""
RULE_LINK = "link_approval_ticket"
"""Link the approval ticket to its onboarding ticket as a duplicate (opt-in switch)."""
RULE_CLOSE = "close_approval_ticket"
"""Close an approval ticket that carries the job's comment but is still open."""
REMINDER_TAG = "approval-reminder"
APPROVAL_TICKET_TAG = "approval-ticket"
_SEPARATOR = re.escape(REFERENCE_SEPARATOR)
_OWN_MARKER = re.compile(
    rf"Ref: \S+{_SEPARATOR}(?:{REMINDER_TAG}|{APPROVAL_TICKET_TAG}){_SEPARATOR}"
)
"""The reference line of a comment this job wrote (`reminder_marker`, `approval_ticket_marker`)."""
_KEY_CHARS = r"A-Za-z0-9_"
_EXCERPT_CHARS = 200

ANSWER_COMMENT = "comment"
ANSWER_LINKED_TICKET = "linked_ticket"
ANSWER_COMMENT_ON_LINKED = "comment_on_linked_ticket"
ANSWER_APPROVAL_TICKET = "approval_ticket"
ANSWER_POSSIBLE_APPROVAL_TICKET = "possible_approval_ticket"

MATCHED_BY_KEY = "key"
MATCHED_BY_ORGANIZATION = "organization"

DEFAULT_ASK_PHRASES = (
    "approv",
    "push live",
    "go live",
    "go-live",
    "push the products live",
)
"""SOP 001 step 5: support asks "if approved to push live"; matched case-insensitively."""


def reminder_marker(key: str, day: date) -> str:
    """The last line of the optional internal comment recording that a reminder was sent:
    ``Ref: SS-301 · approval-reminder · 2026-11-30``."""
    return reference(key, REMINDER_TAG, day.isoformat())


def approval_ticket_marker(approval_key: str, onboarding_key: str) -> str:
    """The last line of the internal comment on an approval ticket the job links and closes:
    ``Ref: SS-340 · approval-ticket · SS-301``."""
    return reference(approval_key, APPROVAL_TICKET_TAG, onboarding_key)


def is_own_comment(comment: Comment) -> bool:
    return bool(_OWN_MARKER.search(comment.body))


def has_approval_ticket_comment(ticket: Ticket) -> bool:
    """Whether the job's explanatory comment (its marker) is on the approval ticket already."""
    prefix = reference(ticket.key, APPROVAL_TICKET_TAG) + REFERENCE_SEPARATOR
    return any(prefix in c.body for c in ticket.comments)


# -- inputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Approver:
    """``people.approver`` from settings, plus the extra names that count as mentioning him."""

    name: str
    email: str | None = None
    account_id: str | None = None
    mention_names: tuple[str, ...] = ()

    @property
    def person(self) -> Person:
        return Person(account_id=self.account_id, display_name=self.name, email=self.email)

    def is_author(self, person: Person | None) -> bool:
        """Same person by account id, else by email; by display name only when Jira gave no id."""
        if person is None:
            return False
        if self.account_id and person.account_id:
            return self.account_id == person.account_id
        if self.email and person.email:
            return self.email.casefold() == person.email.casefold()
        if not person.account_id and not person.email and person.display_name:
            return _same_words(person.display_name, self.name)
        return False

    @property
    def first_name(self) -> str:
        """ "David" of "David Ellis": support writes "@David, approved to push live?"."""
        words = normalize_text(self.name).split()
        return words[0] if len(words) > 1 else ""

    def is_mentioned_in(self, text: str) -> bool:
        if self.account_id and f"[~accountid:{self.account_id}]" in text:
            return True
        text = normalize_text(text)
        if self.email and _contains_words(text, self.email):
            return True
        names = (self.name, *self.mention_names)
        if any(_contains_words(text, normalize_text(n)) for n in names if n):
            return True
        return bool(self.first_name) and _first_name_pattern(self.name).search(text) is not None


class ApprovalReminderConfig(JobConfig):
    """``jobs.approval_reminder`` in the settings."""

    schedule: str = "0 * * * *"
    """Hourly: a reminder goes out within the hour after the 24 hours are up."""
    remind_after: DurationField = parse_duration("24h")
    """SOP 001 step 5: 'slack David for an update within 24 hours if we don't hear back'."""
    realert: DurationField = parse_duration("24h")
    """At most one reminder per ticket per this long while he has not answered."""
    use_business_calendar: bool = False
    """False: wall-clock hours, as the SOP says. True: count working time on the desk calendar."""
    jql: str | None = None
    """Onboarding tickets to watch; null = SS tickets titled 'EverBright Partner Onboarding'
    that are not done."""
    approver_lookback: DurationField = parse_duration("14d")
    """How far back to look for tickets the approver opened by email (approval tickets)."""
    mention_names: list[str] = Field(default_factory=list)
    """Extra names that count as mentioning the approver in an ask (his people.approver name,
    email and Jira account mention always do), e.g. ["Dave Ellis"]."""
    approval_ticket_done_status: str = "Closed"
    """Status an approval ticket is moved to once linked as a duplicate."""
    ask_phrases: list[str] = Field(default_factory=lambda: list(DEFAULT_ASK_PHRASES))
    """Words of the approval question, any case. An internal note tagging the approver is an
    ask only if it contains one (SOP 001 also tags him in "complete and live" and customer
    communication notes); an email ticket from him naming only the organization counts as
    a possible answer only if it contains one."""

    @field_validator("approver_lookback")
    @classmethod
    def _wall_lookback(cls, value: Duration) -> Duration:
        if value.is_business or value.wall <= timedelta(0):
            raise ValueError(f"{value} is not a look-back window; use days, e.g. 14d")
        return value

    @field_validator("mention_names")
    @classmethod
    def _no_blank_names(cls, value: list[str]) -> list[str]:
        if any(not name.strip() for name in value):
            raise ValueError("names must not be blank (a blank name would match every comment)")
        return value

    @field_validator("ask_phrases")
    @classmethod
    def _usable_phrases(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one phrase, e.g. approv: with none, nothing is an ask")
        if any(not phrase.strip() for phrase in value):
            raise ValueError("phrases must not be blank (a blank phrase would match every note)")
        return value


def realert_of(config: ApprovalReminderConfig) -> timedelta:
    """How often a reminder may be sent again: ``realert``, a business-day value read as that
    many days."""
    realert = config.realert
    return realert.wall if not realert.is_business else timedelta(days=realert.business_days)


@dataclass(frozen=True)
class ApprovalData:
    """What ``fetch`` read: open onboarding tickets (all comments) and the approver's tickets."""

    onboarding: Sequence[Ticket]
    approver_tickets: Sequence[Ticket] = ()


# -- intermediate facts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    kind: str
    at: datetime
    ticket_key: str
    """Where the answer is: the onboarding ticket for a comment, else the approver's ticket."""
    excerpt: str = ""


@dataclass(frozen=True)
class ApprovalMatch:
    """An approver's ticket that names an onboarding ticket he was asked about."""

    approval: Ticket
    onboarding: Ticket
    matched_by: str
    """'key' (names the SS or CS key) or 'organization'."""
    linked: bool
    possible_answer: bool = True
    """A match by key always answers; by organization only with an approval phrase."""

    @property
    def by_key(self) -> bool:
        return self.matched_by == MATCHED_BY_KEY


@dataclass(frozen=True)
class Timeline:
    """The approval state of one onboarding ticket, as the rule saw it."""

    ticket: Ticket
    asks: tuple[Comment, ...]
    answer: Answer | None
    cs_links: tuple[tuple[str, str | None, StatusCategory | None], ...] = field(default=())

    @property
    def ask(self) -> Comment | None:
        return self.asks[-1] if self.asks else None


# -- what the findings carry ------------------------------------------------------------------


@dataclass(frozen=True)
class OnboardingDetail:
    """What every finding of the job carries about its onboarding ticket."""

    summary: str
    status: str
    organization: str | None
    labels: tuple[str, ...]
    """The snooze label on the ticket (for an approval ticket: on either ticket) keeps the
    job's hands off it."""
    cs_tickets: tuple[str, ...]
    """The config project's tickets linked to it, by key."""


@dataclass(frozen=True)
class OverdueDetail(OnboardingDetail):
    """``approval_overdue``: the ask nobody answered, and how long it has waited."""

    ask_comment_id: str
    asked_at: datetime
    asked_by: str
    ask_edited: bool
    asks: int
    """How many asks the ticket holds; the wait counts from the latest."""
    approver: str
    remind_after: str
    """As the settings write it (``24h``, ``1bd``)."""
    business_calendar: bool
    due_at: datetime
    waiting: timedelta


@dataclass(frozen=True)
class ReceivedDetail(OnboardingDetail):
    """``approval_received``: his answer, and the CS tickets support may move to To Do."""

    ask_comment_id: str
    asked_at: datetime
    approver: str
    answer_kind: str
    """One of the ``ANSWER_*`` kinds."""
    answered_at: datetime
    answer_ticket: str
    """Where the answer is: the onboarding ticket for a comment, else the approver's ticket."""
    answer_excerpt: str
    answered_after: timedelta
    cs_to_move: tuple[str, ...]
    cs_statuses: Mapping[str, str | None]


@dataclass(frozen=True)
class ApprovalTicketDetail(OnboardingDetail):
    """``approval_ticket_unlinked`` and ``link_approval_ticket``: the approver's ticket that
    names an onboarding ticket (the base fields are the onboarding ticket's)."""

    onboarding_ticket: str
    approval_ticket: str
    approval_summary: str
    approval_created: datetime
    approval_status: str
    approval_done: bool
    matched_by: str
    """``key`` or ``organization``."""
    possible_answer: bool
    linked: bool


@dataclass(frozen=True)
class CloseDetail(ApprovalTicketDetail):
    """``close_approval_ticket``: an approval ticket that carries the job's comment, still open."""

    onboarding_tickets: tuple[str, ...]


# -- text matching ---------------------------------------------------------------------------


@lru_cache(maxsize=4096)  # one pattern per organization name, not per (ticket, name) pair
def _words_pattern(phrase: str) -> re.Pattern[str] | None:
    words = phrase.split()
    if not words:
        return None
    body = r"\s+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=64)
def _first_name_pattern(full_name: str) -> re.Pattern[str]:
    """The first name as a word, unless another name follows it: "@David," and "David, are"
    name David Ellis; "David Ellison" and "David Park" are somebody else."""
    first, *rest = normalize_text(full_name).split()
    own = re.escape(rest[0]) if rest else "(?!)"
    # The name in any case; the next word's capital letter is what says "another name".
    return re.compile(rf"(?<!\w)(?i:{re.escape(first)})(?!\w)(?!\s+(?!{own}(?!\w))[A-Z])")


def _contains_words(text: str, phrase: str) -> bool:
    if phrase.isascii() and text.isascii():
        # Between ASCII texts, ignoring case is comparing lower case: a phrase whose words
        # are not all in the text cannot match, and its pattern need not be built (an
        # approval's text is read against every asked organization's name).
        lowered = _lowered(text)
        if any(word.lower() not in lowered for word in phrase.split()):
            return False
    pattern = _words_pattern(phrase)
    return bool(pattern and pattern.search(text))


@lru_cache(maxsize=64)
def _lowered(text: str) -> str:
    return text.lower()


def _same_words(a: str, b: str) -> bool:
    words = [w.casefold() for w in a.split()]
    return bool(words) and words == [w.casefold() for w in b.split()]


# A whole ticket key: "SS-301" is not named by "SS-3010" or "XSS-301".
_KEY_IN_TEXT = re.compile(
    rf"(?<![{_KEY_CHARS}-])([A-Za-z][{_KEY_CHARS}]*-[0-9]+)(?![{_KEY_CHARS}])"
)


def _keys_named(text: str) -> set[str]:
    """Every ticket key the text names, upper-cased: read once per approval ticket, so
    matching is linear in tickets rather than one regex per (approval, onboarding) pair."""
    return {key.upper() for key in _KEY_IN_TEXT.findall(text)}


# Characters that change nothing a person sees but break a match: zero-width spaces and joiners,
# the word joiner, a byte-order mark, a soft hyphen ("Da\u200bvid", "ap\u00adprove").
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def normalize_text(text: str) -> str:
    """What a person reads: NFKC (full-width letters, ligatures), invisible characters gone,
    any run of whitespace one space."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_INVISIBLE).split())


def contains_phrase(text: str, phrases: Iterable[str]) -> bool:
    """Any phrase, case-insensitively, with any run of whitespace for a space ("push\nlive")."""
    flat = normalize_text(text).casefold()
    return any(normalize_text(p).casefold() in flat for p in phrases if p.strip())


# A clause that says approval is *not* wanted: "no need to approve", "approval not needed",
# "doesn't need David's approval", "without approval". Checked per clause, so "No rush. Are
# these approved to push live?" is still an ask.
_NEGATION = re.compile(
    r"\b(?:no\s+need|not\s+(?:needed|required|necessary)|no\s+longer|needn'?t|need\s+not|"
    r"(?:do|does|did)(?:n'?t|\s+not)\s+(?:need|require)|without|no\s+approvals?\b|"
    r"unnecessary|already\s+approved)",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"[.!?;\n]+")


def asks_about_approval(text: str, phrases: Iterable[str]) -> bool:
    """An ask: some clause holds an ask phrase and no negation of it."""
    wanted = [normalize_text(p).casefold() for p in phrases if p.strip()]
    for clause in _CLAUSE.split(unicodedata.normalize("NFKC", text).translate(_INVISIBLE)):
        flat = " ".join(clause.split()).casefold()
        if any(p in flat for p in wanted) and not _NEGATION.search(flat):
            return True
    return False


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT_CHARS else flat[: _EXCERPT_CHARS - 1].rstrip() + "…"


# -- the decisions ---------------------------------------------------------------------------


def find_asks(
    ticket: Ticket, approver: Approver, ask_phrases: Sequence[str] = DEFAULT_ASK_PHRASES
) -> tuple[Comment, ...]:
    """Internal comments by someone else that mention the approver and ask about approval
    (one of ``ask_phrases``), oldest first."""
    asks = [
        c
        for c in ticket.comments
        if not c.public
        and not approver.is_author(c.author)
        and not is_own_comment(c)
        and approver.is_mentioned_in(c.body)
        and asks_about_approval(c.body, ask_phrases)
    ]
    return tuple(sorted(asks, key=lambda c: (c.created, c.id)))


def split_onboarding(
    tickets: Iterable[Ticket],
    approver: Approver,
    ask_phrases: Sequence[str] = DEFAULT_ASK_PHRASES,
) -> tuple[list[Ticket], list[Ticket]]:
    """(onboarding tickets, the approver's own tickets among them).

    His email reply to the onboarding thread opens a ticket titled "Re: EverBright Partner
    Onboarding ...", which the onboarding search returns too. Reported by him and carrying
    no ask, it is his ticket (perhaps the approval), never one waiting for his approval.
    """
    onboarding: list[Ticket] = []
    his: list[Ticket] = []
    for ticket in tickets:
        if approver.is_author(ticket.reporter) and not find_asks(ticket, approver, ask_phrases):
            his.append(ticket)
        else:
            onboarding.append(ticket)
    return onboarding, his


def _linked_keys(a: Ticket, b: Ticket) -> bool:
    return any(link.other_key == b.key for link in a.links) or any(
        link.other_key == a.key for link in b.links
    )


def match_approval_tickets(
    onboarding: Sequence[Ticket],
    approver_tickets: Sequence[Ticket],
    approver: Approver,
    asks: Mapping[str, tuple[Comment, ...]],
    config_project: str,
    ask_phrases: Sequence[str] = DEFAULT_ASK_PHRASES,
) -> tuple[list[ApprovalMatch], list[DataProblem]]:
    """Which approver tickets are approvals for which onboarding tickets.

    Only tickets created after an onboarding ticket's first ask are candidates for it. A
    ticket naming a key belongs to that ticket (several keys: to each). Without a key, the
    organization decides, unless two asked onboarding tickets share it: then nobody can tell
    which one he approved, and a person must link it (reported as a data problem). A match
    by organization is a possible answer only if the ticket uses an approval phrase.
    """
    matches: list[ApprovalMatch] = []
    problems: list[DataProblem] = []
    onboarding_keys = {t.key for t in onboarding}
    asked = [t for t in onboarding if asks.get(t.key)]

    for approval in sorted(approver_tickets, key=lambda t: t.key):
        if approval.key in onboarding_keys or not approver.is_author(approval.reporter):
            continue
        text = f"{approval.summary}\n{approval.description}"
        named = _keys_named(text)
        eligible = [t for t in asked if approval.created > asks[t.key][0].created]
        by_key = [
            t
            for t in eligible
            if t.key.upper() in named
            or any(k.upper() in named for k in _cs_keys(t, config_project))
        ]
        if by_key:
            chosen = [(t, MATCHED_BY_KEY) for t in by_key]
        else:
            chosen = []
            for ticket in eligible:
                org = ticket.organization
                if not org or not _contains_words(text, org):
                    continue
                sharing = sorted(
                    t.key for t in eligible if (t.organization or "").casefold() == org.casefold()
                )
                if len(sharing) > 1:
                    problems.append(
                        DataProblem(
                            where=approval.key,
                            message=(
                                f"names organization {org!r}, which open onboarding tickets "
                                f"{', '.join(sharing)} share; link it to the right one by hand"
                            ),
                        )
                    )
                    chosen = []
                    break
                chosen.append((ticket, MATCHED_BY_ORGANIZATION))
        phrased = contains_phrase(text, ask_phrases)
        matches.extend(
            ApprovalMatch(
                approval,
                ticket,
                how,
                _linked_keys(approval, ticket),
                possible_answer=how == MATCHED_BY_KEY or phrased,
            )
            for ticket, how in chosen
        )
    return matches, problems


def _cs_keys(ticket: Ticket, config_project: str) -> list[str]:
    prefix = f"{config_project}-"
    return sorted({link.other_key for link in ticket.links if link.other_key.startswith(prefix)})


def _cs_links(
    ticket: Ticket, config_project: str
) -> tuple[tuple[str, str | None, StatusCategory | None], ...]:
    prefix = f"{config_project}-"
    seen: dict[str, tuple[str, str | None, StatusCategory | None]] = {}
    for link in ticket.links:
        if link.other_key.startswith(prefix):
            seen.setdefault(
                link.other_key, (link.other_key, link.other_status, link.other_status_category)
            )
    return tuple(seen[k] for k in sorted(seen))


def find_answer(
    ticket: Ticket,
    ask: Comment,
    approver: Approver,
    approver_tickets: Mapping[str, Ticket],
    approval_matches: Iterable[ApprovalMatch],
) -> Answer | None:
    """The earliest answer after ``ask``, by its ``created`` time; None if he has not answered."""
    after = ask.created
    answers: list[Answer] = [
        Answer(ANSWER_COMMENT, c.created, ticket.key, _excerpt(c.body))
        for c in ticket.comments
        if c.created > after and approver.is_author(c.author)
    ]
    linked = {link.other_key for link in ticket.links} | {
        key
        for key, other in approver_tickets.items()
        if any(link.other_key == ticket.key for link in other.links)
    }
    for key in sorted(linked):
        other = approver_tickets.get(key)
        if other is None or key == ticket.key or not approver.is_author(other.reporter):
            continue
        if other.created > after:
            answers.append(
                Answer(
                    ANSWER_LINKED_TICKET,
                    other.created,
                    key,
                    _excerpt(other.description or other.summary),
                )
            )
        answers.extend(
            Answer(ANSWER_COMMENT_ON_LINKED, c.created, key, _excerpt(c.body))
            for c in other.comments
            if c.created > after and approver.is_author(c.author)
        )
    answers.extend(
        Answer(
            ANSWER_APPROVAL_TICKET if m.by_key else ANSWER_POSSIBLE_APPROVAL_TICKET,
            m.approval.created,
            m.approval.key,
            _excerpt(m.approval.description or m.approval.summary),
        )
        for m in approval_matches
        if m.onboarding.key == ticket.key
        and m.approval.created > after
        and m.possible_answer
        # Linked by a person: the linked-ticket answer above already speaks for it.
        and (m.by_key or not m.linked)
    )
    return min(answers, key=lambda a: (a.at, a.kind, a.ticket_key), default=None)


def due_at(asked: datetime, config: ApprovalReminderConfig, calendar: BusinessCalendar) -> datetime:
    """When an unanswered ask becomes overdue.

    The SOP's "within 24 hours" is wall-clock time: 24 real hours, so 23 or 25 hours of
    local clock time across a DST change. ``use_business_calendar`` counts working time on
    the desk calendar instead; a business-day ``remind_after`` (``1bd``) always does.
    """
    if config.use_business_calendar or config.remind_after.is_business:
        return calendar.add(asked, config.remind_after)
    return _utc(asked) + config.remind_after.wall


def waiting_time(
    asked: datetime, now: datetime, config: ApprovalReminderConfig, calendar: BusinessCalendar
) -> timedelta:
    if config.use_business_calendar:
        return calendar.elapsed(asked, now)
    return _utc(now) - _utc(asked)


def _utc(at: datetime) -> datetime:
    # Two datetimes sharing a ZoneInfo subtract and compare by wall clock, ignoring DST;
    # in UTC every difference is real elapsed time.
    return at.astimezone(UTC)


def evaluate(
    data: ApprovalData,
    approver: Approver,
    now: datetime,
    config: ApprovalReminderConfig,
    desk: Desk,
    calendar: BusinessCalendar,
    *,
    actions: ActionsConfig,
) -> Evaluation:
    """``actions.link_approval_tickets`` decides whether an approval ticket named by key is
    linked and closed by the job or reported to support."""
    problems: list[DataProblem] = []
    phrases = tuple(config.ask_phrases)
    onboarding, his = split_onboarding(data.onboarding, approver, phrases)
    asks = {t.key: find_asks(t, approver, phrases) for t in onboarding}
    # The approver search reads the description too: its copy wins over the onboarding one.
    approver_tickets = {t.key: t for t in his} | {
        t.key: t for t in data.approver_tickets if t.key not in asks
    }
    for ticket in onboarding:
        if not ticket.comments_complete:
            problems.append(
                DataProblem(
                    where=ticket.key,
                    message=(
                        f"read {len(ticket.comments)} of {ticket.comments_total} comments; "
                        "decided on those"
                    ),
                )
            )
    matches, match_problems = match_approval_tickets(
        onboarding,
        list(approver_tickets.values()),
        approver,
        asks,
        desk.config_project,
        phrases,
    )
    problems.extend(match_problems)

    findings: list[Finding] = []
    for ticket in sorted(onboarding, key=lambda t: t.key):
        ticket_asks = asks[ticket.key]
        if not ticket_asks:
            continue
        ask = ticket_asks[-1]
        answer = find_answer(ticket, ask, approver, approver_tickets, matches)
        timeline = Timeline(ticket, ticket_asks, answer, _cs_links(ticket, desk.config_project))
        if answer is None:
            finding = _overdue(timeline, approver, now, config, desk, calendar)
        else:
            finding = _received(timeline, approver, desk)
        if finding is not None:
            findings.append(finding)

    linking = actions.link_approval_tickets
    for match in matches:
        findings.extend(_approval_ticket_findings(match, approver, desk, linking=linking))
    if linking:
        findings.extend(_close_findings(matches, desk))
    return Evaluation(findings=findings, problems=problems, examined=len(onboarding))


# -- findings --------------------------------------------------------------------------------


def _about(ticket: Ticket, desk: Desk) -> dict[str, Any]:
    """The `OnboardingDetail` fields of ``ticket``."""
    return {
        "summary": ticket.summary,
        "status": ticket.status,
        "organization": ticket.organization,
        "labels": ticket.labels,
        "cs_tickets": tuple(_cs_keys(ticket, desk.config_project)),
    }


def _is_priority(ticket: Ticket, desk: Desk) -> bool:
    return bool(desk.priority_installers.ticket(ticket))


def _author_name(person: Person | None) -> str:
    if person is None:
        return "unknown"
    return person.display_name or person.email or person.account_id or "unknown"


def _overdue(
    timeline: Timeline,
    approver: Approver,
    now: datetime,
    config: ApprovalReminderConfig,
    desk: Desk,
    calendar: BusinessCalendar,
) -> Finding | None:
    ticket, ask = timeline.ticket, timeline.ask
    assert ask is not None
    due = due_at(ask.created, config, calendar)
    if _utc(now) < _utc(due):
        return None
    waiting = waiting_time(ask.created, now, config, calendar)
    org = ticket.organization or "(no organization)"
    return Finding(
        job=JOB_NAME,
        rule=RULE_OVERDUE,
        item=ticket.key,
        severity=Severity.WARNING,
        summary=f"{org}: waiting {human_duration(waiting)} for {approver.name}'s approval",
        detail=OverdueDetail(
            **_about(ticket, desk),
            ask_comment_id=ask.id,
            asked_at=ask.created,
            asked_by=_author_name(ask.author),
            ask_edited=bool(ask.updated and ask.updated > ask.created),
            asks=len(timeline.asks),
            approver=approver.name,
            remind_after=str(config.remind_after),
            business_calendar=config.use_business_calendar,
            due_at=due,
            waiting=waiting,
        ),
        # A new ask is a new question: its reminder does not wait for the old one's window.
        episode=f"ask-{ask.id}",
        url=ticket.url or desk.link(ticket.key),
        priority=_is_priority(ticket, desk),
        realert=realert_of(config),
    )


def _received(timeline: Timeline, approver: Approver, desk: Desk) -> Finding | None:
    ticket, ask, answer = timeline.ticket, timeline.ask, timeline.answer
    assert ask is not None and answer is not None
    waiting_cs = [
        (key, status)
        for key, status, category in timeline.cs_links
        # Already in To Do (or finished): nothing for support to move.
        if category not in (StatusCategory.NEW, StatusCategory.DONE)
    ]
    if timeline.cs_links and not waiting_cs:
        return None
    cs_keys = [key for key, _ in waiting_cs]
    cs_text = ", ".join(cs_keys) if cs_keys else "the CS ticket (none linked)"
    org = ticket.organization or "(no organization)"
    return Finding(
        job=JOB_NAME,
        rule=RULE_RECEIVED,
        item=ticket.key,
        severity=Severity.INFO,
        summary=(
            f"{org}: {approver.name} answered ({answer.kind.replace('_', ' ')}); "
            f"if approved, {cs_text} can go back to To Do"
        ),
        detail=ReceivedDetail(
            **_about(ticket, desk),
            ask_comment_id=ask.id,
            asked_at=ask.created,
            approver=approver.name,
            answer_kind=answer.kind,
            answered_at=answer.at,
            answer_ticket=answer.ticket_key,
            answer_excerpt=answer.excerpt,
            answered_after=answer.at - ask.created,
            cs_to_move=tuple(cs_keys),
            cs_statuses=dict(waiting_cs),
        ),
        url=ticket.url or desk.link(ticket.key),
        priority=_is_priority(ticket, desk),
        realert=None,
    )


def _match_detail(match: ApprovalMatch, desk: Desk) -> dict[str, Any]:
    """The `ApprovalTicketDetail` fields of ``match``."""
    approval, onboarding = match.approval, match.onboarding
    return _about(onboarding, desk) | {
        "onboarding_ticket": onboarding.key,
        "approval_ticket": approval.key,
        "approval_summary": approval.summary,
        "approval_created": approval.created,
        "approval_status": approval.status,
        "approval_done": approval.is_done,
        "matched_by": match.matched_by,
        "possible_answer": match.possible_answer,
        "linked": match.linked,
        # The snooze label on either ticket keeps the job's hands off both.
        "labels": tuple(sorted(set(onboarding.labels) | set(approval.labels))),
    }


def _approval_ticket_findings(
    match: ApprovalMatch, approver: Approver, desk: Desk, *, linking: bool
) -> list[Finding]:
    if match.linked:
        return []  # an existing link, in either direction, means a person already handled it
    approval, onboarding = match.approval, match.onboarding
    org = onboarding.organization or "(no organization)"
    detail = ApprovalTicketDetail(**_match_detail(match, desk))
    url = approval.url or desk.link(approval.key)
    if match.by_key:
        summary = (
            f"{approver.name}'s ticket {approval.key} looks like the approval for "
            f"{onboarding.key} ({org}) and is not linked to it"
        )
    else:
        summary = (
            f"{approver.name}'s ticket {approval.key} names {org} but no key; if it is "
            f"the approval for {onboarding.key}, link it by hand"
        )
    # Only a key is proof enough to change tickets; a name match waits for a person. When
    # the job links, its chain ends with a notice of what it did: no alert before it.
    if linking and match.by_key:
        return [
            Finding(
                job=JOB_NAME,
                rule=RULE_LINK,
                item=approval.key,
                severity=Severity.INFO,
                summary=f"link {approval.key} to {onboarding.key} as a duplicate and close it",
                detail=detail,
                episode=onboarding.key,
                url=url,
                priority=_is_priority(onboarding, desk),
                realert=None,
            )
        ]
    return [
        Finding(
            job=JOB_NAME,
            rule=RULE_UNLINKED,
            item=approval.key,
            severity=Severity.WARNING,
            summary=summary,
            detail=detail,
            episode=onboarding.key,
            url=url,
            priority=_is_priority(onboarding, desk),
            realert=None,
        )
    ]


def _close_findings(matches: Sequence[ApprovalMatch], desk: Desk) -> list[Finding]:
    """Close each approval ticket, matched by key, that carries the job's explanatory comment
    but is still open: the chain that linked it gave up before the transition (or an earlier
    version of the job linked it). A ticket matched only by organization is never touched."""
    findings = []
    closing: set[str] = set()
    for match in matches:
        approval = match.approval
        if not match.by_key or approval.key in closing:
            continue
        if approval.is_done or not has_approval_ticket_comment(approval):
            continue
        closing.add(approval.key)
        onboarding_keys = sorted(
            {m.onboarding.key for m in matches if m.approval.key == approval.key}
        )
        findings.append(
            Finding(
                job=JOB_NAME,
                rule=RULE_CLOSE,
                item=approval.key,
                severity=Severity.INFO,
                summary=f"close {approval.key} as a duplicate of {', '.join(onboarding_keys)}",
                detail=CloseDetail(
                    **_match_detail(match, desk), onboarding_tickets=tuple(onboarding_keys)
                ),
                url=approval.url or desk.link(approval.key),
                realert=timedelta(0),
            )
        )
    return findings
