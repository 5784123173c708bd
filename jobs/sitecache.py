"""Facts about the systems that rarely change, kept in the ledger between runs.

Jira's field list (which id each of our field names has on this site) and its server info
are the same answer run after run; reading them on every run costs two calls that decide
nothing. A run reads them from here when they are younger than their time to live, reads
them from the system otherwise (or when the system says a field is unknown), and the
pipeline writes what was read back to the ledger at the end of a real run (a dry run writes
nothing). Entries are kept under the ledger's memory of the pseudo-job `CACHE_JOB`, each
with the wall-clock instant it was read.

Nothing here does I/O: the CLI loads the entries, the adapters ask and tell, the pipeline
saves `updates`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

CACHE_JOB = "_cache"
"""The ledger memory's job name for these entries (no job has a leading underscore)."""


class SiteCache:
    """Entries by name: ``{"value": ..., "read_at": ISO instant}``."""

    def __init__(self, entries: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._entries = {k: dict(v) for k, v in (entries or {}).items() if isinstance(v, Mapping)}
        self._updates: dict[str, dict[str, Any] | None] = {}
        self._lock = threading.Lock()

    def get(self, name: str, *, now: datetime, ttl: timedelta) -> Any | None:
        """The value read less than ``ttl`` before ``now`` (wall clock), else None."""
        with self._lock:
            entry = self._entries.get(name)
        if entry is None:
            return None
        try:
            read_at = datetime.fromisoformat(str(entry["read_at"]))
        except (KeyError, ValueError):
            return None
        if read_at.tzinfo is None or not timedelta(0) <= now - read_at < ttl:
            return None  # a clock moved back counts as stale too
        return entry.get("value")

    def put(self, name: str, value: Any, *, now: datetime) -> None:
        entry = {"value": value, "read_at": now.isoformat()}
        with self._lock:
            self._entries[name] = entry
            self._updates[name] = entry

    def forget(self, name: str) -> None:
        """Drop an entry the system contradicted: the next read asks the system."""
        with self._lock:
            if name in self._entries or name in self._updates:
                self._entries.pop(name, None)
                self._updates[name] = None

    def take_updates(self) -> dict[str, dict[str, Any] | None]:
        """What changed since the last call (None: forget it), for the ledger."""
        with self._lock:
            updates, self._updates = self._updates, {}
        return updates
