"""Upgrade a ledger written by the first release (schema 1) in place.

Schema 1 kept a ``dedup`` row per (job, rule, item, episode) with the last send and a claim,
``first_seen`` instants, and untyped per-job ``item_state``. Schema 2 keeps one alert record
per (job, alert, item, episode) and chains of steps. The upgrade runs once, inside the schema
transaction (so two processes opening the old file at once upgrade it once):

- every ``dedup`` row with a send becomes a closed record under its rule, so nothing already
  sent is sent again: a once-only send stays once-only for the retention period;
- the first-response job's open episodes (its ``item_state`` rows) become open records that
  keep their Slack message, so the next run edits that message instead of posting a new one;
- the other jobs' ``item_state`` rows were their own bookkeeping of steps in flight, which
  chains now hold; the onboarding sheet's memory stays as it is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from jobs.ledger.base import DECISION_RETENTION, from_json, to_json

if TYPE_CHECKING:
    from jobs.ledger.sql import Cursor, SqlLedger

FIRST_RESPONSE_JOB = "unassigned_first_response"
FIRST_RESPONSE_ALERT = "first_response"
MESSAGE_ALERT = "message"
"""The first-response job's record names in schema 2 (see its module)."""
KEPT_STATE_JOBS = frozenset({"onboarding_missing_ticket"})
"""Jobs whose item_state rows are still the job's memory in schema 2."""


def upgrade_from_v1(ledger: SqlLedger, cursor: Cursor, existing: set[str]) -> None:
    now = datetime.now(UTC)
    keep_until = ledger._instant(now + DECISION_RETENTION)
    cursor.execute("SELECT job, rule, item, episode, last_sent_at FROM dedup", {})
    sent = [row for row in cursor.fetchall() if row["last_sent_at"] is not None]
    states: list[Any] = []
    if "item_state" in existing:
        cursor.execute("SELECT job, item, state FROM item_state", {})
        states = list(cursor.fetchall())
    open_episodes = _first_response_records(ledger, states)
    insert = ledger._sql(_INSERT)
    for row in sent:
        if row["job"] == FIRST_RESPONSE_JOB and row["item"] in open_episodes:
            continue  # carried by its open record below
        last = row["last_sent_at"]
        cursor.execute(
            insert,
            {
                "job": row["job"],
                "alert": row["rule"],
                "item": row["item"],
                "episode": row["episode"],
                "status": "closed",
                "tier": "",
                "first_sent_at": last,
                "last_sent_at": last,
                "closed_at": ledger._instant(now),
                "store": "{}",
                "keep_until": keep_until,
                "now": ledger._instant(now),
            },
        )
    for params in open_episodes.values():
        cursor.execute(insert, params)
    for row in states:
        if row["job"] not in KEPT_STATE_JOBS:
            cursor.execute(
                ledger._sql("DELETE FROM item_state WHERE job = :job AND item = :item"),
                {"job": row["job"], "item": row["item"]},
            )
    cursor.execute("DROP TABLE dedup", {})
    if "first_seen" in existing:
        cursor.execute("DROP TABLE first_seen", {})


_INSERT = """
INSERT INTO alerts (job, alert, item, episode, status, tier, first_sent_at, last_sent_at,
                    closed_at, realert_seconds, store, version, keep_until, updated_at)
VALUES (:job, :alert, :item, :episode, :status, :tier, :first_sent_at, :last_sent_at,
        :closed_at, NULL, CAST(:store AS {json}), 1, :keep_until, :now)
ON CONFLICT (job, alert, item, episode) DO NOTHING
"""


def _first_response_records(ledger: SqlLedger, states: list[Any]) -> dict[str, dict[str, Any]]:
    """The first-response job's open episodes as schema-2 records: one per ticket (its tier and
    card, and the message it is on) and one per Slack message (channel, ts, members)."""
    own = {r["item"]: from_json(r["state"]) for r in states if r["job"] == FIRST_RESPONSE_JOB}
    now = ledger._instant(datetime.now(UTC))
    records: dict[str, dict[str, Any]] = {}
    messages: dict[str, dict[str, Any]] = {}

    def row(alert: str, item: str, status: str, tier: str, first: Any, store: dict[str, Any]):
        return {
            "job": FIRST_RESPONSE_JOB,
            "alert": alert,
            "item": item,
            "episode": "",
            "status": status,
            "tier": tier,
            "first_sent_at": first,
            "last_sent_at": first,
            "closed_at": None,
            "store": to_json(store),
            "keep_until": None,
            "now": now,
        }

    for key, state in own.items():
        if key.startswith("group:"):
            continue
        try:
            channel, ts, tier = str(state["channel"]), str(state["ts"]), str(state["tier"])
            first = datetime.fromisoformat(str(state.get("first_alerted_at") or ""))
        except (KeyError, TypeError, ValueError):
            continue  # unreadable: the next run starts a new episode for the ticket
        message = str(state.get("group") or f"single:{channel}:{ts}")
        messages.setdefault(message, {"channel": channel, "ts": ts, "members": []})
        messages[message]["members"].append(key)
        store = {"message": message, "card": dict(state.get("card") or {})}
        records[key] = row(FIRST_RESPONSE_ALERT, key, "open", tier, ledger._instant(first), store)
    for message, store in messages.items():
        store["members"] = sorted(store["members"])
        records[message] = row(MESSAGE_ALERT, message, "open", "", None, store)
    return records
