"""Executors: one small function per action kind, the only code that changes the outside world.

The pipeline talks to the outside through an `Executor`: `LiveExecutor` sends with the
adapters; the pipeline's tests use a fake one. Besides sending, an executor reads what a
step's proof needs: tickets as they are now, and issues created with a trace label.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from jobs.model import Action, ActionKind, Ref, Ticket
from jobs.render.slack import as_shown, blocks_as_shown

if TYPE_CHECKING:
    from jobs.context import RunContext

PROOF_FIELDS = ("comment", "issuelinks", "labels", "priority", "status")
"""What a proof may look at on a ticket: comments (markers), links, labels, priority, status."""
KEYS_PER_SEARCH = 100


class Executor(Protocol):
    def execute(self, action: Action) -> dict[str, Any]:
        """Send ``action`` (its `Ref`s already resolved); what it returned (ts, key, ...)."""
        ...

    def read(self, keys: Sequence[str]) -> dict[str, Ticket]:
        """The tickets as they are now, with every comment; a key Jira does not return is
        missing from the answer."""
        ...

    def created(self, project: str, labels: Sequence[str]) -> dict[str, str]:
        """Issues of ``project`` carrying one of ``labels``: label -> the oldest such key."""
        ...


def _text(value: str | Ref | None) -> str | None:
    if isinstance(value, Ref):
        raise ValueError(f"unresolved reference to step {value.step}'s {value.field!r}")
    return value


class LiveExecutor:
    """Sends through the run's Jira and Slack adapters."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def execute(self, action: Action) -> dict[str, Any]:
        return _EXECUTORS[action.kind](self.ctx, action)

    def read(self, keys: Sequence[str]) -> dict[str, Ticket]:
        from jobs.adapters.http import PermanentError
        from jobs.jql import key_batches

        found: dict[str, Ticket] = {}
        wanted = sorted(set(keys))
        for start in range(0, len(wanted), KEYS_PER_SEARCH):
            chunk = wanted[start : start + KEYS_PER_SEARCH]
            try:
                found.update(self._search(key_batches(chunk, KEYS_PER_SEARCH)[0]))
            except PermanentError:
                # Jira refuses a whole `key in (...)` when one key no longer exists (deleted,
                # or moved out of sight): read the others one by one, and leave that one out.
                for key in chunk:
                    try:
                        found.update(self._search(key_batches([key])[0]))
                    except PermanentError:
                        continue
        return found

    def _search(self, jql: str) -> dict[str, Ticket]:
        jira = self.ctx.jira
        found = jira.search(jql, list(PROOF_FIELDS), page_size=KEYS_PER_SEARCH)
        return {t.key: t for t in jira.with_all_comments_as_read(found)}

    def created(self, project: str, labels: Sequence[str]) -> dict[str, str]:
        from jobs.jql import jql_list, jql_quote

        found: dict[str, str] = {}
        wanted = {label.casefold(): label for label in labels}
        unique = sorted(set(labels))
        for start in range(0, len(unique), KEYS_PER_SEARCH):
            chunk = jql_list(unique[start : start + KEYS_PER_SEARCH])
            jql = f"project = {jql_quote(project)} AND labels in ({chunk}) ORDER BY created ASC"
            for ticket in self.ctx.jira.search(jql, ["labels"]):
                for label in ticket.labels:
                    original = wanted.get(label.casefold())
                    if original is not None:
                        found.setdefault(original, ticket.key)
        return found


def _slack_post(ctx: RunContext, action: Action) -> dict[str, Any]:
    ref = ctx.slack.post(
        str(_text(action.target)),
        action.text,
        action.blocks,
        thread_ts=_text(action.thread_ts),
        broadcast=action.broadcast,
    )
    return {"channel": ref.channel, "ts": ref.ts}


def _slack_update(ctx: RunContext, action: Action) -> dict[str, Any]:
    from jobs.adapters.slack import MessageRef

    ref = ctx.slack.update(
        MessageRef(str(_text(action.target)), str(_text(action.ts))), action.text, action.blocks
    )
    return {"channel": ref.channel, "ts": ref.ts}


def _slack_dm(ctx: RunContext, action: Action) -> dict[str, Any]:
    ref = ctx.slack.dm(str(_text(action.target)), action.text, action.blocks)
    return {"channel": ref.channel, "ts": ref.ts}


def _slack_file(ctx: RunContext, action: Action) -> dict[str, Any]:
    upload = action.upload
    assert upload is not None  # checked when the action was made
    ctx.slack.upload_file(
        str(_text(action.target)),
        upload.content,
        upload.filename,
        upload.title,
        initial_comment=action.text,
        thread_ts=_text(action.thread_ts),
    )
    return {}


def _comment(ctx: RunContext, action: Action) -> dict[str, Any]:
    key = str(_text(action.target))
    if action.kind is ActionKind.JIRA_PUBLIC_COMMENT:
        comment = ctx.jira.add_public_comment(key, action.text)
    else:
        comment = ctx.jira.add_internal_comment(key, action.text)
    return {"comment_id": comment.id}


def _transition(ctx: RunContext, action: Action) -> dict[str, Any]:
    assert action.to_status is not None
    ctx.jira.transition(str(_text(action.target)), action.to_status)
    return {}


def _link(ctx: RunContext, action: Action) -> dict[str, Any]:
    link = action.link
    assert link is not None
    ctx.jira.link(
        inward_key=str(_text(link.inward_key)),
        outward_key=str(_text(link.outward_key)),
        link_type=link.link_type,
    )
    return {}


def _create(ctx: RunContext, action: Action) -> dict[str, Any]:
    assert action.fields is not None and action.trace_label is not None
    fields = dict(action.fields)
    labels = [str(label) for label in fields.get("labels") or []]
    if action.trace_label not in labels:
        fields["labels"] = [*labels, action.trace_label]
    return {"key": ctx.jira.create_issue({"project": _text(action.target), **fields})}


def _edit(ctx: RunContext, action: Action) -> dict[str, Any]:
    key = str(_text(action.target))
    if action.fields:
        ctx.jira.edit(key, action.fields)
    if action.add_labels:
        ctx.jira.add_labels(key, list(action.add_labels))
    if action.priority:
        ctx.jira.set_priority(key, action.priority)
    return {}


_EXECUTORS: dict[ActionKind, Callable[[RunContext, Action], dict[str, Any]]] = {
    ActionKind.SLACK_POST: _slack_post,
    ActionKind.SLACK_THREAD_REPLY: _slack_post,
    ActionKind.SLACK_NOTICE: _slack_post,
    ActionKind.SLACK_UPDATE: _slack_update,
    ActionKind.SLACK_DM: _slack_dm,
    ActionKind.SLACK_FILE: _slack_file,
    ActionKind.JIRA_PUBLIC_COMMENT: _comment,
    ActionKind.JIRA_INTERNAL_COMMENT: _comment,
    ActionKind.JIRA_TRANSITION: _transition,
    ActionKind.JIRA_LINK: _link,
    ActionKind.JIRA_CREATE: _create,
    ActionKind.JIRA_EDIT: _edit,
}


def describe(action: Action, *, step: int = 0) -> str:
    """What ``--dry-run`` prints: the destination and the full text that would be sent."""
    target = _shown(action.target)
    head = f"[{action.kind}] -> {target}" if step == 0 else f"  then [{action.kind}] -> {target}"
    if action.items:
        head += f"  (items: {', '.join(action.items)})"
    details = {
        "thread_ts": _shown(action.thread_ts) if action.thread_ts else None,
        "broadcast": action.broadcast or None,
        "ts": _shown(action.ts) if action.ts else None,
        "to_status": action.to_status,
        "link": (
            f"{_shown(action.link.inward_key)} {action.link.link_type} "
            f"{_shown(action.link.outward_key)}"
            if action.link
            else None
        ),
        "fields": dict(action.fields) if action.fields else None,
        "add_labels": list(action.add_labels) or None,
        "priority": action.priority,
        "filename": action.upload.filename if action.upload else None,
        "notice": action.notice.title if action.notice else None,
    }
    lines = [head]
    shown = {k: v for k, v in details.items() if v is not None}
    if shown:
        lines.append("  " + ", ".join(f"{k}={v}" for k, v in sorted(shown.items())))
    if action.kind.is_jira:
        lines.extend("  | " + line for line in action.text.splitlines())
        return "\n".join(lines)
    # A Slack message as people will see it: the notification, then the message itself.
    if action.text:
        first, *rest = as_shown(action.text).splitlines() or [""]
        lines.append(f"  notification: {first}" + (f" (+{len(rest)} lines)" if rest else ""))
    body = blocks_as_shown(action.blocks) if action.blocks else as_shown(action.text).splitlines()
    lines.extend("  | " + line for line in body)
    return "\n".join(lines)


def payload(action: Action) -> dict[str, Any]:
    """The request ``--dry-run --json`` prints: the API method and the exact arguments."""
    target = _shown(action.target)
    if action.kind is ActionKind.SLACK_UPDATE:
        return {
            "method": "chat.update",
            "channel": target,
            "ts": _shown(action.ts),
            "text": action.text,
            "blocks": action.blocks,
        }
    if action.kind is ActionKind.SLACK_DM:
        return {"method": "chat.postMessage", "user": target, "text": action.text,
                "blocks": action.blocks}  # fmt: skip
    if action.kind is ActionKind.SLACK_FILE:
        assert action.upload is not None
        return {
            "method": "files.completeUploadExternal",
            "channel_id": target,
            "thread_ts": _shown(action.thread_ts) if action.thread_ts else None,
            "filename": action.upload.filename,
            "title": action.upload.title,
            "initial_comment": action.text,
            "bytes": len(action.upload.content),
        }
    if not action.kind.is_jira:
        post: dict[str, Any] = {
            "method": "chat.postMessage",
            "channel": target,
            "text": action.text,
            "blocks": action.blocks,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if action.thread_ts:
            post["thread_ts"] = _shown(action.thread_ts)
            if action.broadcast:
                post["reply_broadcast"] = True
        return post
    if action.kind is ActionKind.JIRA_PUBLIC_COMMENT:
        return {"method": "POST", "path": f"/rest/servicedeskapi/request/{target}/comment",
                "body": {"body": action.text, "public": True}}  # fmt: skip
    if action.kind is ActionKind.JIRA_INTERNAL_COMMENT:
        return {"method": "POST", "path": f"/issue/{target}/comment (internal)",
                "body": {"body": action.text}}  # fmt: skip
    if action.kind is ActionKind.JIRA_TRANSITION:
        return {"method": "POST", "path": f"/rest/api/2/issue/{target}/transitions",
                "to_status": action.to_status}  # fmt: skip
    if action.kind is ActionKind.JIRA_LINK:
        assert action.link is not None
        return {
            "method": "POST",
            "path": "/rest/api/2/issueLink",
            "body": {
                "type": {"name": action.link.link_type},
                "inwardIssue": {"key": _shown(action.link.inward_key)},
                "outwardIssue": {"key": _shown(action.link.outward_key)},
            },
        }
    if action.kind is ActionKind.JIRA_CREATE:
        return {"method": "POST", "path": "/rest/api/2/issue",
                "fields": {"project": target, **dict(action.fields or {}),
                           "labels": [action.trace_label]}}  # fmt: skip
    return {
        "method": "PUT",
        "path": f"/rest/api/2/issue/{target}",
        "fields": dict(action.fields or {}),
        "add_labels": list(action.add_labels),
        "priority": action.priority,
    }


def dry_run_result(action: Action, step: int) -> dict[str, Any]:
    """What a dry run pretends a step returned, named so the steps after it read well."""
    return {
        "dry_run": True,
        "channel": _shown(action.target),
        "ts": f"<ts of step {step + 1}>",
        "key": f"(the issue step {step + 1} creates)",
        "comment_id": f"<comment of step {step + 1}>",
    }


def _shown(value: str | Ref | None) -> str:
    if isinstance(value, Ref):
        return f"<{value.field} of step {value.step + 1}>"
    return str(value)
