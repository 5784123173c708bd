"""Random ids: the length asked for, hex only, and no two alike."""

from __future__ import annotations

import re

import pytest

from jobs.heartbeat import Heartbeat
from jobs.ids import random_id


@pytest.mark.parametrize("length", [1, 8, 12, 16, 31, 32, 33])
def test_an_id_has_the_length_asked_for_in_lower_case_hex(length: int) -> None:
    for _ in range(50):
        assert re.fullmatch(rf"[0-9a-f]{{{length}}}", random_id(length))


def test_ids_do_not_repeat() -> None:
    assert len({random_id(12) for _ in range(10_000)}) == 10_000


def test_every_digit_varies() -> None:
    # No fixed digit (as uuid4's version digit would be at position 12 of 32).
    seen = [set() for _ in range(32)]
    for _ in range(2_000):
        for position, digit in enumerate(random_id()):
            seen[position].add(digit)
    assert all(len(digits) == 16 for digits in seen)


def test_no_empty_id() -> None:
    with pytest.raises(ValueError, match="at least one digit"):
        random_id(0)


def test_a_disabled_heartbeat_makes_no_run_uuid() -> None:
    assert Heartbeat(None).run_id == ""
    assert Heartbeat("https://hc-ping.example/abc", dry_run=True).run_id == ""
