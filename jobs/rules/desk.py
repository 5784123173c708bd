"""Facts of the desk every job shares, each defined once: who is a customer, what counts as an
agent's first reply, which organizations are priority installers, and the reference line that
marks what we sent.

Healthchecks' ``Check.get_status()`` is the one answer its sender, API and badges all use; these
are ours. A job that stars, orders or escalates priority installers asks `PriorityInstallers`;
a job that measures a first response asks `first_response`. Pure: no adapters, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from jobs.model import Comment, Person, Ticket
from jobs.rules.names import normalize_name

# Jira's accountType (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-users/):
# "customer" is a JSM portal customer, "app" an automation or integration account.
CUSTOMER_ACCOUNT_TYPE = "customer"
APP_ACCOUNT_TYPE = "app"


# -- people ---------------------------------------------------------------------------------


def is_customer(author: Person | None, ticket: Ticket) -> bool:
    """The ticket's reporter, or an account Jira marks as a customer. Jira emails public
    comments to the reporter; a customer account is a customer on any ticket."""
    if author is None:
        return False
    if ticket.reporter is not None and author.matches(ticket.reporter):
        return True
    return author.account_type == CUSTOMER_ACCOUNT_TYPE


def is_automation(author: Person) -> bool:
    """An app account (an auto-reply rule): its "we got your request" is not a first response."""
    return author.account_type == APP_ACCOUNT_TYPE


def same_person(person: Person | None, names: Iterable[str]) -> bool:
    """``person`` is one of ``names`` (account ids, emails or display names, any case)."""
    if person is None:
        return False
    wanted = {n.strip().casefold() for n in names if n.strip()}
    ids = (person.account_id, person.email, person.display_name)
    return any(value and value.strip().casefold() in wanted for value in ids)


def is_agent_reply(comment: Comment, ticket: Ticket, automation_accounts: Sequence[str]) -> bool:
    """A public comment by someone who is not the customer, an app or a listed automation
    account: what SOP 004's "first response" and JSM's "Time to first response" wait for."""
    author = comment.author
    return (
        comment.public
        and author is not None
        and not is_customer(author, ticket)
        and not is_automation(author)
        and not same_person(author, automation_accounts)
    )


def first_response(ticket: Ticket, automation_accounts: Sequence[str] = ()) -> Comment | None:
    """The earliest agent reply (see `is_agent_reply`), or None.

    A ticket with no reporter has no customer to comment, so any named author's public
    comment counts; an anonymous comment never does. Only the comments the ticket carries
    are read: when they are incomplete, the caller decides whether that matters.
    """
    replies = [c for c in ticket.comments if is_agent_reply(c, ticket, automation_accounts)]
    return min(replies, key=lambda c: (c.created, c.id), default=None)


# -- priority installers ---------------------------------------------------------------------


@dataclass(frozen=True)
class PriorityInstallers:
    """``priority_installers`` from the settings, with the one meaning every job uses: an
    organization is a priority installer when its name equals a listed name after
    `jobs.rules.names.normalize_name` (case, accents, punctuation, "&"/"and", a leading
    "The" and legal suffixes such as LLC, Inc, Corp, Co ignored). "Acme Solar, Inc." is
    "Acme Solar LLC"; "Acme Solar Roofing" is not. The onboarding sheet's fuzzy name
    matching is another concept (`jobs.rules.names.compare_names`) and is not used here.
    """

    names: tuple[str, ...] = ()
    _by_normalized: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        table = {normalize_name(n): n.strip() for n in self.names if n and n.strip()}
        table.pop("", None)  # a name that is only a legal suffix names nobody
        object.__setattr__(self, "_by_normalized", table)

    def __bool__(self) -> bool:
        return bool(self._by_normalized)

    def listed(self, organization: str | None) -> str | None:
        """The listed name ``organization`` stands for, or None."""
        if not organization or not organization.strip():
            return None
        return self._by_normalized.get(normalize_name(organization))

    def of(self, organizations: Iterable[str | None]) -> str | None:
        """The first of ``organizations`` that is a priority installer (as written there)."""
        for organization in organizations:
            if organization and self.listed(organization):
                return organization.strip()
        return None

    def ticket(self, ticket: Ticket) -> str | None:
        """The ticket's Organization that makes it a priority installer's ticket, if any."""
        return self.of(ticket.organizations)


@lru_cache(maxsize=32)
def priority_installers(names: tuple[str, ...]) -> PriorityInstallers:
    """The list for these settings (built once: the normalization is not free)."""
    return PriorityInstallers(names)


# -- the desk -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Desk:
    """The settings every rule may need besides its own job's: the two Jira projects, the
    priority installers, where ticket links point. Built once per run from the settings
    (`jobs.context.RunContext.desk`); rules take it as an argument."""

    service_desk_project: str = "SS"
    config_project: str = "CS"
    priority_installers: PriorityInstallers = field(default_factory=PriorityInstallers)
    browse_url: str = ""
    """Base of ticket links (``https://site.atlassian.net``); empty: findings carry none."""

    def link(self, key: str) -> str | None:
        return f"{self.browse_url.rstrip('/')}/browse/{key}" if self.browse_url else None


# -- the reference line ----------------------------------------------------------------------

REFERENCE_SEPARATOR = " · "


def reference(ticket_key: str, step: str, *episode: str) -> str:
    """The line that ends everything we write on a ticket: ``Ref: SS-412 · onboard-reset ·
    2026-W48``. Plain text on its own line, so it survives Jira's email rendering; its
    presence in the ticket's comments is the proof that the step was done (the pipeline's
    ground truth), whatever the ledger remembers."""
    parts = [ticket_key, step, *(e for e in episode if e)]
    return "Ref: " + REFERENCE_SEPARATOR.join(parts)


def _flat(text: str) -> str:
    return " ".join(text.split()).casefold()


def has_reference(body: str, mark: str) -> bool:
    """Whitespace- and case-tolerant: an editor may reflow or re-case the reference line."""
    return _flat(mark) in _flat(body)


def references_step(body: str, ticket_key: str, step: str) -> bool:
    """The body carries a reference to ``step`` on ``ticket_key``, for any episode."""
    pattern = rf"ref:\s*{re.escape(ticket_key.casefold())}\s*·\s*{re.escape(step)}(?![\w-])"
    return re.search(pattern, body.casefold()) is not None
