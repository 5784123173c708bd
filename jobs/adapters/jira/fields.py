"""Jira's fields: which id a name means on this site, and the wire shape of a value.

Pure: the field list comes from one ``GET /field`` the client makes; lookups that need Jira
(an account id for an email, an organization id for a name) are passed in as functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class FieldShape:
    """The kind of custom field the jobs can read one of ours from (and write to), as the
    ``schema`` of ``GET /field`` types it: ``type``, and for a list the ``items`` it holds."""

    described: str
    type: str
    items: frozenset[str] = frozenset()

    def accepts(self, schema: Mapping[str, Any]) -> bool:
        if schema.get("type") != self.type:
            return False
        return not self.items or schema.get("items") in self.items

    @staticmethod
    def shown(schema: Mapping[str, Any]) -> str:
        """A field's schema as a person reads it: ``date``, ``array of option``."""
        kind = str(schema.get("type") or "no type")
        return f"{kind} of {schema['items']}" if schema.get("items") else kind


FIELD_SHAPES: dict[str, FieldShape] = {
    ORGANIZATIONS: FieldShape(
        "Service Management's Organizations field", "array", frozenset({"sd-customerorganization"})
    ),
    REQUEST_TYPE: FieldShape("Service Management's Request Type field", "sd-customerrequesttype"),
    FIRST_RESPONSE_SLA: FieldShape("a Service Management SLA", "sd-servicelevelagreement"),
    CONFIGURATION_DATE: FieldShape("a date picker", "date"),
    QA_DUE_DATE: FieldShape("a date picker", "date"),
    QA_ASSIGNEE: FieldShape("a user picker", "user"),
    CHANNEL: FieldShape(
        "a list of choices (checkboxes, multi-select or labels)",
        "array",
        frozenset({"option", "string"}),
    ),
}
"""What each of `TICKET_CUSTOM_FIELDS` must be for `parsing` to read it (a single choice
where a list goes would read as empty) and `wire_value` to write it."""


class FieldCatalog:
    """The site's fields from ``GET /field``: which id a name means, and each field's schema.

    A custom field is found by the id configured for our name (settings ``jira.fields``),
    else by its ``untranslatedName`` (the English name, whatever the account's language),
    else by its ``name`` (translated to the account's language), each exact then in any case.
    """

    def __init__(
        self, raw: Sequence[Mapping[str, Any]], configured: Mapping[str, str] | None = None
    ) -> None:
        self._fields = [f for f in raw if isinstance(f, Mapping) and f.get("id")]
        self._configured = dict(configured or {})
        self._schemas = {
            str(f["id"]): f["schema"] for f in self._fields if isinstance(f.get("schema"), dict)
        }
        self._by_id = {str(f["id"]) for f in self._fields}
        self._lookups: list[dict[str, str]] = []
        for key in ("untranslatedName", "name"):
            exact: dict[str, str] = {}
            for f in self._fields:
                if isinstance(f.get(key), str) and f[key]:
                    exact.setdefault(f[key], str(f["id"]))
            self._lookups.append(exact)
            self._lookups.append({k.casefold(): v for k, v in reversed(exact.items())})
        ids: dict[str, str] = {fid: fid for fid in self._by_id}
        for name in self._configured:
            found = self.get(name)
            if found:
                ids.setdefault(name, found)
        for lookup in self._lookups[::2]:
            for name, fid in lookup.items():
                ids.setdefault(name, fid)
        self.ids = ids
        """Every id, configured name, untranslated name and name -> field id."""

    def schema(self, field_id: str) -> dict[str, Any]:
        return dict(self._schemas.get(field_id, {}))

    def get(self, name: str) -> str | None:
        """The field id for our name for a field (or an id), None if the site has none."""
        if name in self._configured:
            configured = self._configured[name]
            if configured not in self._by_id:
                raise PermanentError(
                    SYSTEM,
                    f"settings jira.fields.{name}: {configured} is not a field on this Jira "
                    "site (GET /rest/api/2/field); check the id in Jira's custom field settings",
                )
            return configured
        if name in self._by_id:
            return name
        for i, lookup in enumerate(self._lookups):
            found = lookup.get(name.casefold() if i % 2 else name)
            if found:
                return found
        return None

    def resolve(self, name: str) -> str:
        """The id for a system field, a field id, or a custom field by our name for it."""
        if name in SYSTEM_FIELDS:
            return name
        found = self.get(name)
        if found is None:
            raise PermanentError(
                SYSTEM,
                f"field {name!r} does not exist on this Jira site (GET /rest/api/2/field); "
                f"check its name in Jira's custom field settings, or set jira.fields.{name} "
                "to its id (customfield_NNNNN)",
            )
        return found

    def custom_names(self) -> dict[str, str]:
        """The custom fields a Ticket is built from: our name for each -> its id here."""
        out = {}
        for name in TICKET_CUSTOM_FIELDS:
            fid = self.get(name)
            if fid:
                out[name] = fid
        return out


def wire_value(
    fid: str,
    value: Any,
    schema: Mapping[str, Any],
    *,
    account_id: Callable[[Any], str],
    organization_id: Callable[[Any], int],
    request_type_id: Callable[[Any], str],
) -> Any:
    """A plain value (a name, an email, a date) in the shape Jira takes for field ``fid``.

    A dict passes as is: the caller already wrote the wire shape.
    """
    if value is None or isinstance(value, dict):
        return value
    if fid == "project":
        return {"key": str(value)}
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
    if kind == "sd-customerrequesttype":
        return request_type_id(value)
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
