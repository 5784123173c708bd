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
  approver (a Jira Cloud mention of his account, his name or email, or a configured alias)
  AND contains one of the ``ask_phrases`` (any case; "approv" also reads "approved",
  "approval"). SOP 001 tags him in other notes too: step 6 "it's complete and products are
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from jobs.calendar import BusinessCalendar
from jobs.durations import Duration
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

JOB = "approval_reminder"

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
_OWN_MARKER = re.compile(rf"Ref: \S+ · (?:{REMINDER_TAG}|{APPROVAL_TICKET_TAG}) · ")
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
    """The last line of the optional internal comment recording that a reminder was sent."""
    return f"Ref: {key} · {REMINDER_TAG} · {day.isoformat()}"


def approval_ticket_marker(approval_key: str, onboarding_key: str) -> str:
    """The last line of the internal comment on an approval ticket the job links and closes."""
    return f"Ref: {approval_key} · {APPROVAL_TICKET_TAG} · {onboarding_key}"


def is_own_comment(comment: Comment) -> bool:
    return bool(_OWN_MARKER.search(comment.body))


def has_approval_ticket_comment(ticket: Ticket) -> bool:
    """Whether the job's explanatory comment (its marker) is on the approval ticket already."""
    prefix = f"Ref: {ticket.key} · {APPROVAL_TICKET_TAG} · "
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

    def is_mentioned_in(self, text: str) -> bool:
        if self.account_id and f"[~accountid:{self.account_id}]" in text:
            return True
        if self.email and _contains_words(text, self.email):
            return True
        return any(_contains_words(text, name) for name in (self.name, *self.mention_names))


@dataclass(frozen=True)
class ApprovalRules:
    """The thresholds and switches the rule needs, taken from the job's config and settings."""

    remind_after: Duration = Duration(wall=timedelta(hours=24))
    realert: timedelta = timedelta(hours=24)
    use_business_calendar: bool = False
    config_project: str = "CS"
    link_approval_tickets: bool = False
    priority_installers: tuple[str, ...] = ()
    ask_phrases: tuple[str, ...] = DEFAULT_ASK_PHRASES
    comment_on_reminder: bool = False
    job: str = JOB


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


# -- text matching ---------------------------------------------------------------------------


@lru_cache(maxsize=4096)  # one pattern per organization name, not per (ticket, name) pair
def _words_pattern(phrase: str) -> re.Pattern[str] | None:
    words = phrase.split()
    if not words:
        return None
    body = r"\s+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _contains_words(text: str, phrase: str) -> bool:
    pattern = _words_pattern(phrase)
    return bool(pattern and pattern.search(text))


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


def contains_phrase(text: str, phrases: Iterable[str]) -> bool:
    """Any phrase, case-insensitively, with any run of whitespace for a space ("push\nlive")."""
    flat = " ".join(text.split()).casefold()
    return any(" ".join(p.split()).casefold() in flat for p in phrases if p.strip())


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
        and contains_phrase(c.body, ask_phrases)
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


def due_at(asked: datetime, rules: ApprovalRules, calendar: BusinessCalendar) -> datetime:
    """When an unanswered ask becomes overdue.

    The SOP's "within 24 hours" is wall-clock time: 24 real hours, so 23 or 25 hours of
    local clock time across a DST change. ``use_business_calendar`` counts working time on
    the desk calendar instead; a business-day ``remind_after`` (``1bd``) always does.
    """
    if rules.use_business_calendar or rules.remind_after.is_business:
        return calendar.add(asked, rules.remind_after)
    return _utc(asked) + rules.remind_after.wall


def waiting_time(
    asked: datetime, now: datetime, rules: ApprovalRules, calendar: BusinessCalendar
) -> timedelta:
    if rules.use_business_calendar:
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
    rules: ApprovalRules,
    calendar: BusinessCalendar,
) -> Evaluation:
    problems: list[DataProblem] = []
    onboarding, his = split_onboarding(data.onboarding, approver, rules.ask_phrases)
    asks = {t.key: find_asks(t, approver, rules.ask_phrases) for t in onboarding}
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
        rules.config_project,
        rules.ask_phrases,
    )
    problems.extend(match_problems)

    findings: list[Finding] = []
    for ticket in sorted(onboarding, key=lambda t: t.key):
        ticket_asks = asks[ticket.key]
        if not ticket_asks:
            continue
        ask = ticket_asks[-1]
        answer = find_answer(ticket, ask, approver, approver_tickets, matches)
        timeline = Timeline(ticket, ticket_asks, answer, _cs_links(ticket, rules.config_project))
        if answer is None:
            finding = _overdue(timeline, approver, now, rules, calendar)
        else:
            finding = _received(timeline, approver, now, rules)
        if finding is not None:
            findings.append(finding)

    for match in matches:
        findings.extend(_approval_ticket_findings(match, approver, rules))
    findings.extend(_close_findings(matches, rules))
    return Evaluation(findings=findings, problems=problems, examined=len(onboarding))


# -- findings --------------------------------------------------------------------------------


def _base_facts(ticket: Ticket, rules: ApprovalRules) -> dict[str, Any]:
    return {
        "summary": ticket.summary,
        "status": ticket.status,
        "organization": ticket.organization,
        "labels": list(ticket.labels),
        "cs_tickets": _cs_keys(ticket, rules.config_project),
    }


def _is_priority(ticket: Ticket, rules: ApprovalRules) -> bool:
    wanted = {name.casefold() for name in rules.priority_installers}
    return any(org.casefold() in wanted for org in ticket.organizations)


def _author_name(person: Person | None) -> str:
    if person is None:
        return "unknown"
    return person.display_name or person.email or person.account_id or "unknown"


def _overdue(
    timeline: Timeline,
    approver: Approver,
    now: datetime,
    rules: ApprovalRules,
    calendar: BusinessCalendar,
) -> Finding | None:
    ticket, ask = timeline.ticket, timeline.ask
    assert ask is not None
    due = due_at(ask.created, rules, calendar)
    if _utc(now) < _utc(due):
        return None
    waiting = waiting_time(ask.created, now, rules, calendar)
    org = ticket.organization or "(no organization)"
    facts = _base_facts(ticket, rules) | {
        "ask_comment_id": ask.id,
        "asked_at": ask.created.isoformat(),
        "asked_by": _author_name(ask.author),
        "ask_edited": bool(ask.updated and ask.updated > ask.created),
        "asks": len(timeline.asks),
        "approver": approver.name,
        "remind_after": str(rules.remind_after),
        "business_calendar": rules.use_business_calendar,
        "due_at": due.isoformat(),
        "waiting_seconds": int(waiting.total_seconds()),
        "waiting": human_duration(waiting),
        "answered": False,
    }
    return Finding(
        job=rules.job,
        rule=RULE_OVERDUE,
        item=ticket.key,
        severity=Severity.WARNING,
        summary=f"{org}: waiting {human_duration(waiting)} for {approver.name}'s approval",
        facts=facts,
        # A new ask is a new question: its reminder does not wait for the old one's window.
        episode=f"ask-{ask.id}",
        url=ticket.url,
        priority=_is_priority(ticket, rules),
        realert=rules.realert,
    )


def _received(
    timeline: Timeline, approver: Approver, now: datetime, rules: ApprovalRules
) -> Finding | None:
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
    facts = _base_facts(ticket, rules) | {
        "ask_comment_id": ask.id,
        "asked_at": ask.created.isoformat(),
        "approver": approver.name,
        "answer_kind": answer.kind,
        "answered_at": answer.at.isoformat(),
        "answer_ticket": answer.ticket_key,
        "answer_excerpt": answer.excerpt,
        "answered_after_seconds": int((answer.at - ask.created).total_seconds()),
        "cs_to_move": cs_keys,
        "cs_statuses": {key: status for key, status in waiting_cs},
        "answered": True,
    }
    return Finding(
        job=rules.job,
        rule=RULE_RECEIVED,
        item=ticket.key,
        severity=Severity.INFO,
        summary=(
            f"{org}: {approver.name} answered ({answer.kind.replace('_', ' ')}); "
            f"if approved, {cs_text} can go back to To Do"
        ),
        facts=facts,
        url=ticket.url,
        priority=_is_priority(ticket, rules),
        realert=None,
    )


def _match_facts(match: ApprovalMatch, rules: ApprovalRules) -> dict[str, Any]:
    approval, onboarding = match.approval, match.onboarding
    return _base_facts(onboarding, rules) | {
        "onboarding_ticket": onboarding.key,
        "approval_ticket": approval.key,
        "approval_summary": approval.summary,
        "approval_created": approval.created.isoformat(),
        "approval_status": approval.status,
        "approval_done": approval.is_done,
        "matched_by": match.matched_by,
        "possible_answer": match.possible_answer,
        "linked": match.linked,
        # The snooze label on either ticket keeps the job's hands off both.
        "labels": sorted(set(onboarding.labels) | set(approval.labels)),
    }


def _approval_ticket_findings(
    match: ApprovalMatch, approver: Approver, rules: ApprovalRules
) -> list[Finding]:
    if match.linked:
        return []  # an existing link, in either direction, means a person already handled it
    approval, onboarding = match.approval, match.onboarding
    org = onboarding.organization or "(no organization)"
    facts = _match_facts(match, rules)
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
    if rules.link_approval_tickets and match.by_key:
        return [
            Finding(
                job=rules.job,
                rule=RULE_LINK,
                item=approval.key,
                severity=Severity.INFO,
                summary=f"link {approval.key} to {onboarding.key} as a duplicate and close it",
                facts=facts,
                episode=onboarding.key,
                url=approval.url,
                priority=_is_priority(onboarding, rules),
                realert=None,
            )
        ]
    return [
        Finding(
            job=rules.job,
            rule=RULE_UNLINKED,
            item=approval.key,
            severity=Severity.WARNING,
            summary=summary,
            facts=facts,
            episode=onboarding.key,
            url=approval.url,
            priority=_is_priority(onboarding, rules),
            realert=None,
        )
    ]


def _close_findings(matches: Sequence[ApprovalMatch], rules: ApprovalRules) -> list[Finding]:
    """Close each approval ticket, matched by key, that carries the job's explanatory comment
    but is still open: the chain that linked it gave up before the transition (or an earlier
    version of the job linked it). A ticket matched only by organization is never touched."""
    if not rules.link_approval_tickets:
        return []
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
                job=rules.job,
                rule=RULE_CLOSE,
                item=approval.key,
                severity=Severity.INFO,
                summary=f"close {approval.key} as a duplicate of {', '.join(onboarding_keys)}",
                facts=_match_facts(match, rules) | {"onboarding_tickets": onboarding_keys},
                url=approval.url,
                realert=timedelta(0),
            )
        )
    return findings
