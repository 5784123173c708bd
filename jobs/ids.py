"""Random identifiers: a run's id, a chain's, a grouped message's.

Straight from the OS's random source rather than ``uuid.uuid4().hex``: the ``uuid`` module
loads ``platform`` with it, about 2 ms of every run's start-up, for bits these ids never use
(no one parses them as UUIDs; the heartbeat, whose service does, imports ``uuid`` itself).
"""

from __future__ import annotations

import os


def random_id(length: int = 32) -> str:
    """``length`` lower-case hex digits, every one random (4 bits each)."""
    if length < 1:
        raise ValueError(f"an id needs at least one digit, not {length}")
    return os.urandom((length + 1) // 2).hex()[:length]
