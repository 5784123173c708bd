"""Steps as data: an `Action` and its place in a chain, encoded as JSON for the ledger.

A chain is written before its first non-idempotent write, so a later run can finish it from
the ledger alone: every field of every step is kept, with `Ref`s to earlier results spelled
``{"$ref": [step, field]}``. Findings keep what the decision log and the records need.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from jobs.model import (
    ALERT_CHANNEL,
    Action,
    ActionKind,
    Finding,
    LinkSpec,
    Notice,
    RecordChange,
    RecordKey,
    Ref,
    Severity,
    Upload,
)

PENDING = "pending"
INFLIGHT = "inflight"
"""Attempted; whether it happened is not known yet (a timeout, a kill)."""
DONE = "done"
FAILED = "failed"


@dataclass
class Step:
    """One action of a chain, and how far it got."""

    action: Action
    status: str = PENDING
    result: dict[str, Any] = field(default_factory=dict)
    attempted_at: str | None = None
    """Wall-clock instant (ISO) of the last attempt: how long ago a write may have landed."""
    attempted_now: str | None = None
    """The run's ``now`` (ISO) at the last attempt: the same instant in the desk's time."""
    attempts: int = 0
    error: str | None = None
    applied: bool = False
    """Its records were updated after it was done (a run killed in between leaves False, and
    the run that resumes the chain updates them)."""
    changes: int = field(default=0, init=False, repr=False, compare=False)
    """How many times a field was set since the step was made: a chain, saved before and
    after each of its steps, encodes again only the steps whose count moved
    (`jobs.pipeline.run.ChainRun.to_ledger`). A result is replaced, never changed in place."""

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name != "changes":
            object.__setattr__(self, "changes", self.__dict__.get("changes", 0) + 1)


class UnresolvedRef(ValueError):
    pass


def _value(v: Any, results: list[dict[str, Any]], alert_channel: str = "") -> Any:
    if v == ALERT_CHANNEL and alert_channel:
        return alert_channel
    if not isinstance(v, Ref):
        return v
    if v.step >= len(results) or v.field not in results[v.step]:
        raise UnresolvedRef(f"step {v.step + 1} returned no {v.field!r}")
    return results[v.step][v.field]


def resolve_records(
    changes: tuple[RecordChange, ...], results: list[dict[str, Any]]
) -> tuple[RecordChange, ...]:
    """A step's record changes with their `Ref`s filled in, once the step (and every step they
    refer to) has returned."""
    return tuple(
        replace(c, store={k: _value(v, results) for k, v in c.store.items()}) for c in changes
    )


def resolve(action: Action, results: list[dict[str, Any]], alert_channel: str = "") -> Action:
    """``action`` ready to send: every `Ref` replaced by the value the earlier step returned,
    the alert channel placeholder by the channel configured now. Its record changes keep
    their references (they may name this step's own result; see `resolve_records`)."""

    def value(v: Any) -> Any:
        return _value(v, results, alert_channel)

    link = action.link
    text = action.text
    for name, ref in action.text_refs.items():
        text = text.replace("{" + name + "}", str(value(ref)))
    return replace(
        action,
        text=text,
        text_refs={},
        target=value(action.target),
        thread_ts=value(action.thread_ts),
        ts=value(action.ts),
        link=(
            LinkSpec(value(link.inward_key), value(link.outward_key), link.link_type)
            if link
            else None
        ),
        then=(),
        otherwise=(),
    )


# -- encoding ----------------------------------------------------------------------------------


def _enc(value: Any) -> Any:
    if isinstance(value, Ref):
        return {"$ref": [value.step, value.field]}
    if isinstance(value, Mapping):
        return {str(k): _enc(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_enc(v) for v in value]
    return value


def _dec(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$ref"}:
            step, name = value["$ref"]
            return Ref(int(step), str(name))
        return {k: _dec(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dec(v) for v in value]
    return value


def encode_finding(f: Finding) -> dict[str, Any]:
    return {
        "job": f.job,
        "rule": f.rule,
        "item": f.item,
        "severity": str(f.severity),
        "summary": f.summary,
        "facts": dict(f.facts),
        "episode": f.episode,
        "url": f.url,
        "priority": f.priority,
        "realert": None if f.realert is None else f.realert.total_seconds(),
        "alert": f.alert,
        "reopens": f.reopens,
    }


def decode_finding(d: Mapping[str, Any]) -> Finding:
    realert = d.get("realert")
    return Finding(
        job=str(d["job"]),
        rule=str(d["rule"]),
        item=str(d["item"]),
        severity=Severity(d["severity"]),
        summary=str(d.get("summary") or ""),
        facts=dict(d.get("facts") or {}),
        episode=str(d.get("episode") or ""),
        url=d.get("url"),
        priority=bool(d.get("priority")),
        realert=None if realert is None else timedelta(seconds=float(realert)),
        alert=str(d.get("alert") or ""),
        reopens=bool(d.get("reopens")),
    )


def _key(k: RecordKey) -> dict[str, str]:
    return {"job": k.job, "alert": k.alert, "item": k.item, "episode": k.episode}


def encode_action(a: Action) -> dict[str, Any]:
    """Every field of one step (``then`` and ``otherwise`` belong to the chain, not the step)."""
    return {
        "kind": str(a.kind),
        "target": _enc(a.target),
        "findings": [encode_finding(f) for f in a.findings],
        "text": a.text,
        "blocks": a.blocks,
        "marker": a.marker,
        "thread_ts": _enc(a.thread_ts),
        "broadcast": a.broadcast,
        "ts": _enc(a.ts),
        "to_status": a.to_status,
        "link": (
            None
            if a.link is None
            else {
                "inward_key": _enc(a.link.inward_key),
                "outward_key": _enc(a.link.outward_key),
                "link_type": a.link.link_type,
            }
        ),
        "fields": _enc(a.fields) if a.fields is not None else None,
        "add_labels": list(a.add_labels),
        "priority": a.priority,
        "upload": (
            None
            if a.upload is None
            else {
                "content": base64.b64encode(a.upload.content).decode("ascii"),
                "filename": a.upload.filename,
                "title": a.upload.title,
            }
        ),
        "trace_label": a.trace_label,
        "notice": None
        if a.notice is None
        else {"title": a.notice.title, "footer": a.notice.footer},
        "text_refs": {name: _enc(ref) for name, ref in a.text_refs.items()},
        "notifies": a.notifies,
        "records": [
            {
                "key": _key(c.key),
                "store": _enc(c.store),
                "close": c.close,
                "reopen": c.reopen,
            }
            for c in a.records
        ],
    }


def decode_action(d: Mapping[str, Any]) -> Action:
    link = d.get("link")
    upload = d.get("upload")
    notice = d.get("notice")
    return Action(
        kind=ActionKind(d["kind"]),
        target=_dec(d["target"]),
        findings=[decode_finding(f) for f in d.get("findings") or []],
        text=str(d.get("text") or ""),
        blocks=d.get("blocks"),
        marker=d.get("marker"),
        thread_ts=_dec(d.get("thread_ts")),
        broadcast=bool(d.get("broadcast")),
        ts=_dec(d.get("ts")),
        to_status=d.get("to_status"),
        link=(
            None
            if link is None
            else LinkSpec(_dec(link["inward_key"]), _dec(link["outward_key"]), link["link_type"])
        ),
        fields=_dec(d.get("fields")),
        add_labels=tuple(d.get("add_labels") or ()),
        priority=d.get("priority"),
        upload=(
            None
            if upload is None
            else Upload(base64.b64decode(upload["content"]), upload["filename"], upload["title"])
        ),
        trace_label=d.get("trace_label"),
        notice=None if notice is None else Notice(notice["title"], notice.get("footer") or ""),
        text_refs={name: _dec(ref) for name, ref in (d.get("text_refs") or {}).items()},
        notifies=bool(d.get("notifies", True)),
        records=tuple(
            RecordChange(
                key=RecordKey(**c["key"]),
                store=_dec(c.get("store") or {}),
                close=bool(c.get("close")),
                reopen=bool(c.get("reopen")),
            )
            for c in d.get("records") or []
        ),
    )


def encode_step(step: Step, action: dict[str, Any] | None = None) -> dict[str, Any]:
    """``action``: the step's action already encoded (a chain saved again reuses it)."""
    return {
        "action": encode_action(step.action) if action is None else action,
        "status": step.status,
        "result": step.result,
        "attempted_at": step.attempted_at,
        "attempted_now": step.attempted_now,
        "attempts": step.attempts,
        "error": step.error,
        "applied": step.applied,
    }


def decode_step(d: Mapping[str, Any]) -> Step:
    return Step(
        action=decode_action(d["action"]),
        status=str(d.get("status") or PENDING),
        result=dict(d.get("result") or {}),
        attempted_at=d.get("attempted_at"),
        attempted_now=d.get("attempted_now"),
        attempts=int(d.get("attempts") or 0),
        error=d.get("error"),
        applied=bool(d.get("applied")),
    )
