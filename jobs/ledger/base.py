"""The ledger interface: alert records, chains of steps, memory, silences and the decision
log, whatever the database.

Facts that live here and nowhere else:

- *what was announced about an alert, when, and where it lives* — one `AlertRecord` per
  (job, alert, item or group, episode): its tier, first and last send, and a small store (the
  Slack message's channel and ts, a created issue's key). A run *claims* a record before it
  sends anything for it, so two overlapping runs (a slow run and the next scheduled one) never
  both post; a claim is never re-entrant and holds for a finding's whole chain;
- *what a run set out to do and how far it got* — a `Chain` of steps written before its first
  non-idempotent write (the intent), each step marked as it is attempted and done, so a run
  killed or failed half-way is finished by the next one without repeating a finished step;
- *what a job wants to remember between runs* (memory by item), and *the latest instant each
  job ran as of* (the clock guard);
- *what was decided for every candidate finding of every run* — the audit trail the desk
  reads when someone asks "why was (or wasn't) I told about SS-12?";
- *who silenced what, why, and until when* — silences are records with an author, a reason
  and an expiry (as in Alertmanager), never a commented-out rule.

Jobs see only `LedgerReader`: they can read records, memory and silences, never write them;
writing is the pipeline's. Every instant crosses this boundary timezone-aware; the backends
store UTC.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from jobs.model import AlertRecord, RecordKey

SCHEMA_VERSION = 3
"""1: the first release (`jobs.ledger.migrate`). 2: alert records and chains. 3: a chain's
steps in rows of their own (``chain_steps``), so a save writes only the steps that changed; a
chain an earlier release wrote whole is still read, and moved to rows when next saved."""

DECISION_RETENTION = timedelta(days=400)
"""How long decisions are kept by default: more than a year, so a yearly review still finds them."""

OUTCOMES = frozenset(
    {
        "sent",
        "suppressed_duplicate",
        "suppressed_silenced",
        "suppressed_calendar",
        "suppressed_claimed",
        "suppressed_inhibited",
        "suppressed_clock",
        "pending",
        "dry_run",
        "failed",
        "resolved",
        "acted_from_slack",
    }
)
"""``acted_from_slack``: a person acted on the item from a Slack alert or the Home tab (assigned
it, snoozed it); the decision names who (``facts.by``) and what (``action``)."""


class LedgerError(Exception):
    """The ledger database cannot be opened or used; the message says what to check."""


@dataclass(frozen=True)
class Decision:
    """One record per candidate finding (or step) per run: what was decided and why."""

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


@dataclass(frozen=True)
class Chain:
    """A run's intent: steps to take in order, and how far they got.

    ``steps`` are the pipeline's encoding of each action with its status (``pending``,
    ``inflight`` — attempted, outcome not known yet —, ``done`` with its result, or
    ``failed``); the ledger stores them as they are. ``records`` are the keys the chain
    works for: a run must claim all of them to resume it.
    """

    id: str
    job: str
    records: tuple[RecordKey, ...]
    steps: tuple[Mapping[str, Any], ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class LastRun:
    """The latest instant a job ran as of (for the clock guard), and which run that was."""

    job: str
    now: datetime
    run_id: str


@runtime_checkable
class LedgerReader(Protocol):
    """What a job may see: reads only (there is nothing here to write with)."""

    def records(
        self, job: str, *, keys: Sequence[RecordKey] | None = None, open_only: bool = False
    ) -> dict[RecordKey, AlertRecord]:
        """The job's records: every one, only those of ``keys``, or only open ones."""
        ...

    def memory(self, job: str) -> dict[str, dict[str, Any]]: ...

    def active_silence(self, job: str, item: str, *, now: datetime) -> Silence | None: ...

    def silences(self, *, now: datetime, include_expired: bool = False) -> list[Silence]: ...

    def history(self, item: str, *, limit: int = 200) -> list[Decision]: ...

    def items(self) -> set[str]:
        """Every item key the ledger knows: of a record, a silence or a decision (what a
        person's typing is matched against)."""
        ...

    def last_run(self, job: str) -> LastRun | None: ...


@runtime_checkable
class Ledger(LedgerReader, Protocol):
    """Everything, for the pipeline and the command line."""

    def claim(
        self,
        key: RecordKey,
        *,
        version: int,
        now: datetime,
        run_id: str,
        claim_ttl: timedelta,
    ) -> bool:
        """Atomically reserve the right to act for ``key``, as of the ``version`` the run read
        (0 = no record yet).

        True iff the record is still at that version (nobody wrote it since) and no run holds
        a claim younger than ``claim_ttl``; a claim older than that belongs to a run that died
        and is taken over. Never re-entrant: a run that already holds it gets False.
        """
        ...

    def claim_all(
        self,
        versions: Mapping[RecordKey, int],
        *,
        now: datetime,
        run_id: str,
        claim_ttl: timedelta,
    ) -> set[RecordKey]:
        """`claim` each key at the version the run read, in one transaction; the keys it got.

        Each key is claimed or not on its own, exactly as `claim` would (one refused claim
        does not undo the others): what the batch saves is a commit per key. Rows are taken
        in key order, like every batch that writes several records, so two runs' batches
        cannot wait on each other in a circle.
        """
        ...

    def release(self, key: RecordKey, *, run_id: str) -> None:
        """Drop this run's claim (another run's claim is left alone)."""
        ...

    def release_all(self, keys: Sequence[RecordKey], *, run_id: str) -> None:
        """`release` each of ``keys``, in one transaction: all are given back at once (the
        run's lease with the records it guarded)."""
        ...

    def save_record(
        self, record: AlertRecord, *, now: datetime, run_id: str, keep_until: datetime | None
    ) -> AlertRecord:
        """Write ``record``, bumping its version; this run's claim on it stays.

        ``keep_until``: once closed, the record can no longer change a decision after this
        instant and may be pruned (None = keep while open).
        """
        ...

    def save_records(
        self,
        saves: Sequence[tuple[AlertRecord, datetime | None]],
        *,
        now: datetime,
        run_id: str,
    ) -> list[AlertRecord]:
        """`save_record` for each (record, keep_until), in one transaction: what one step
        changed is written whole or not at all. The saved records, in the same order."""
        ...

    def save_chain(self, chain: Chain) -> None:
        """Write the chain. Its steps are taken as they are: a step that changed since the
        last save is a new mapping, and a mapping handed over is not changed afterwards (so
        a step handed over again as the same mapping need not be written again)."""
        ...

    def delete_chain(self, chain_id: str) -> None: ...

    def chains(self, job: str) -> list[Chain]: ...

    def remember(
        self, job: str, updates: Mapping[str, Mapping[str, Any] | None], *, now: datetime
    ) -> None: ...

    def note_run(self, job: str, *, now: datetime, run_id: str) -> None:
        """Remember ``now`` as the job's latest instant if it is later than the one kept."""
        ...

    def record_decisions(self, decisions: Sequence[Decision]) -> None: ...

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

    def add_silence_unless_covered(
        self,
        item: str,
        *,
        job: str,
        reason: str,
        author: str,
        now: datetime,
        until: datetime,
        covered_until: datetime,
    ) -> tuple[Silence, bool]:
        """`add_silence`, unless a silence of ``item`` for ``job`` (its own or every job's)
        already lasts until ``covered_until`` or later: then that one, and nothing is added.
        True when the silence handed back was added. The look and the add are one step: two
        of them for one item at once (a double click) add one silence."""
        ...

    def expire_silence(self, silence_id: int, *, now: datetime) -> bool: ...

    def prune(self, *, now: datetime, keep: timedelta = DECISION_RETENTION) -> dict[str, int]:
        """Delete what can no longer change a decision; rows deleted per table."""
        ...

    def counts(self) -> dict[str, int]:
        """Rows per table (for `ledger status` and the size tests)."""
        ...

    def schema_version(self) -> int:
        """The newest schema this database has been brought to."""
        ...

    def close(self) -> None: ...


class ReadOnlyLedger:
    """The ledger as a job sees it: the reads of `LedgerReader` and nothing else, so a job
    cannot write even by reaching past its type."""

    def __init__(self, ledger: LedgerReader) -> None:
        self._ledger = ledger

    def records(
        self, job: str, *, keys: Sequence[RecordKey] | None = None, open_only: bool = False
    ) -> dict[RecordKey, AlertRecord]:
        return self._ledger.records(job, keys=keys, open_only=open_only)

    def memory(self, job: str) -> dict[str, dict[str, Any]]:
        return self._ledger.memory(job)

    def active_silence(self, job: str, item: str, *, now: datetime) -> Silence | None:
        return self._ledger.active_silence(job, item, now=now)

    def silences(self, *, now: datetime, include_expired: bool = False) -> list[Silence]:
        return self._ledger.silences(now=now, include_expired=include_expired)

    def history(self, item: str, *, limit: int = 200) -> list[Decision]:
        return self._ledger.history(item, limit=limit)

    def items(self) -> set[str]:
        return self._ledger.items()

    def last_run(self, job: str) -> LastRun | None:
        return self._ledger.last_run(job)


# --- helpers shared by the backends -------------------------------------------------------


def utc(instant: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are refused because their zone is a guess."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(
            f"naive datetime {instant.isoformat()} given to the ledger; "
            "pass a timezone-aware instant (the injected clock gives UTC)"
        )
    return instant.astimezone(UTC)


def claim_cutoff(now: datetime, claim_ttl: timedelta) -> datetime:
    """The oldest claim still held by a live run."""
    if claim_ttl <= timedelta(0):
        raise ValueError("claim_ttl must be positive: it is how long a run may take to send")
    return utc(now) - claim_ttl


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


def to_json_value(value: Any) -> str:
    """`to_json` for any JSON-like value (a list, a string...), in the same form."""
    return json.dumps(value, default=_json_default, sort_keys=True, separators=(",", ":"))


def from_json(text: str | bytes | Mapping[str, Any] | None) -> dict[str, Any]:
    if text is None:
        return {}
    if isinstance(text, Mapping):
        return dict(text)
    loaded = json.loads(text)
    return loaded if isinstance(loaded, dict) else {"value": loaded}
