"""Jira's fields: which id a name means on this site, and the wire shape of a value.

Pure: the field list comes from one ``GET /field`` the client makes; lookups that need Jira
(an account id for an email, an organization id for a name) are passed in as functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from jobs.adapters.http import PermanentError

SYSTEM = "jira"

SYSTEM_FIELDS = frozenset(
    {
        "summary",
        "status",
        "created",
        "updated",
        "assignee",
        "reporter",
        "priority",
        "labels",
        "components",
        "comment",
        "issuelinks",
        "description",
        "duedate",
        "resolutiondate",
        "resolution",
        "issuetype",
        "parent",
        "project",
    }
)
ALWAYS_FIELDS = ("summary", "status", "created")
"""A `Ticket` cannot be built without these, whatever the caller asked for."""

ORGANIZATIONS = "Organizations"
REQUEST_TYPE = "Request Type"
FIRST_RESPONSE_SLA = "Time to first response"
CONFIGURATION_DATE = "Configuration Date"
QA_DUE_DATE = "QA Due Date"
QA_ASSIGNEE = "QA Assignee"
CHANNEL = "Channel"
TICKET_CUSTOM_FIELDS = (
    ORGANIZATIONS,
    REQUEST_TYPE,
    FIRST_RESPONSE_SLA,
    CONFIGURATION_DATE,
    QA_DUE_DATE,
    QA_ASSIGNEE,
    CHANNEL,
)
"""The custom fields a `Ticket` is built from, by our (English) names for them."""


class FieldCatalog:
    """The site's fields from ``GET /field``: name or id -> id, and each field's schema."""

    def __init__(self, raw: Sequence[Mapping[str, Any]]) -> None:
        self._fields = [f for f in raw if isinstance(f, Mapping) and f.get("id")]
        ids: dict[str, str] = {}
        for f in self._fields:
            ids.setdefault(str(f["id"]), str(f["id"]))
        for f in self._fields:
            if f.get("name"):
                ids.setdefault(str(f["name"]), str(f["id"]))
        self.ids = ids
        self._folded = {k.casefold(): v for k, v in ids.items()}
        self._schemas = {
            str(f["id"]): f["schema"] for f in self._fields if isinstance(f.get("schema"), dict)
        }

    def schema(self, field_id: str) -> dict[str, Any]:
        return dict(self._schemas.get(field_id, {}))

    def get(self, name: str) -> str | None:
        return self.ids.get(name)

    def resolve(self, name: str) -> str:
        """The id for a system field, a field id, or a display name (any case)."""
        if name in SYSTEM_FIELDS:
            return name
        if name in self.ids:
            return self.ids[name]
        if name.casefold() in self._folded:
            return self._folded[name.casefold()]
        raise PermanentError(
            SYSTEM,
            f"field {name!r} does not exist on this Jira site (GET /rest/api/2/field); "
            "check its display name in Jira's custom field settings",
        )

    def custom_names(self) -> dict[str, str]:
        """The custom fields a Ticket is built from, by id -> our name for it."""
        out = {}
        for name in TICKET_CUSTOM_FIELDS:
            fid = self.get(name)
            if fid:
                out[fid] = name
        return out


def wire_value(
    fid: str,
    value: Any,
    schema: Mapping[str, Any],
    *,
    account_id: Callable[[Any], str],
    organization_id: Callable[[Any], int],
) -> Any:
    """A plain value (a name, an email, a date) in the shape Jira takes for field ``fid``.

    A dict passes as is: the caller already wrote the wire shape.
    """
    if value is None or isinstance(value, dict):
        return value
    if fid == "project":
        return {"key": str(value)}
    if fid == "issuetype":
        return {"name": str(value)}
    if fid == "parent":
        return {"key": str(value)}
    kind, items = schema.get("type"), schema.get("items")
    if kind == "user":
        return {"accountId": account_id(value)}
    if kind in ("priority", "resolution"):
        return {"name": str(value)}
    if kind in ("date", "datetime") and isinstance(value, date | datetime):
        return value.isoformat()
    if kind == "option":
        return {"value": str(value)}
    if kind == "array":
        values = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
        if items == "option":
            return [v if isinstance(v, dict) else {"value": str(v)} for v in values]
        if items == "component":
            return [v if isinstance(v, dict) else {"name": str(v)} for v in values]
        if items == "sd-customerorganization":
            return [organization_id(v) for v in values]
        return [str(v) if not isinstance(v, dict) else v for v in values]
    return value
