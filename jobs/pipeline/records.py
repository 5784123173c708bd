"""Alert records, decided: is a finding fresh, and what a record becomes after a step.

Pure functions of a record, a finding and ``now``; the pipeline reads and writes the ledger.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from jobs.model import AlertRecord, Finding, RecordChange, RecordStatus
from jobs.render.words import human_duration

# Cron starts a job a few seconds early or late; without this tolerance a 24 h re-alert on an
# hourly job run 2 s early would slip by a whole hour every day.
SCHEDULE_JITTER = timedelta(minutes=2)


def with_jitter(realert: timedelta) -> timedelta:
    return realert - SCHEDULE_JITTER if realert > SCHEDULE_JITTER else realert


def ago(then: datetime, now: datetime) -> str:
    """'just now', '5 m ago', '2 h 13 m ago', '3 d 4 h ago'."""
    if now - then < timedelta(minutes=1):
        return "just now"
    return f"{human_duration(now - then)} ago"


def freshness(finding: Finding, record: AlertRecord | None, now: datetime) -> tuple[bool, str]:
    """(send now?, why not). Fresh: never sent in this episode; a closed record of an alert
    that starts a new episode when it comes back; a higher tier than the one announced; or
    the re-alert window has passed."""
    if record is None or record.status is RecordStatus.NEW or record.last_sent_at is None:
        return True, ""
    if record.status is RecordStatus.CLOSED and finding.reopens:
        return True, ""
    if record.tier is not None and finding.severity.rank > record.tier.rank:
        return True, ""
    last = record.last_sent_at
    if finding.realert is None:
        announced = f" at {record.tier}" if record.tier is not None else ""
        return False, f"already sent{announced} {ago(last, now)} (once: only a higher tier is told)"
    if now - last >= with_jitter(finding.realert):
        return True, ""
    left = human_duration(last + finding.realert - now)
    return False, (
        f"already sent {ago(last, now)} (told again every {human_duration(finding.realert)}: "
        f"in {left})"
    )


def after_send(record: AlertRecord | None, finding: Finding, now: datetime) -> AlertRecord:
    """The record once ``finding`` was announced at ``now``."""
    base = record or AlertRecord(key=finding.record_key)
    new_episode = (
        base.status is RecordStatus.NEW
        or base.last_sent_at is None
        or (base.status is RecordStatus.CLOSED and finding.reopens)
    )
    if new_episode:
        return replace(
            base,
            status=RecordStatus.OPEN,
            tier=finding.severity,
            first_sent_at=now,
            last_sent_at=now,
            closed_at=None,
            realert=finding.realert,
            store={} if base.status is RecordStatus.CLOSED else dict(base.store),
        )
    tier = base.tier if base.tier and base.tier.rank >= finding.severity.rank else finding.severity
    return replace(
        base,
        status=RecordStatus.OPEN,
        tier=tier,
        last_sent_at=now,
        closed_at=None,
        realert=finding.realert,
    )


def after_change(record: AlertRecord, change: RecordChange, now: datetime) -> AlertRecord:
    """The record with a step's change applied (`Ref`s already resolved)."""
    store: dict[str, Any] = dict(record.store)
    for name, value in change.store.items():
        if value is None:
            store.pop(name, None)
        else:
            store[name] = value
    status = record.status
    closed_at = record.closed_at
    if change.close:
        status, closed_at = RecordStatus.CLOSED, now
    elif change.reopen or status is RecordStatus.NEW:
        status, closed_at = RecordStatus.OPEN, None
    return replace(record, store=store, status=status, closed_at=closed_at)


def closed(record: AlertRecord, now: datetime) -> AlertRecord:
    return replace(record, status=RecordStatus.CLOSED, closed_at=now)


def keep_until(record: AlertRecord, retention: timedelta) -> datetime | None:
    """When a closed record can no longer change a decision: after its re-alert window, or,
    for a once-only send, after the retention (the decision log's horizon)."""
    if record.status is not RecordStatus.CLOSED:
        return None
    closed_at = record.closed_at or record.last_sent_at
    if closed_at is None:
        return None
    if record.realert is not None and record.last_sent_at is not None:
        return max(closed_at, record.last_sent_at + record.realert)
    return closed_at + retention
