"""Issue history: every change the emulator applies (edits, transitions, links) and every
change a fixture's ``history:`` gives, as Jira's changelog.

Jira groups the changes of one write in one history (author, created, items). A search with
``expand=changelog`` (and ``GET /issue/{key}?expand=changelog``) carries the latest
`CHANGELOG_IN_ISSUE` histories newest first, with the total; ``GET /issue/{key}/changelog``
pages all of them oldest first. Item values follow ChangeDetails: ``from``/``to`` are ids
(account id, status id, ...), ``fromString``/``toString`` what a person reads; keys without a
value are left out (the spec types them as strings, never null).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from emulators.base import Request, Response
from emulators.jira.model import (
    PRIORITIES,
    SETTABLE_SYSTEM,
    HistoryState,
    IssueState,
    int_arg,
    jira_time,
)

CHANGELOG_IN_ISSUE = 100
"""Histories an issue carries under expand=changelog; longer ones are read page by page."""
CHANGELOG_PAGE_CAP = 100

SYSTEM_FIELD_NAMES = {
    # fieldId -> the `field` Jira writes in a history item
    "assignee": "assignee",
    "reporter": "reporter",
    "status": "status",
    "priority": "priority",
    "labels": "labels",
    "summary": "summary",
    "description": "description",
    "duedate": "duedate",
    "resolution": "resolution",
    "components": "Component",
    "issuetype": "issuetype",
    "parent": "IssueParentAssociation",
}
FIXTURE_FIELDS = {
    # what a fixture's history may name -> fieldId (custom fields: by display name)
    "assignee": "assignee",
    "reporter": "reporter",
    "status": "status",
    "priority": "priority",
    "labels": "labels",
    "summary": "summary",
    "due_date": "duedate",
    "duedate": "duedate",
    "components": "components",
}


class ChangelogEndpoints:
    """Recording and serving of issue histories."""

    ROUTES = (("GET", r"{api}/issue/([^/]+)/changelog", "_get_changelog"),)

    # -- recording ---------------------------------------------------------------------------
    def _snapshot(self, issue: IssueState, fid: str) -> Any:
        """The stored value of field ``fid`` (as `_write_field` writes it)."""
        if fid == "status":
            return issue.status
        if fid == "resolution":
            return "Done" if issue.resolved else None
        if fid in SETTABLE_SYSTEM:
            value = getattr(issue, {"duedate": "due_date"}.get(fid, fid))
            return list(value) if isinstance(value, list) else value
        cf = self._custom_by_id(fid)
        if cf is None:
            return None
        value = cf.get(issue)
        return list(value) if isinstance(value, list) else value

    def _change_item(self, issue: IssueState, fid: str, old: Any, new: Any) -> dict[str, Any]:
        item: dict[str, Any] = {}
        cf = None if fid in SYSTEM_FIELD_NAMES else self._custom_by_id(fid)
        if cf is not None:
            item.update(field=self._shown(cf.name), fieldtype="custom", fieldId=fid)
        else:
            item.update(field=SYSTEM_FIELD_NAMES.get(fid, fid), fieldtype="jira", fieldId=fid)
        for side, value in (("from", old), ("to", new)):
            ident, text = self._value_strings(issue, fid, value)
            if ident is not None:
                item[side] = ident
            if text is not None:
                item[f"{side}String"] = text
        return item

    def _value_strings(
        self, issue: IssueState, fid: str, value: Any
    ) -> tuple[str | None, str | None]:
        if value is None or value == [] or value == "":
            return None, None
        cf = None if fid in SYSTEM_FIELD_NAMES else self._custom_by_id(fid)
        kind = cf.type if cf is not None else fid
        if kind in ("assignee", "reporter", "user"):
            user = self._users.get(str(value)) or {}
            return str(value), user.get("display_name") or str(value)
        if kind == "status":
            return self._status_id(str(value)), str(value)
        if kind == "priority":
            pid = str(PRIORITIES.index(value) + 1) if value in PRIORITIES else None
            return pid, str(value)
        if kind == "resolution":
            return "10000", str(value)
        if kind == "issuetype":
            return self._type_id(str(value)), self._shown(str(value))
        if kind == "parent":
            other = self._issues.get(str(value))
            return (other.id if other else None), str(value)
        if kind in ("labels",):
            return None, " ".join(value)
        if kind in ("components",):
            return None, ", ".join(value)
        if kind == "organizations":
            ids = [self._orgs.get(v) for v in value]
            return ", ".join(i for i in ids if i), ", ".join(value)
        if kind == "request_type":
            return self._request_type_id(str(value)), str(value)
        if kind in ("options", "option"):
            values = value if isinstance(value, list) else [value]
            ids = [self._option_json(cf, v, "2")["id"] for v in values]
            return ", ".join(ids), ", ".join(values)
        if isinstance(value, date | datetime):
            return value.isoformat()[:10], value.isoformat()[:10]
        return None, str(value)

    def _record_history(
        self,
        issue: IssueState,
        items: list[dict[str, Any]],
        *,
        at: datetime | None = None,
        author: str | None = "",
    ) -> None:
        """One history for the items of one write (author "" = the automation account)."""
        if not items:
            return
        if author == "":
            author = self._myself["account_id"] if self._myself else None
        self._next_history_id += 1
        issue.history.append(
            HistoryState(str(self._next_history_id), author, at or self.now(), items)
        )

    def _changes(
        self, issue: IssueState, before: dict[str, Any], after: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return [
            self._change_item(issue, fid, before[fid], after[fid])
            for fid in before
            if before[fid] != after[fid]
        ]

    def _load_history(self, issue: IssueState, entries: list[dict[str, Any]]) -> None:
        """A fixture's ``history:`` (each entry one change, oldest first once sorted); ``from``
        defaults to the value the previous change of that field left."""
        last: dict[str, Any] = {}
        for entry in sorted(entries, key=lambda e: e["at"]):
            fid = self._history_field_id(entry["field"])
            old = entry["from"] if entry.get("has_from") else last.get(fid)
            item = self._change_item(issue, fid, old, entry["to"])
            last[fid] = entry["to"]
            self._record_history(issue, [item], at=entry["at"], author=entry.get("by"))

    def _history_field_id(self, name: str) -> str:
        if name in FIXTURE_FIELDS:
            return FIXTURE_FIELDS[name]
        for cf in self._custom:
            if name in (cf.name, cf.attr):
                return cf.id
        raise ValueError(f"history: no field {name!r}")

    # -- rendering ---------------------------------------------------------------------------
    def _history_json(self, h: Any, version: str) -> dict[str, Any]:
        out: dict[str, Any] = {"id": h.id, "created": jira_time(h.created), "items": h.items}
        author = self._user_json(h.author, version) if h.author else None
        if author is not None:
            out["author"] = author
        return out

    def _changelog_in_issue(self, issue: IssueState, version: str) -> dict[str, Any]:
        latest = sorted(issue.history, key=lambda h: (h.created, int(h.id)), reverse=True)
        shown = latest[:CHANGELOG_IN_ISSUE]
        return {
            "startAt": 0,
            "maxResults": len(shown),
            "total": len(latest),
            "histories": [self._history_json(h, version) for h in shown],
        }

    def _get_changelog(self, request: Request, m: re.Match[str]) -> Response:
        version = "3" if m.group(1) == "3" else "2"
        issue = self._get(m.group(2))
        start = max(0, int_arg(request.arg("startAt"), 0, "startAt"))
        limit = max(
            1, min(int_arg(request.arg("maxResults"), CHANGELOG_PAGE_CAP, "maxResults"), 100)
        )
        ordered = sorted(issue.history, key=lambda h: (h.created, int(h.id)))
        page = ordered[start : start + limit]
        base = f"{self.base}/rest/api/{version}/issue/{issue.key}/changelog"
        out: dict[str, Any] = {
            "self": f"{base}?startAt={start}&maxResults={limit}",
            "maxResults": limit,
            "startAt": start,
            "total": len(ordered),
            "isLast": start + len(page) >= len(ordered),
            "values": [self._history_json(h, version) for h in page],
        }
        if not out["isLast"]:
            out["nextPage"] = f"{base}?startAt={start + limit}&maxResults={limit}"
        return Response(200, out)
