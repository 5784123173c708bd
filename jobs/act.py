"""Executors: one small function per action kind, the only code that changes the outside world."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jobs.context import RunContext
from jobs.model import Action, ActionKind

Executor = Callable[[RunContext, Action], dict[str, Any]]


def _slack_post(ctx: RunContext, action: Action) -> dict[str, Any]:
    ref = ctx.slack.post(
        action.target, action.text, action.blocks, thread_ts=action.payload.get("thread_ts")
    )
    return {"channel": ref.channel, "ts": ref.ts}


def _slack_update(ctx: RunContext, action: Action) -> dict[str, Any]:
    from jobs.adapters.slack import MessageRef

    ref = ctx.slack.update(
        MessageRef(action.payload["channel"], action.payload["ts"]), action.text, action.blocks
    )
    return {"channel": ref.channel, "ts": ref.ts}


def _slack_dm(ctx: RunContext, action: Action) -> dict[str, Any]:
    ref = ctx.slack.dm(action.target, action.text, action.blocks)
    return {"channel": ref.channel, "ts": ref.ts}


def _slack_file(ctx: RunContext, action: Action) -> dict[str, Any]:
    ctx.slack.upload_file(
        action.target,
        action.payload["content"],
        action.payload["filename"],
        action.payload.get("title", action.payload["filename"]),
        initial_comment=action.text,
    )
    return {}


def _public_comment(ctx: RunContext, action: Action) -> dict[str, Any]:
    comment = ctx.jira.add_public_comment(action.target, action.text)
    return {"comment_id": comment.id}


def _internal_comment(ctx: RunContext, action: Action) -> dict[str, Any]:
    comment = ctx.jira.add_internal_comment(action.target, action.text)
    return {"comment_id": comment.id}


def _transition(ctx: RunContext, action: Action) -> dict[str, Any]:
    ctx.jira.transition(action.target, action.payload["to_status"])
    return {}


def _link(ctx: RunContext, action: Action) -> dict[str, Any]:
    ctx.jira.link(
        inward_key=action.payload["inward_key"],
        outward_key=action.payload["outward_key"],
        link_type=action.payload["link_type"],
    )
    return {}


def _create(ctx: RunContext, action: Action) -> dict[str, Any]:
    key = ctx.jira.create_issue(action.payload["fields"])
    return {"key": key}


def _edit(ctx: RunContext, action: Action) -> dict[str, Any]:
    fields = action.payload.get("fields") or {}
    if fields:
        ctx.jira.edit(action.target, fields)
    if action.payload.get("add_labels"):
        ctx.jira.add_labels(action.target, action.payload["add_labels"])
    if action.payload.get("priority"):
        ctx.jira.set_priority(action.target, action.payload["priority"])
    return {}


EXECUTORS: dict[ActionKind, Executor] = {
    ActionKind.SLACK_POST: _slack_post,
    ActionKind.SLACK_THREAD_REPLY: _slack_post,
    ActionKind.SLACK_UPDATE: _slack_update,
    ActionKind.SLACK_DM: _slack_dm,
    ActionKind.SLACK_FILE: _slack_file,
    ActionKind.JIRA_PUBLIC_COMMENT: _public_comment,
    ActionKind.JIRA_INTERNAL_COMMENT: _internal_comment,
    ActionKind.JIRA_TRANSITION: _transition,
    ActionKind.JIRA_LINK: _link,
    ActionKind.JIRA_CREATE: _create,
    ActionKind.JIRA_EDIT: _edit,
}


def execute(ctx: RunContext, action: Action) -> dict[str, Any]:
    return EXECUTORS[action.kind](ctx, action)


def describe(action: Action) -> str:
    """What ``--dry-run`` prints: the destination and the full text that would be sent."""
    head = f"[{action.kind}] -> {action.target}"
    if action.items:
        head += f"  (items: {', '.join(action.items)})"
    details = {k: v for k, v in action.payload.items() if k not in ("content",)}
    lines = [head]
    if details:
        lines.append("  " + ", ".join(f"{k}={v}" for k, v in sorted(details.items())))
    if action.text:
        lines.extend("  | " + line for line in action.text.splitlines())
    return "\n".join(lines)
