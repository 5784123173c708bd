"""Transitions and issue links."""

from __future__ import annotations

import re
from typing import Any

from emulators.adf import rich_text
from emulators.base import Request, Response
from emulators.jira.model import (
    INVALID_PAYLOAD,
    HttpError,
    IssueState,
)

LINK_BODY_KEYS = frozenset({"type", "inwardIssue", "outwardIssue", "comment"})


class WorkflowEndpoints:
    """Transitions and issue links."""

    ROUTES = (
        ("GET", r"{api}/issue/([^/]+)/transitions", "_get_transitions"),
        ("POST", r"{api}/issue/([^/]+)/transitions", "_do_transition"),
        ("POST", r"{api}/issueLink", "_post_link"),
    )

    def _available_transitions(self, issue: IssueState) -> list[dict[str, Any]]:
        project = self._projects[issue.project]
        return [
            t
            for t in project["transitions"]
            if not t["from"] or issue.status.casefold() in (s.casefold() for s in t["from"])
        ]

    def _get_transitions(self, request: Request, m: re.Match[str]) -> Response:
        version = "3" if m.group(1) == "3" else "2"
        issue = self._get(m.group(2))
        wanted = request.arg("transitionId")
        out = []
        for t in self._available_transitions(issue):
            if wanted and t["id"] != wanted:
                continue
            out.append(
                {
                    "id": t["id"],
                    "name": t["name"],
                    "to": self._status_json(issue.project, t["to"], version),
                    "hasScreen": False,
                    "isGlobal": not t["from"],
                    "isInitial": False,
                    "isAvailable": True,
                    "isConditional": False,
                    "looped": False,
                }
            )
        return Response(200, {"expand": "transitions", "transitions": out})

    def _do_transition(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._get(m.group(2))
        body = self._payload(request)
        ref = (
            (body.get("transition") or {}).get("id")
            if isinstance(body.get("transition"), dict)
            else None
        )
        if not isinstance(ref, str):
            # IssueTransition.id is a string in the spec; a number is not taken as one here.
            raise HttpError(400, ['Transition id must be given as a string, e.g. "11".'])
        transition = next(
            (t for t in self._available_transitions(issue) if str(ref) == t["id"]), None
        )
        if transition is None:
            raise HttpError(400, [f"Transition id '{ref}' is not valid for this issue."])
        version = "3" if m.group(1) == "3" else "2"
        items = self._apply_fields(
            issue, body.get("fields") or {}, body.get("update") or {}, version, record=False
        )
        before = {fid: self._snapshot(issue, fid) for fid in ("status", "resolution")}
        was_done = self._category(issue.project, issue.status) == "done"
        issue.status = transition["to"]
        now = self.now()
        is_done = self._category(issue.project, issue.status) == "done"
        if is_done and not was_done:
            issue.resolved = now
        elif was_done and not is_done:
            issue.resolved = None
        after = {fid: self._snapshot(issue, fid) for fid in before}
        self._record_history(issue, [*items, *self._changes(issue, before, after)])
        issue.updated = now
        return Response(204)

    def _post_link(self, request: Request, m: re.Match[str]) -> Response:
        body = self._payload(request)
        unknown = sorted(set(body) - LINK_BODY_KEYS)
        if unknown:
            # LinkIssueRequestJsonBean takes nothing else (additionalProperties: false).
            raise HttpError(400, [f"{INVALID_PAYLOAD} Unrecognized field(s): {', '.join(unknown)}"])
        ref = body.get("type") or {}
        name = ref.get("name") or ref.get("id") if isinstance(ref, dict) else None
        found = next(
            (
                t["name"]
                for t in self._link_types
                if name is not None
                and str(name).casefold()
                in (t["name"].casefold(), self._link_type_json(t["name"], "2")["id"])
            ),
            None,
        )
        if found is None:
            raise HttpError(404, [f"No issue link type with name '{name}' found."])
        keys = []
        for side in ("inwardIssue", "outwardIssue"):
            issue_ref = body.get(side) or {}
            issue_key = (
                issue_ref.get("key") or issue_ref.get("id") if isinstance(issue_ref, dict) else None
            )
            if not issue_key:
                raise HttpError(400, [f"{side} is required."])
            keys.append(self._get(str(issue_key)).key)
        comment = body.get("comment")
        text = None
        if isinstance(comment, dict) and comment.get("body") is not None:
            try:
                text = rich_text(comment["body"], "3" if m.group(1) == "3" else "2")
            except ValueError as exc:
                raise HttpError(400, [], {"comment": str(exc)}) from None
        # Jira makes the POSTed inwardIssue the link's source: it reads the outward phrase.
        self._add_link(found, keys[0], keys[1])
        link_type = next(t for t in self._link_types if t["name"] == found)
        for here, there, phrase in (
            (keys[0], keys[1], link_type["outward"]),
            (keys[1], keys[0], link_type["inward"]),
        ):
            item = {
                "field": "Link",
                "fieldtype": "jira",
                "to": there,
                "toString": f"This issue {phrase} {there}",
            }
            self._record_history(self._issues[here], [item])
        if text:
            self._add_comment(self._issues[keys[0]], text, public=False)
        now = self.now()
        for key in keys:
            self._issues[key].updated = now
        return Response(201)
