"""Jira JSON -> `jobs.model` records. Pure: no I/O, no clock.

Every field may be null or oddly typed in an answer; helpers here read what is usable and
leave the rest empty, and a ticket that cannot be evaluated at all becomes a `DataProblem`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from jobs.adapters.jira.fields import (
    CHANNEL,
    CONFIGURATION_DATE,
    FIRST_RESPONSE_SLA,
    ORGANIZATIONS,
    QA_ASSIGNEE,
    QA_DUE_DATE,
    REQUEST_TYPE,
)
from jobs.model import (
    Comment,
    DataProblem,
    IssueLink,
    Person,
    SlaCycle,
    SlaField,
    StatusCategory,
    Ticket,
)


def parse_ticket(
    raw: dict[str, Any], custom: Mapping[str, str], browse_url: Callable[[str], str]
) -> Ticket | DataProblem:
    """One search result as a `Ticket`, or the reason it cannot be one.

    ``custom`` maps our names for custom fields to their ids on this site (`fields`).
    """
    key = str(raw["key"])
    fields = _dict(raw.get("fields"))
    created = _when(fields.get("created"))
    if created is None:
        # Every rule measures from creation: a made-up date would alert on nonsense.
        return DataProblem(key, "Jira returned it without a creation date; not evaluated")
    by_name = {name: fields.get(fid) for name, fid in custom.items()}
    status = _dict(fields.get("status"))
    project = _dict(fields.get("project"))
    comment_page = _dict(fields.get("comment"))
    comments = tuple(c for c in map(parse_comment, _list(comment_page.get("comments"))) if c)
    total = as_int(comment_page.get("total"))
    parent = _dict(fields.get("parent"))
    properties = _dict(raw.get("properties"))
    return Ticket(
        key=key,
        id=str(raw.get("id") or ""),
        summary=_str(fields.get("summary")) or "",
        status=_str(status.get("name")) or "",
        status_category=_category(status.get("statusCategory")),
        created=created,
        project=_str(project.get("key")) or key.rsplit("-", 1)[0],
        issue_type=_issue_type(fields.get("issuetype")),
        description=adf_text(fields.get("description")),
        updated=_when(fields.get("updated")),
        resolved=_when(fields.get("resolutiondate")),
        assignee=parse_person(fields.get("assignee")),
        reporter=parse_person(fields.get("reporter")),
        priority=as_name(fields.get("priority")),
        labels=tuple(v for v in _list(fields.get("labels")) if isinstance(v, str)),
        components=tuple(n for n in map(as_name, _list(fields.get("components"))) if n),
        organizations=tuple(n for n in map(as_name, _list(by_name.get(ORGANIZATIONS))) if n),
        request_type=_request_type(by_name.get(REQUEST_TYPE)),
        channel=tuple(n for n in map(as_name, _list(by_name.get(CHANNEL))) if n),
        comments=comments,
        comments_total=max(total if total is not None else len(comments), len(comments)),
        links=tuple(x for x in map(_link, _list(fields.get("issuelinks"))) if x),
        first_response_sla=_sla(by_name.get(FIRST_RESPONSE_SLA), FIRST_RESPONSE_SLA),
        due_date=_day(fields.get("duedate")),
        configuration_date=_day(by_name.get(CONFIGURATION_DATE)),
        qa_due_date=_day(by_name.get(QA_DUE_DATE)),
        qa_assignee=parse_person(by_name.get(QA_ASSIGNEE)),
        parent_key=_str(parent.get("key")),
        properties=dict(properties),
        url=browse_url(key),
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_name(value: Any) -> str | None:
    if isinstance(value, dict):
        return _str(value.get("name")) or _str(value.get("value"))
    return _str(value)


def _when(value: Any) -> datetime | None:
    """Jira's '2026-11-02T10:00:00.000+0000', or JSM's {epochMillis, iso8601, ...}."""
    if isinstance(value, dict):
        millis = as_int(value.get("epochMillis"))
        if millis is not None:
            return datetime.fromtimestamp(millis / 1000, tz=UTC)
        value = value.get("iso8601") or value.get("jira")
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def parse_person(value: Any) -> Person | None:
    if not isinstance(value, dict):
        return None
    account_id = _str(value.get("accountId"))
    email = _str(value.get("emailAddress"))
    if not account_id and not email:
        return None
    return _known_person(
        account_id, _str(value.get("displayName")), email, _str(value.get("accountType"))
    )


@lru_cache(maxsize=4096)
def _known_person(
    account_id: str | None, display_name: str | None, email: str | None, account_type: str | None
) -> Person:
    # The same few agents write most comments: one shared (frozen) record each.
    return Person(account_id, display_name, email, account_type)


def _category(value: Any) -> StatusCategory:
    key = _dict(value).get("key")
    try:
        return StatusCategory(str(key))
    except ValueError:
        return StatusCategory.NEW


def adf_text(value: Any) -> str:
    """A v2 string as is; a v3 ADF document flattened, mentions as ``[~accountid:ID]``."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return ""
    kind = value.get("type")
    # Leaves first: they are most of a document, and need no child list.
    if kind == "text":
        return str(value.get("text") or "")
    if kind == "hardBreak":
        return "\n"
    attrs = _dict(value.get("attrs"))
    if kind == "mention":
        return f"[~accountid:{attrs.get('id', '')}]"
    if kind == "emoji":
        return str(attrs.get("text") or attrs.get("shortName") or "")
    if kind in ("inlineCard", "blockCard"):
        return str(attrs.get("url") or "")
    children = [c for c in _list(value.get("content")) if isinstance(c, dict)]
    if kind == "doc":
        return "\n\n".join(t for t in map(adf_text, children) if t)
    if kind in ("bulletList", "orderedList"):
        marks = ["-" if kind == "bulletList" else f"{i}." for i in range(1, len(children) + 1)]
        return "\n".join(f"{m} {adf_text(c)}" for m, c in zip(marks, children, strict=True))
    if kind == "listItem":
        return "\n".join(map(adf_text, children))
    return "".join(map(adf_text, children))


def parse_comment(raw: Any) -> Comment | None:
    """A platform comment (``jsdPublic``) or a Service Management one (``public``)."""
    if not isinstance(raw, dict) or raw.get("id") is None:
        return None
    public = raw.get("jsdPublic", raw.get("public"))
    if not isinstance(public, bool):
        public = True
        for prop in _list(raw.get("properties")):
            if isinstance(prop, dict) and prop.get("key") == "sd.public.comment":
                value = _dict(prop.get("value"))
                public = not bool(value.get("internal"))
    created = _when(raw.get("created")) or datetime(1970, 1, 1, tzinfo=UTC)
    return Comment(
        id=str(raw["id"]),
        author=parse_person(raw.get("author")),
        body=adf_text(raw.get("body")),
        created=created,
        updated=_when(raw.get("updated")),
        public=public,
    )


def _link(raw: Any) -> IssueLink | None:
    if not isinstance(raw, dict):
        return None
    ltype = _dict(raw.get("type"))
    for direction in ("outward", "inward"):
        other = raw.get(f"{direction}Issue")
        if isinstance(other, dict) and _str(other.get("key")):
            fields = _dict(other.get("fields"))
            status = _dict(fields.get("status"))
            category = status.get("statusCategory")
            return IssueLink(
                type_name=_str(ltype.get("name")) or "",
                direction=direction,
                relation=_str(ltype.get(direction)) or "",
                other_key=str(other["key"]),
                other_summary=_str(fields.get("summary")),
                other_status=_str(status.get("name")),
                other_status_category=_category(category) if isinstance(category, dict) else None,
                other_priority=_str(_dict(fields.get("priority")).get("name")),
            )
    return None


def _issue_type(value: Any) -> str | None:
    """The English name (``untranslatedName``) where Jira gives it: rules compare it with
    "Task" whatever the account's language."""
    if isinstance(value, dict):
        return _str(value.get("untranslatedName")) or as_name(value)
    return as_name(value)


def _request_type(value: Any) -> str | None:
    if isinstance(value, dict):
        inner = value.get("requestType")
        return as_name(inner) if isinstance(inner, dict) else as_name(value)
    return _str(value)


def _millis(value: Any) -> timedelta | None:
    millis = as_int(value.get("millis")) if isinstance(value, dict) else None
    return timedelta(milliseconds=millis) if millis is not None else None


def _cycle(raw: Any) -> SlaCycle | None:
    if not isinstance(raw, dict):
        return None
    return SlaCycle(
        start=_when(raw.get("startTime")),
        breached=raw.get("breached") is True,
        paused=raw.get("paused") is True,
        within_calendar_hours=raw.get("withinCalendarHours") is not False,
        goal=_millis(raw.get("goalDuration")),
        elapsed=_millis(raw.get("elapsedTime")),
        remaining=_millis(raw.get("remainingTime")),
        breach_time=_when(raw.get("breachTime")),
        stop=_when(raw.get("stopTime")),
    )


def _sla(raw: Any, name: str) -> SlaField | None:
    if not isinstance(raw, dict):
        return None
    completed = tuple(c for c in map(_cycle, _list(raw.get("completedCycles"))) if c)
    return SlaField(
        name=_str(raw.get("name")) or name,
        ongoing=_cycle(raw.get("ongoingCycle")),
        completed=completed,
    )
