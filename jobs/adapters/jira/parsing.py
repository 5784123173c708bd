"""Jira JSON -> `jobs.model` records. Pure: no I/O, no clock.

Every field may be null or oddly typed in an answer; helpers here read what is usable and
leave the rest empty, and a ticket that cannot be evaluated at all becomes a `DataProblem`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from jobs.adapters.jira.adf import MAX_DEPTH as ADF_MAX_DEPTH
from jobs.adapters.jira.adf import adf_text
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
    FieldChange,
    IssueLink,
    Person,
    SlaCycle,
    SlaField,
    StatusCategory,
    Ticket,
)


def parse_ticket(
    raw: dict[str, Any],
    custom: Mapping[str, str],
    browse_url: Callable[[str], str],
    problems: list[DataProblem],
    *,
    comment_text: bool = True,
) -> Ticket | None:
    """One search result as a `Ticket`; None (with the reason in ``problems``) if it cannot
    be evaluated. Data problems that leave the ticket usable are added to ``problems`` too.
    ``comment_text``: False leaves each comment's body empty (`parse_comment`).

    The caller has checked the envelope (`check_issue`). ``custom`` maps our names for
    custom fields to their ids on this site (`fields`). Odd values of optional fields read as
    absent: an unreadable assignee is no assignee, an unreadable comment no comment, which
    keeps an alert open rather than clearing it.
    """
    key: str = raw["key"]
    fields: dict[str, Any] = raw["fields"]
    created = _when(fields.get("created"))
    if created is None:
        # Every rule measures from creation: a made-up date would alert on nonsense.
        problems.append(DataProblem(key, "Jira returned it without a creation date; not evaluated"))
        return None
    status = _dict(fields.get("status"))
    project = _dict(fields.get("project"))
    comment_page = _dict(fields.get("comment"))
    cut: list[int] = []
    comments = tuple(
        c
        for c in (
            parse_comment(r, cut, text=comment_text) for r in _list(comment_page.get("comments"))
        )
        if c
    )
    if cut:
        problems.append(too_deep(key))
    total = as_int(comment_page.get("total"))
    parent = _dict(fields.get("parent"))
    properties = _dict(raw.get("properties"))
    get = fields.get
    organizations = get(custom[ORGANIZATIONS]) if ORGANIZATIONS in custom else None
    channel = get(custom[CHANNEL]) if CHANNEL in custom else None
    return Ticket(
        key=key,
        id=str(raw.get("id") or ""),
        summary=_str(get("summary")) or "",
        status=_str(status.get("name")) or "",
        status_category=_category(status.get("statusCategory")),
        created=created,
        project=_str(project.get("key")) or key.rsplit("-", 1)[0],
        issue_type=_issue_type(get("issuetype")),
        description=_description(key, get("description"), problems),
        updated=_when(get("updated")),
        resolved=_when(get("resolutiondate")),
        assignee=parse_person(get("assignee")),
        reporter=parse_person(get("reporter")),
        priority=as_name(get("priority")),
        labels=tuple(v for v in _list(get("labels")) if isinstance(v, str)),
        components=tuple(n for n in map(as_name, _list(get("components"))) if n),
        organizations=tuple(n for n in map(as_name, _list(organizations)) if n),
        request_type=_request_type(_custom(fields, custom, REQUEST_TYPE)),
        channel=tuple(n for n in map(as_name, _list(channel)) if n),
        comments=comments,
        comments_total=max(total if total is not None else len(comments), len(comments)),
        links=tuple(x for x in map(_link, _list(get("issuelinks"))) if x),
        changes=parse_changes(raw.get("changelog"), custom),
        first_response_sla=_sla(_custom(fields, custom, FIRST_RESPONSE_SLA), FIRST_RESPONSE_SLA),
        due_date=_day(get("duedate")),
        configuration_date=_day(_custom(fields, custom, CONFIGURATION_DATE)),
        qa_due_date=_day(_custom(fields, custom, QA_DUE_DATE)),
        qa_assignee=parse_person(_custom(fields, custom, QA_ASSIGNEE)),
        parent_key=_str(parent.get("key")),
        properties=dict(properties),
        url=browse_url(key),
    )


def check_issue(raw: Any, asked_fields: bool) -> str | None:
    """What is wrong with a search result's envelope, or None: an issue is an object with a
    key, and its ``fields`` an object when fields were asked for."""
    if not isinstance(raw, dict):
        return f"an entry of the issues list is a {type(raw).__name__}, not an issue"
    if not isinstance(raw.get("key"), str) or not raw["key"]:
        return "an issue without a key"
    if asked_fields and not isinstance(raw.get("fields"), dict):
        return f"{raw['key']} came with fields {type(raw.get('fields')).__name__}, not an object"
    return None


def _custom(fields: dict[str, Any], custom: Mapping[str, str], name: str) -> Any:
    fid = custom.get(name)
    return fields.get(fid) if fid is not None else None


def _description(key: str, value: Any, problems: list[DataProblem]) -> str:
    cut: list[int] = []
    text = adf_text(value, cut)
    if cut:
        problems.append(
            DataProblem(
                key,
                f"its description nests deeper than {ADF_MAX_DEPTH} levels; "
                "the text below that is left out",
            )
        )
    return text


def too_deep(key: str) -> DataProblem:
    return DataProblem(
        key,
        f"a comment nests deeper than {ADF_MAX_DEPTH} levels; the text below that is left "
        "out of what the rules read",
    )


# -- changelog (expand=changelog) --------------------------------------------------------------


def parse_changes(raw: Any, custom: Mapping[str, str] | None = None) -> tuple[FieldChange, ...]:
    """``changelog.histories[].items[]`` as `FieldChange`s, oldest first.

    Jira lists histories newest first; a custom field's change is named by our name for the
    field when it is one of ours (its ``field`` is the translated name), else by Jira's.
    """
    page = raw if isinstance(raw, dict) else {}
    return changes_of(_list(page.get("histories")), custom)


def changes_of(
    histories: list[Any], custom: Mapping[str, str] | None = None
) -> tuple[FieldChange, ...]:
    ours = {fid: name for name, fid in (custom or {}).items()}
    dated: list[tuple[datetime, int, int, FieldChange]] = []
    for h_index, history in enumerate(histories):
        if not isinstance(history, dict):
            continue
        at = _when(history.get("created"))
        if at is None:
            continue
        author = parse_person(history.get("author"))
        order = as_int(history.get("id"))
        for i_index, item in enumerate(_list(history.get("items"))):
            if not isinstance(item, dict):
                continue
            field_id = _str(item.get("fieldId"))
            name = (ours.get(field_id) if field_id else None) or _str(item.get("field"))
            if name is None:
                continue
            change = FieldChange(
                at=at,
                field=name,
                from_value=_str(item.get("fromString")),
                to_value=_str(item.get("toString")),
                from_id=_str(item.get("from")),
                to_id=_str(item.get("to")),
                author=author,
            )
            dated.append((at, order if order is not None else -h_index, i_index, change))
    dated.sort(key=lambda d: (d[0], d[1], d[2]))
    return tuple(d[3] for d in dated)


def changelog_complete(raw: dict[str, Any]) -> bool:
    """Whether the search gave the issue's whole changelog (Jira pages long ones)."""
    page = raw.get("changelog")
    if not isinstance(page, dict):
        return True
    histories = _list(page.get("histories"))
    total = as_int(page.get("total"))
    return total is None or total <= len(histories)


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
        parsed = datetime.fromisoformat(value)  # Python 3.11 reads "Z" and "+0000" too
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
    get = value.get
    raw = (get("accountId"), get("displayName"), get("emailAddress"), get("accountType"))
    # The same few agents write most comments: one shared (frozen) record each, found by the
    # four values as Jira sent them, before any of them is read.
    try:
        return _PEOPLE[raw]
    except KeyError:
        pass
    except TypeError:  # a list or an object where a string belongs: nothing to share
        return _person(*raw)
    person = _person(*raw)
    if len(_PEOPLE) >= _PEOPLE_KEPT:
        _PEOPLE.clear()
    _PEOPLE[raw] = person
    return person


_PEOPLE: dict[tuple[Any, Any, Any, Any], Person | None] = {}
_PEOPLE_KEPT = 4096


def _person(account_id: Any, display_name: Any, email: Any, account_type: Any) -> Person | None:
    account_id, email = _str(account_id), _str(email)
    if not account_id and not email:
        return None
    return Person(account_id, _str(display_name), email, _str(account_type))


def _category(value: Any) -> StatusCategory:
    key = _dict(value).get("key")
    try:
        return StatusCategory(str(key))
    except ValueError:
        return StatusCategory.NEW


def parse_comment(raw: Any, cut: list[int] | None = None, *, text: bool = True) -> Comment | None:
    """A platform comment (``jsdPublic``) or a Service Management one (``public``).

    ``cut`` collects how deep a body nested where its text had to be left out (`adf_text`).
    ``text``: False for a reader that needs who wrote the comment, when and for whom, never
    what it says: the body is left empty instead of converted from ADF (the largest part of
    reading a comment).
    """
    if not isinstance(raw, dict) or raw.get("id") is None:
        return None
    public = raw.get("jsdPublic", raw.get("public"))
    if not isinstance(public, bool):
        public = True
        for prop in _list(raw.get("properties")):
            if isinstance(prop, dict) and prop.get("key") == "sd.public.comment":
                value = _dict(prop.get("value"))
                public = not bool(value.get("internal"))
    created_at, updated_at = raw.get("created"), raw.get("updated")
    created = _when(created_at)
    # Most comments were never edited: their update is their creation, read once.
    updated = created if updated_at == created_at else _when(updated_at)
    return Comment(
        id=str(raw["id"]),
        author=parse_person(raw.get("author")),
        body=adf_text(raw.get("body"), cut) if text else "",
        created=created or datetime(1970, 1, 1, tzinfo=UTC),
        updated=updated,
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
