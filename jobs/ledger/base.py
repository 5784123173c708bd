"""The ledger interface: dedup state, the decision log and silences, whatever the database.

Three facts live here and nowhere else:

- *when did we last tell someone about (job, rule, item, episode)* — the per-item re-alert
  window (ElastAlert's ``realert``). ``claim`` reserves the right to send before the send
  happens, so two overlapping runs (a slow run and the next scheduled one) never both post;
- *what did we decide for every candidate finding of every run* — the audit trail the desk
  reads when someone asks "why was (or wasn't) I told about SS-12?";
- *who silenced what, why, and until when* — silences are records with an author, a reason
  and an expiry (as in Alertmanager), never a commented-out rule.

Every instant crosses this boundary timezone-aware; the backends store UTC.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any, Protocol, runtime_checkable

SCHEMA_VERSION = 1

DECISION_RETENTION = timedelta(days=400)
"""How long decisions are kept by default: more than a year, so a yearly review still finds them."""

OUTCOMES = frozenset(
    {
        "sent",
        "suppressed_duplicate",
        "suppressed_silenced",
        "suppressed_calendar",
        "suppressed_claimed",
        "dry_run",
        "failed",
        "resolved",
    }
)


class LedgerError(Exception):
    """The ledger database cannot be opened or used; the message says what to check."""


@dataclass(frozen=True)
class Decision:
    """One record per candidate finding per run: what was decided and why."""

    at: datetime
    run_id: str
    job: str
    rule: str
    item: str
    episode: str
    outcome: str
    reason: str
    facts: dict[str, Any] = field(default_factory=dict)
    action: str | None = None
    """What was (or would have been) done, e.g. ``jira_public_comment SS-12``."""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(
                f"unknown decision outcome {self.outcome!r}; use one of {sorted(OUTCOMES)}"
            )


@dataclass(frozen=True)
class Silence:
    """An order to stay quiet about an item: for one job, or for every job when ``job`` is None."""

    id: int
    item: str
    job: str | None
    reason: str
    author: str
    created: datetime
    expires: datetime

    def is_active(self, now: datetime) -> bool:
        return self.expires > now

    def matches(self, job: str, item: str) -> bool:
        return self.item == item and (self.job is None or self.job == job)


@runtime_checkable
class Ledger(Protocol):
    def last_sent(self, job: str, rule: str, item: str, episode: str = "") -> datetime | None: ...

    def claim(
        self,
        job: str,
        rule: str,
        item: str,
        episode: str,
        *,
        now: datetime,
        realert: timedelta | None,
        run_id: str,
        claim_ttl: timedelta,
    ) -> bool:
        """Atomically reserve the right to send now.

        True iff (never sent, or last sent <= now - realert; ``realert=None`` means once ever)
        and no other run holds a claim younger than ``claim_ttl``. A claim older than that
        belongs to a run that died mid-send and is taken over. Re-claiming by the same
        ``run_id`` succeeds and refreshes the claim.
        """
        ...

    def mark_sent(
        self, job: str, rule: str, item: str, episode: str, *, now: datetime, run_id: str
    ) -> None:
        """Record the send at ``now`` and drop this run's claim."""
        ...

    def release(self, job: str, rule: str, item: str, episode: str, *, run_id: str) -> None:
        """Drop this run's claim without recording a send (the send failed; retry next run)."""
        ...

    def get_state(self, job: str, item: str) -> dict[str, Any] | None: ...

    def put_state(
        self, job: str, item: str, state: dict[str, Any] | None, *, now: datetime
    ) -> None: ...

    def open_states(self, job: str) -> dict[str, dict[str, Any]]: ...

    def first_seen(self, job: str, item: str, *, now: datetime) -> datetime: ...

    def forget_first_seen(self, job: str, item: str) -> None: ...

    def record_decisions(self, decisions: Sequence[Decision]) -> None: ...

    def history(self, item: str, *, limit: int = 200) -> list[Decision]: ...

    def add_silence(
        self,
        item: str,
        *,
        job: str | None,
        reason: str,
        author: str,
        now: datetime,
        until: datetime,
    ) -> Silence: ...

    def silences(self, *, now: datetime, include_expired: bool = False) -> list[Silence]: ...

    def expire_silence(self, silence_id: int, *, now: datetime) -> bool: ...

    def active_silence(self, job: str, item: str, *, now: datetime) -> Silence | None: ...

    def prune(self, *, now: datetime, keep: timedelta = DECISION_RETENTION) -> int: ...

    def close(self) -> None: ...


# --- helpers shared by the backends -------------------------------------------------------


def utc(instant: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are refused because their zone is a guess."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(
            f"naive datetime {instant.isoformat()} given to the ledger; "
            "pass a timezone-aware instant (the injected clock gives UTC)"
        )
    return instant.astimezone(UTC)


def claim_cutoffs(
    now: datetime, realert: timedelta | None, claim_ttl: timedelta
) -> tuple[datetime, datetime | None, datetime]:
    """(now, latest last-sent that allows a re-alert or None for once-ever, oldest live claim)."""
    now = utc(now)
    if claim_ttl <= timedelta(0):
        raise ValueError("claim_ttl must be positive: it is how long a run may take to send")
    if realert is not None and realert < timedelta(0):
        raise ValueError("realert must not be negative (use None for once ever)")
    resend_cutoff = None if realert is None else now - realert
    return now, resend_cutoff, now - claim_ttl


def check_silence(item: str, reason: str, author: str, now: datetime, until: datetime) -> None:
    # Alertmanager refuses anonymous or unexplained silences; so do we, so the history
    # always answers "who decided to stay quiet, and why".
    if not item.strip():
        raise ValueError("a silence needs an item (e.g. a ticket key such as SS-12)")
    if not reason.strip():
        raise ValueError("a silence needs a reason, so others know why the alert stayed quiet")
    if not author.strip():
        raise ValueError("a silence needs an author (who asked for it)")
    if utc(until) <= utc(now):
        raise ValueError(f"silence expiry {until.isoformat()} is not after now ({now.isoformat()})")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    return str(value)


def to_json(value: Mapping[str, Any]) -> str:
    """JSON text for facts and state; values JSON lacks (datetimes, enums) become plain text."""
    return json.dumps(dict(value), default=_json_default, sort_keys=True, separators=(",", ":"))


def from_json(text: str | bytes | Mapping[str, Any] | None) -> dict[str, Any]:
    if text is None:
        return {}
    if isinstance(text, Mapping):
        return dict(text)
    loaded = json.loads(text)
    return loaded if isinstance(loaded, dict) else {"value": loaded}
