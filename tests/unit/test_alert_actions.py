"""The buttons on alerts: Block Kit's limits hold for any item, and a click reads back only
what the builders made."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulators.slack import _blocks as slack_checks
from jobs.render.actions import (
    FEW,
    MAX_BLOCKS,
    PICKED,
    ActionItem,
    BadAction,
    NothingPicked,
    Verb,
    alert_actions,
    block_id_for,
    decode,
    item_buttons,
    item_digest,
    item_menu,
    picker,
    with_actions,
    with_note,
)

JOB = "unassigned_first_response"
URL = "https://everbright.atlassian.net/browse/"


def ticket(n: int, *, assignable: bool = True) -> ActionItem:
    return ActionItem(JOB, f"SS-{n}", f"SS-{n}", URL + f"SS-{n}", assignable=assignable)


def account(name: str) -> ActionItem:
    return ActionItem("onboarding_missing_ticket", f"sheet:{name.lower()}", name)


def slack_accepts(blocks: list[dict[str, Any]]) -> None:
    parsed, problem = slack_checks(json.dumps(blocks))
    assert problem is None, problem.body if problem else None
    assert parsed is not None


def click(element: dict[str, Any], block: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The ``actions[0]`` Slack sends for a click on ``element`` of ``block``."""
    action = {k: v for k, v in element.items() if k in ("action_id", "value", "type")}
    return {**action, "block_id": block["block_id"], **extra}


def test_one_ticket_gets_the_five_buttons() -> None:
    [block] = alert_actions([ticket(121)])

    labels = [e["text"]["text"] for e in block["elements"]]
    assert labels == ["Open in Jira", "Assign to me", "Snooze 4 h", "Snooze 1 day", "Why?"]
    assert block["elements"][0]["url"] == URL + "SS-121"
    assert block["block_id"] == block_id_for(JOB, "SS-121")
    slack_accepts([block])


def test_assign_is_offered_only_where_the_flag_says() -> None:
    [block] = alert_actions([ticket(121, assignable=False)])

    assert "Assign to me" not in [e["text"]["text"] for e in block["elements"]]


def test_a_sheet_account_has_no_jira_link() -> None:
    [block] = alert_actions([account("Canyon Creek Roofing")])

    assert [e["text"]["text"] for e in block["elements"]] == ["Snooze 4 h", "Snooze 1 day", "Why?"]


def test_a_few_items_each_get_a_line_with_a_menu() -> None:
    items = [ticket(n) for n in range(101, 101 + FEW)]

    blocks = alert_actions(items)

    assert len(blocks) == FEW
    assert all(b["type"] == "section" and b["accessory"]["type"] == "overflow" for b in blocks)
    assert len({b["block_id"] for b in blocks}) == FEW
    slack_accepts(blocks)


def test_many_items_share_a_ticket_picker_beside_the_buttons() -> None:
    items = [ticket(n) for n in range(1, 26)]

    [block] = alert_actions(items)

    select, *buttons = block["elements"]
    assert select["type"] == "static_select" and len(select["options"]) == 25
    assert [b["value"] for b in buttons] == [PICKED] * 4
    slack_accepts([block])


def test_a_picker_splits_past_100_options_and_25_elements() -> None:
    items = [ticket(n) for n in range(1, 2300)]

    blocks = picker(items)

    assert len(blocks) == 2
    for block in blocks:
        assert len(block["elements"]) <= 25
        assert all(len(e.get("options", [])) <= 100 for e in block["elements"])
    assert sum(len(e.get("options", [])) for b in blocks for e in b["elements"]) == 2299
    slack_accepts(blocks)


def test_per_item_blocks_that_would_not_fit_become_a_picker() -> None:
    message = [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 47

    blocks = with_actions(message, [ticket(n) for n in range(1, 5)])

    assert len(blocks) == 48 and blocks[-1]["block_id"] == "sla.picker"
    assert with_actions(message * 2, [ticket(1)])[-1]["type"] == "section"  # no room at all


def test_duplicate_items_get_one_block() -> None:
    assert len(alert_actions([ticket(1), ticket(1)])) == 1


def test_a_button_click_reads_back_job_and_item() -> None:
    [block] = alert_actions([ticket(121)])
    snooze = block["elements"][2]

    pressed = decode(click(snooze, block))

    assert (pressed.verb, pressed.job, pressed.ref) == (Verb.SNOOZE_SHORT, JOB, "SS-121")
    assert pressed.names("SS-121") and not pressed.names("SS-12")


def test_a_menu_choice_reads_back() -> None:
    [block] = alert_actions([ticket(1), account("Canyon Creek Roofing")])[1:]
    menu = block["accessory"]
    why = next(o for o in menu["options"] if o["text"]["text"] == "Why?")

    pressed = decode({**click(menu, block), "selected_option": why})

    assert (pressed.verb, pressed.job) == (Verb.WHY, "onboarding_missing_ticket")
    assert pressed.names("sheet:canyon creek roofing")


def test_a_picker_button_acts_on_the_ticket_picked() -> None:
    [block] = alert_actions([ticket(n) for n in range(1, 10)])
    select, assign = block["elements"][:2]
    state = {
        "values": {
            block["block_id"]: {
                select["action_id"]: {
                    "type": "static_select",
                    "selected_option": select["options"][3],
                }
            }
        }
    }

    pressed = decode(click(assign, block), state)

    assert (pressed.verb, pressed.ref) == (Verb.ASSIGN, "SS-4")
    with pytest.raises(NothingPicked):
        decode(click(assign, block), {"values": {}})


def test_a_long_item_travels_as_a_digest_the_ledger_resolves() -> None:
    name = "&" * 9000
    item = ActionItem("onboarding_missing_ticket", f"sheet:{name}", name)
    [block] = alert_actions([item])

    for element in block["elements"]:
        assert len(element["value"]) <= 150
    pressed = decode(click(block["elements"][0], block))

    assert pressed.is_digest and pressed.names(item.item)
    assert pressed.ref == "#" + item_digest(item.job, item.item)
    slack_accepts([block])


@pytest.mark.parametrize(
    "action",
    [
        {"action_id": "other.app", "value": f"{JOB}|SS-1"},
        {"action_id": "sla.snooze_4h", "value": "SS-1"},
        {"action_id": "sla.snooze_4h", "value": "Bad Job|SS-1"},
        {"action_id": "sla.snooze_4h", "value": f"{JOB}|"},
        {"action_id": "sla.snooze_4h", "value": f"{JOB}|#nothex"},
        {"action_id": "sla.snooze_4h", "value": f"{JOB}|SS-1\n"},
        {"action_id": "sla.delete_all", "value": f"{JOB}|SS-1"},
        {"action_id": "sla.snooze_4h.x", "value": f"{JOB}|SS-1"},
        {"action_id": "sla.menu", "selected_option": {"value": f"nuke|{JOB}|SS-1"}},
        {"action_id": "sla.menu", "selected_option": {"value": "x" * 151}},
        {"action_id": "sla.snooze_4h", "value": f"{JOB}|" + "x" * 300},
        {"action_id": "sla.snooze_4h"},
        "not an object",
    ],
)
def test_anything_the_builders_did_not_make_is_refused(action: Any) -> None:
    with pytest.raises(BadAction):
        decode(action)


@given(
    job=st.from_regex(r"[a-z][a-z0-9_]{0,40}", fullmatch=True),
    item=st.text(min_size=1, max_size=400).filter(lambda s: s.strip() == s and s.isprintable()),
    label=st.text(max_size=300),
    assignable=st.booleans(),
)
def test_any_item_stays_within_the_limits_and_reads_back(
    job: str, item: str, label: str, assignable: bool
) -> None:
    entry = ActionItem(job, item, label or item, URL + "X-1", assignable=assignable)
    for block in (item_buttons(entry), item_menu(entry), *picker([entry])):
        slack_accepts([block])
        elements = block.get("elements") or [block["accessory"]]
        for element in elements:
            assert len(element["action_id"]) <= 255
            for option in element.get("options", []):
                pressed = decode({**click(element, block), "selected_option": option})
                assert pressed.job == job and pressed.names(item)
            if "value" in element and element["value"] != PICKED:
                pressed = decode(click(element, block))
                assert pressed.job == job and pressed.names(item)


def test_a_note_goes_under_the_items_own_block_and_replaces_the_last_one() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "line"}}]
    blocks += alert_actions([ticket(121)])

    once = with_note(blocks, JOB, "SS-121", "snoozed by @maya until 14:00")
    twice = with_note(once or [], JOB, "SS-121", "assigned to Maya Patel by Slack")

    assert once is not None and twice is not None
    assert len(twice) == 3
    assert twice[2]["elements"][0]["text"] == "assigned to Maya Patel by Slack"
    slack_accepts(twice)


def test_a_note_for_a_picked_ticket_goes_into_one_notes_line() -> None:
    blocks = alert_actions([ticket(n) for n in range(1, 10)])

    blocks = with_note(blocks, JOB, "SS-3", "snoozed") or []
    blocks = with_note(blocks, JOB, "SS-4", "assigned") or []
    blocks = with_note(blocks, JOB, "SS-3", "snoozed again") or []

    notes = blocks[-1]["elements"]
    assert [n["text"] for n in notes] == ["SS-3: snoozed again", "SS-4: assigned"]
    slack_accepts(blocks)


def test_no_note_when_the_message_is_full() -> None:
    full = [{"type": "divider"}] * MAX_BLOCKS

    assert with_note(full, JOB, "SS-1", "x") is None


def test_ticket_text_in_a_label_is_escaped() -> None:
    item = ActionItem(JOB, "sheet:x", "<!channel> & <https://evil|Jira>")

    block = item_menu(item)

    assert "<!channel>" not in block["text"]["text"]
    assert "&lt;!channel&gt; &amp;" in block["text"]["text"]
