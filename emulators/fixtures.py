"""Readable YAML desk files for the emulators.

A *desk* is everything the Jira, Slack and Sheets emulators start with. ``load_desk(path, now)``
reads one YAML file, a directory of them (``*.yaml``/``*.yml``, in name order), or a list of
both, and merges them: lists are concatenated, so each workflow can keep its own file next to the
shared ``00_people.yaml``. Every problem names the file and key path that holds it.

Times are absolute ISO 8601 (``2026-11-02T09:30:00Z``; no zone means UTC) or relative to ``now``:
``now``, ``-3h``, ``-2d4h``, ``-30m``, ``-1w``, ``+2d`` (units w, d, h, m; the leading sign applies
to the whole period, spaces allowed: ``-2d 4h``). Dates (due dates, date pickers) take the same
forms and keep the day.

Sections (all optional)::

    users:                      # people and automation accounts, referenced by any of
      - account_id: acc-maya    #   account_id, email or display_name elsewhere
        display_name: Maya Patel
        email: maya.patel@goeverbright.example
        slack_id: U01MAYA       # also becomes a Slack user with the same email
        kind: agent             # agent | customer | app   (default: agent)
        time_zone: America/New_York
        hide_email: false       # true: Jira Cloud leaves emailAddress out (profile privacy)
    organizations:              # JSM customer organizations: a name or {name, id}
      - Sunrise Solar
    projects:
      - key: SS
        name: Software Support
        type: service_desk      # service_desk | software | business
        issue_types: [Service Request, Task]      # first one is the default
        request_types: [Company-specific Data Change]
        components: [Sunrise Solar]
        statuses:               # category: new | indeterminate | done
          - {name: Open, category: new}
        initial_status: Open    # default: the first status
        transitions:            # id defaults to 11, 21, 31...; no `from` = from any status
          - {id: 11, name: Start progress, from: [Open], to: In Progress}
    custom_fields:              # beyond the built-in ones (Organizations, Request Type, Channel...)
      - {name: Canned Responses, type: option, options: [Doc ready to test - first email]}
        # type: option | options | date | user | text
    link_types:                 # default: Blocks, Cloners, Duplicate, Relates
      - {name: Duplicate, inward: is duplicated by, outward: duplicates}
    tickets:
      - key: SS-101             # project defaults to the key's prefix
        issuetype: Service Request
        summary: "Re: EverBright Partner Onboarding"
        description: |
          Contractor name: Sunrise Solar
        status: Waiting for support
        created: -3h
        updated: -1h            # default: the later of created and the last comment
        resolved: null          # default: `updated` when the status is in the done category
        assignee: maya.patel@goeverbright.example
        reporter: onboarding@goeverbright.example
        priority: High
        labels: [EB]
        components: [Sunrise Solar]
        organizations: [Sunrise Solar]   # unknown names are added to `organizations`
        request_type: Company-specific Data Change
        channel: [Email]
        needs_configuration: Integrated Finance
        due_date: +3d
        configuration_date: +2d
        qa_due_date: +3d
        qa_assignee: Cherish Sharma
        parent: CS-7
        properties: {sla-monitor: {alerted: true}}
        custom: {Canned Responses: Doc ready to test - first email}
        sla:
          first_response: {paused: false, goal: 2h}   # paused_at: -1h
        comments:               # public defaults to true; author defaults to the reporter
          - {author: Maya Patel, body: "[~accountid:acc-x] ok?", created: -2h, public: false}
        links:                  # direction outward: this ticket <outward phrase> key
          - {type: Duplicate, direction: outward, key: SS-100}
        history:                # the changelog before now (expand=changelog), any order;
          - {at: -3h, field: assignee, to: maya.patel@goeverbright.example}
          - {at: -2h, field: status, from: Open, to: In Progress, by: Maya Patel}
            # field: assignee, reporter, status, priority, labels, summary, due_date,
            # components, or a custom field (Organizations, qa_assignee, ...); `from`
            # defaults to the previous change's `to`; `by` (a user) to no author
    site:                       # the Jira site as the automation account sees it
      language: de              # the account's language (informational)
      translations:             # English name -> the name Jira shows in that language, for
        Organizations: Organisationen   # custom fields and issue types (`untranslatedName`
        Task: Aufgabe                   # keeps the English one); JQL takes both
    slack:
      users: [{id: U0APPROVER, email: ..., real_name: ...}]   # beyond users with slack_id
      channels: ["#support-sla"]
    sheets:
      onboarding:               # spreadsheet key
        tabs:
          - title: Financier onboarding
            rows:               # a cell {date: -3d, format: "%m/%d/%Y"} becomes that date's text
              - [Account, Status]

A user is referenced by account id, email, display name or (when only one person has it) first
name. A user referenced by email but not declared becomes a customer; any other unknown reference
is an error. The result is a plain dict with the same sections, normalized (datetimes aware,
account ids resolved, ids assigned), plus ``now``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

DEMO_DIR = Path(__file__).parent / "fixtures" / "demo"
PEOPLE_FILE = DEMO_DIR / "00_people.yaml"

SECTIONS = (
    "site",
    "users",
    "organizations",
    "projects",
    "custom_fields",
    "link_types",
    "tickets",
    "slack",
    "sheets",
)
USER_KINDS = ("agent", "customer", "app")
CATEGORIES = {
    "new": "new",
    "to do": "new",
    "todo": "new",
    "indeterminate": "indeterminate",
    "in progress": "indeterminate",
    "done": "done",
}
CUSTOM_FIELD_TYPES = ("option", "options", "date", "user", "text")
DEFAULT_LINK_TYPES = [
    {"name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
    {"name": "Cloners", "inward": "is cloned by", "outward": "clones"},
    {"name": "Duplicate", "inward": "is duplicated by", "outward": "duplicates"},
    {"name": "Relates", "inward": "relates to", "outward": "relates to"},
]
DEFAULT_FIRST_RESPONSE_GOAL = timedelta(hours=2)
"""SOP: all new and unassigned tickets must be given a first response within 2 hours."""

TICKET_KEYS = {
    "key",
    "project",
    "issuetype",
    "summary",
    "description",
    "status",
    "created",
    "updated",
    "resolved",
    "assignee",
    "reporter",
    "priority",
    "labels",
    "components",
    "organizations",
    "request_type",
    "channel",
    "needs_configuration",
    "due_date",
    "configuration_date",
    "qa_due_date",
    "qa_assignee",
    "parent",
    "properties",
    "custom",
    "sla",
    "comments",
    "links",
    "history",
}
HISTORY_PEOPLE = {"assignee", "reporter", "qa_assignee", "QA Assignee"}
HISTORY_DATES = {"due_date", "duedate", "configuration_date", "Configuration Date", "qa_due_date"}
HISTORY_DATES |= {"QA Due Date"}
HISTORY_LISTS = {"labels", "components", "organizations", "Organizations", "channel", "Channel"}
HISTORY_FIELDS = (
    {"status", "priority", "summary", "request_type", "Request Type", "needs_configuration"}
    | HISTORY_PEOPLE
    | HISTORY_DATES
    | HISTORY_LISTS
    | {"Needs Configuration?"}
)


class FixtureError(ValueError):
    """A desk file cannot be used; the message names the file and key path."""


# -- time ------------------------------------------------------------------------------------

_PERIOD = re.compile(r"([+-]?)\s*((?:\d+\s*[wdhm]\s*)+)")
_PART = re.compile(r"(\d+)\s*([wdhm])")
_UNIT = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
}


def parse_period(text: str) -> timedelta | None:
    """'-2d4h' -> -(2 days 4 hours); None if ``text`` is not a period."""
    m = _PERIOD.fullmatch(text.strip())
    if not m:
        return None
    total = sum((int(n) * _UNIT[u] for n, u in _PART.findall(m.group(2))), timedelta(0))
    return -total if m.group(1) == "-" else total


def parse_time(value: Any, now: datetime, where: str = "time") -> datetime:
    """Absolute or relative time -> aware datetime (naive values are UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == "now":
            return now
        period = parse_period(text)
        if period is not None:
            return now + period
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise FixtureError(
        f"{where}: {value!r} is not a time (use ISO 8601 or a relative time like -3h, -2d4h, -30m)"
    )


def parse_day(value: Any, now: datetime, where: str = "date") -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return parse_time(value, now, where).date()


# -- loading ---------------------------------------------------------------------------------


def _files(path: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(path, str | Path):
        paths = [Path(path)]
    else:
        paths = [Path(p) for p in path]
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(f for f in p.iterdir() if f.suffix in (".yaml", ".yml")))
        elif p.is_file():
            files.append(p)
        else:
            raise FixtureError(f"{p}: no such desk file or directory")
    return files


def load_desk(path_or_dir: str | Path | Sequence[str | Path], now: datetime) -> dict[str, Any]:
    """Read and merge desk files; relative times are taken from ``now``."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    raw: dict[str, list[tuple[str, Any]]] = {
        s: [] for s in SECTIONS if s not in ("slack", "sheets", "site")
    }
    site: dict[str, Any] = {"language": "en", "translations": {}}
    slack_users: list[tuple[str, Any]] = []
    slack_channels: list[tuple[str, Any]] = []
    sheets: dict[str, dict[str, Any]] = {}
    for file in _files(path_or_dir):
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise FixtureError(f"{file}: not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise FixtureError(f"{file}: expected a mapping of sections ({', '.join(SECTIONS)})")
        for section, content in data.items():
            if section not in SECTIONS:
                raise FixtureError(
                    f"{file}: unknown section {section!r}; expected one of {', '.join(SECTIONS)}"
                )
            if content is None:
                continue
            if section == "site":
                _merge_site(site, content, f"{file}: site")
            elif section == "slack":
                _expect(content, dict, f"{file}: slack")
                for key in content:
                    if key not in ("users", "channels"):
                        raise FixtureError(f"{file}: slack.{key}: expected users or channels")
                for i, u in enumerate(content.get("users") or []):
                    slack_users.append((f"{file}: slack.users[{i}]", u))
                for i, c in enumerate(content.get("channels") or []):
                    slack_channels.append((f"{file}: slack.channels[{i}]", c))
            elif section == "sheets":
                _expect(content, dict, f"{file}: sheets")
                for key, sheet in content.items():
                    _merge_sheet(sheets, str(key), sheet, now, f"{file}: sheets.{key}")
            else:
                _expect(content, list, f"{file}: {section}")
                raw[section].extend((f"{file}: {section}[{i}]", e) for i, e in enumerate(content))
    desk = _normalize(raw, slack_users, slack_channels, sheets, now)
    desk["site"] = site
    return desk


def _merge_site(site: dict[str, Any], content: Any, where: str) -> None:
    _expect(content, dict, where)
    unknown = set(content) - {"language", "translations"}
    if unknown:
        raise FixtureError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if content.get("language") is not None:
        site["language"] = str(content["language"])
    translations = content.get("translations") or {}
    _expect(translations, dict, f"{where}.translations")
    for english, shown in translations.items():
        if not isinstance(shown, str) or not shown.strip():
            raise FixtureError(f"{where}.translations.{english}: expected the translated name")
        site["translations"][str(english)] = shown


def _expect(value: Any, kind: type, where: str) -> None:
    if not isinstance(value, kind):
        names: dict[type, str] = {list: "a list", dict: "a mapping", str: "a string"}
        name = names.get(kind, kind.__name__)
        raise FixtureError(f"{where}: expected {name}, got {type(value).__name__}")


def _merge_sheet(
    sheets: dict[str, dict[str, Any]], key: str, sheet: Any, now: datetime, where: str
) -> None:
    _expect(sheet, dict, where)
    tabs = sheet.get("tabs") or []
    _expect(tabs, list, f"{where}.tabs")
    merged = sheets.setdefault(key, {"tabs": []})
    titles = {t["title"] for t in merged["tabs"]}
    for i, tab in enumerate(tabs):
        at = f"{where}.tabs[{i}]"
        _expect(tab, dict, at)
        title = str(tab.get("title") or "")
        if not title:
            raise FixtureError(f"{at}.title: every tab needs a title")
        if title in titles:
            raise FixtureError(f"{at}.title: tab {title!r} is defined twice for sheet {key!r}")
        titles.add(title)
        rows = tab.get("rows") or []
        _expect(rows, list, f"{at}.rows")
        cells = []
        for r, row in enumerate(rows):
            _expect(row, list, f"{at}.rows[{r}]")
            cells.append([_cell(c, now, f"{at}.rows[{r}][{j}]") for j, c in enumerate(row)])
        merged["tabs"].append({"title": title, "rows": cells})


def _cell(value: Any, now: datetime, where: str) -> Any:
    # YAML turns 2026-11-01 into a date; a sheet cell is text, so keep the ISO spelling.
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        if "date" not in value:
            raise FixtureError(f"{where}: a mapping cell needs `date` (and optional `format`)")
        day = parse_day(value["date"], now, where)
        return day.strftime(str(value.get("format") or "%Y-%m-%d"))
    return value


# -- normalization ---------------------------------------------------------------------------


class _People:
    """Resolves a reference (account id, email or display name) to an account id."""

    def __init__(self) -> None:
        self.users: list[dict[str, Any]] = []
        self._by: dict[str, str] = {}

    def add(self, user: dict[str, Any], where: str) -> None:
        for ref in (user["account_id"], user["email"]):
            if ref and ref.casefold() in self._by:
                raise FixtureError(f"{where}: user {ref!r} is declared twice")
        self.users.append(user)
        for ref in (user["account_id"], user["email"], user["display_name"]):
            if ref:
                self._by.setdefault(ref.casefold(), user["account_id"])

    def resolve(self, ref: Any, where: str) -> str | None:
        if ref is None or ref == "":
            return None
        if isinstance(ref, dict):
            ref = ref.get("account_id") or ref.get("email") or ref.get("display_name")
        text = str(ref).strip()
        found = self._by.get(text.casefold())
        if found:
            return found
        # A first name alone ("maya") names the one person who has it.
        first = [
            u["account_id"]
            for u in self.users
            if (u["display_name"] or "").split()[:1] == [text]
            or ((u["display_name"] or "").casefold().split()[:1] == [text.casefold()])
        ]
        if len(first) == 1 and " " not in text and "@" not in text:
            return first[0]
        if "@" in text:
            # Customers write in from anywhere: an unknown email is a new customer account.
            local = text.split("@", 1)[0]
            account_id = "qm:" + re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")
            self.add(
                {
                    "account_id": account_id,
                    "display_name": " ".join(p.capitalize() for p in re.split(r"[._-]+", local)),
                    "email": text,
                    "slack_id": None,
                    "kind": "customer",
                    "time_zone": "UTC",
                },
                where,
            )
            return account_id
        raise FixtureError(
            f"{where}: unknown user {text!r}; declare it under `users:` "
            "(or reference it by email to make a customer)"
        )


def _user(entry: Any, where: str) -> dict[str, Any]:
    _expect(entry, dict, where)
    email = entry.get("email")
    display = entry.get("display_name") or entry.get("name")
    account_id = entry.get("account_id")
    if not account_id:
        seed = email or display
        if not seed:
            raise FixtureError(f"{where}: a user needs account_id, email or display_name")
        account_id = "acc-" + re.sub(r"[^a-z0-9]+", "-", str(seed).split("@")[0].casefold())
    kind = str(entry.get("kind") or "agent")
    if kind not in USER_KINDS:
        raise FixtureError(f"{where}.kind: {kind!r} is not one of {', '.join(USER_KINDS)}")
    return {
        "account_id": str(account_id),
        "display_name": str(display or email or account_id),
        "email": str(email) if email else None,
        "slack_id": str(entry["slack_id"]) if entry.get("slack_id") else None,
        "kind": kind,
        "time_zone": str(entry.get("time_zone") or "UTC"),
        "hide_email": bool(entry.get("hide_email", False)),
    }


def _str_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    _expect(value, list, where)
    return [str(v) for v in value]


def _project(entry: Any, where: str) -> dict[str, Any]:
    _expect(entry, dict, where)
    key = str(entry.get("key") or "")
    if not re.fullmatch(r"[A-Z][A-Z0-9_]{1,9}", key):
        raise FixtureError(f"{where}.key: {key!r} is not a Jira project key (e.g. SS)")
    ptype = str(entry.get("type") or "software")
    statuses = []
    for i, s in enumerate(entry.get("statuses") or []):
        at = f"{where}.statuses[{i}]"
        if isinstance(s, str):
            s = {"name": s, "category": "indeterminate"}
        _expect(s, dict, at)
        category = CATEGORIES.get(str(s.get("category", "")).casefold())
        if category is None:
            raise FixtureError(
                f"{at}.category: {s.get('category')!r} is not new, indeterminate or done"
            )
        statuses.append({"name": str(s["name"]), "category": category})
    if not statuses:
        raise FixtureError(f"{where}.statuses: a project needs at least one status")
    names = {s["name"].casefold() for s in statuses}
    initial = str(entry.get("initial_status") or statuses[0]["name"])
    if initial.casefold() not in names:
        raise FixtureError(f"{where}.initial_status: {initial!r} is not one of the statuses")
    transitions = []
    for i, t in enumerate(entry.get("transitions") or []):
        at = f"{where}.transitions[{i}]"
        _expect(t, dict, at)
        to = str(t.get("to") or "")
        if to.casefold() not in names:
            raise FixtureError(f"{at}.to: {to!r} is not one of the project's statuses")
        sources = t.get("from")
        sources = [] if sources in (None, "*", "any") else _str_list(sources, f"{at}.from")
        for s in sources:
            if s.casefold() not in names:
                raise FixtureError(f"{at}.from: {s!r} is not one of the project's statuses")
        transitions.append(
            {
                "id": str(t.get("id") or (i + 1) * 10 + 1),
                "name": str(t.get("name") or to),
                "from": sources,
                "to": to,
            }
        )
    default_types = ["Service Request", "Task"] if ptype == "service_desk" else ["Task"]
    return {
        "key": key,
        "name": str(entry.get("name") or key),
        "type": ptype,
        "issue_types": _str_list(entry.get("issue_types"), f"{where}.issue_types") or default_types,
        "request_types": _str_list(entry.get("request_types"), f"{where}.request_types"),
        "components": _str_list(entry.get("components"), f"{where}.components"),
        "statuses": statuses,
        "initial_status": initial,
        "transitions": transitions,
    }


def _normalize(
    raw: dict[str, list[tuple[str, Any]]],
    slack_users: list[tuple[str, Any]],
    slack_channels: list[tuple[str, Any]],
    sheets: dict[str, dict[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    people = _People()
    for where, entry in raw["users"]:
        people.add(_user(entry, where), where)

    organizations: list[dict[str, str]] = []
    for where, entry in raw["organizations"]:
        name = entry.get("name") if isinstance(entry, dict) else entry
        if not name:
            raise FixtureError(f"{where}: an organization needs a name")
        org_id = entry.get("id") if isinstance(entry, dict) else None
        organizations.append({"id": str(org_id or len(organizations) + 1), "name": str(name)})

    projects: dict[str, dict[str, Any]] = {}
    for where, entry in raw["projects"]:
        project = _project(entry, where)
        if project["key"] in projects:
            raise FixtureError(f"{where}.key: project {project['key']} is defined twice")
        projects[project["key"]] = project

    custom_fields = []
    for where, entry in raw["custom_fields"]:
        _expect(entry, dict, where)
        ftype = str(entry.get("type") or "text")
        if ftype not in CUSTOM_FIELD_TYPES:
            raise FixtureError(
                f"{where}.type: {ftype!r} is not one of {', '.join(CUSTOM_FIELD_TYPES)}"
            )
        custom_fields.append(
            {
                "name": str(entry["name"]),
                "type": ftype,
                "options": _str_list(entry.get("options"), f"{where}.options"),
            }
        )

    link_types = []
    for where, entry in raw["link_types"]:
        _expect(entry, dict, where)
        link_types.append({k: str(entry[k]) for k in ("name", "inward", "outward")})
    link_types = link_types or [dict(t) for t in DEFAULT_LINK_TYPES]

    tickets = [
        _ticket(entry, where, now, people, projects, custom_fields, link_types)
        for where, entry in raw["tickets"]
    ]
    keys = {t["key"] for t in tickets}
    seen: set[str] = set()
    for (where, _entry), ticket in zip(raw["tickets"], tickets, strict=True):
        if ticket["key"] in seen:
            raise FixtureError(f"{where}.key: ticket {ticket['key']} is defined twice")
        seen.add(ticket["key"])
        if ticket["parent"] and ticket["parent"] not in keys:
            raise FixtureError(f"{where}.parent: no ticket {ticket['parent']} in the desk")
        for i, link in enumerate(ticket["links"]):
            if link["key"] not in keys:
                raise FixtureError(f"{where}.links[{i}].key: no ticket {link['key']} in the desk")
        for name in ticket["organizations"]:
            if not any(o["name"].casefold() == name.casefold() for o in organizations):
                organizations.append({"id": str(len(organizations) + 1), "name": name})

    slack = _slack(people.users, slack_users, slack_channels)
    return {
        "now": now,
        "users": people.users,
        "organizations": organizations,
        "projects": list(projects.values()),
        "custom_fields": custom_fields,
        "link_types": link_types,
        "tickets": tickets,
        "slack": slack,
        "sheets": sheets,
    }


def _slack(
    users: list[dict[str, Any]],
    extra: list[tuple[str, Any]],
    channels: list[tuple[str, Any]],
) -> dict[str, Any]:
    by_id: dict[str, dict[str, Any]] = {}
    for u in users:
        if u["slack_id"]:
            by_id[u["slack_id"]] = {
                "id": u["slack_id"],
                "name": (u["email"] or u["display_name"]).split("@")[0],
                "real_name": u["display_name"],
                "display_name": u["display_name"],
                "email": u["email"],
                "tz": u["time_zone"],
                "is_bot": u["kind"] == "app",
            }
    for where, entry in extra:
        _expect(entry, dict, where)
        if not entry.get("id"):
            raise FixtureError(f"{where}.id: a Slack user needs an id (U...)")
        merged = dict(by_id.get(str(entry["id"]), {}))
        merged.update({k: v for k, v in entry.items() if v is not None})
        merged["id"] = str(entry["id"])
        by_id[merged["id"]] = merged
    names: list[str] = []
    for where, channel in channels:
        _expect(channel, str, where)
        if channel not in names:
            names.append(channel)
    return {"users": list(by_id.values()), "channels": names}


def _ticket(
    entry: Any,
    where: str,
    now: datetime,
    people: _People,
    projects: dict[str, dict[str, Any]],
    custom_fields: list[dict[str, Any]],
    link_types: list[dict[str, str]],
) -> dict[str, Any]:
    """One fixture ticket -> the normalized dict the Jira emulator loads."""
    _expect(entry, dict, where)
    unknown = set(entry) - TICKET_KEYS
    if unknown:
        raise FixtureError(
            f"{where}: unknown ticket key(s) {', '.join(sorted(unknown))}; "
            f"expected some of {', '.join(sorted(TICKET_KEYS))}"
        )
    key = str(entry.get("key") or "")
    m = re.fullmatch(r"([A-Z][A-Z0-9_]+)-(\d+)", key)
    if not m:
        raise FixtureError(f"{where}.key: {key!r} is not an issue key (e.g. SS-101)")
    where = f"{where} ({key})"
    project_key = str(entry.get("project") or m.group(1))
    project = projects.get(project_key)
    if project is None:
        raise FixtureError(
            f"{where}.project: no project {project_key!r} (declare it under projects:)"
        )
    status = str(entry.get("status") or project["initial_status"])
    category = next(
        (s["category"] for s in project["statuses"] if s["name"].casefold() == status.casefold()),
        None,
    )
    if category is None:
        names = ", ".join(s["name"] for s in project["statuses"])
        raise FixtureError(f"{where}.status: {status!r} is not a {project_key} status ({names})")
    status = next(
        s["name"] for s in project["statuses"] if s["name"].casefold() == status.casefold()
    )

    def when(name: str, default: datetime | None) -> datetime | None:
        value = entry.get(name)
        return default if value is None else parse_time(value, now, f"{where}.{name}")

    def day(name: str) -> date | None:
        value = entry.get(name)
        return None if value is None else parse_day(value, now, f"{where}.{name}")

    def person(name: str) -> str | None:
        return people.resolve(entry.get(name), f"{where}.{name}")

    created = when("created", now)
    assert created is not None
    reporter = person("reporter")
    comments: list[dict[str, Any]] = []
    for i, c in enumerate(entry.get("comments") or []):
        at = f"{where}.comments[{i}]"
        if isinstance(c, str):
            c = {"body": c}
        _expect(c, dict, at)
        author = people.resolve(c.get("author"), f"{at}.author") or reporter
        c_created = parse_time(c.get("created", created), now, f"{at}.created")
        comments.append(
            {
                "author": author,
                "body": str(c.get("body") or ""),
                "created": c_created,
                "public": bool(c.get("public", True)),
            }
        )
    latest = max([created, *(c["created"] for c in comments)])
    updated = when("updated", latest)
    assert updated is not None
    resolved = when("resolved", updated if category == "done" else None)

    links = []
    type_names = {t["name"].casefold(): t["name"] for t in link_types}
    for i, link in enumerate(entry.get("links") or []):
        at = f"{where}.links[{i}]"
        _expect(link, dict, at)
        ltype = type_names.get(str(link.get("type") or "").casefold())
        if ltype is None:
            raise FixtureError(
                f"{at}.type: {link.get('type')!r} is not one of {', '.join(type_names.values())}"
            )
        direction = str(link.get("direction") or "outward")
        if direction not in ("inward", "outward"):
            raise FixtureError(f"{at}.direction: {direction!r} is not inward or outward")
        links.append({"type": ltype, "direction": direction, "key": str(link.get("key") or "")})

    sla_entry = (entry.get("sla") or {}).get("first_response") or {}
    _expect(sla_entry, dict, f"{where}.sla.first_response")
    goal = DEFAULT_FIRST_RESPONSE_GOAL
    if sla_entry.get("goal") is not None:
        parsed_goal = parse_period(str(sla_entry["goal"]))
        if parsed_goal is None or parsed_goal <= timedelta(0):
            raise FixtureError(
                f"{where}.sla.first_response.goal: {sla_entry['goal']!r} is not a period like 2h"
            )
        goal = parsed_goal
    paused_at = sla_entry.get("paused_at")
    sla = {
        "first_response": {
            "paused": bool(sla_entry.get("paused", False)),
            "paused_at": None
            if paused_at is None
            else parse_time(paused_at, now, f"{where}.sla.first_response.paused_at"),
            "goal": goal,
        }
    }

    custom = dict(entry.get("custom") or {})
    _expect(custom, dict, f"{where}.custom")
    known = {f["name"] for f in custom_fields}
    for name in custom:
        if name not in known:
            raise FixtureError(
                f"{where}.custom.{name}: no such custom field (declare it under custom_fields:)"
            )
    for field in custom_fields:
        if field["name"] in custom and field["type"] == "date":
            custom[field["name"]] = parse_day(custom[field["name"]], now, f"{where}.custom")
        elif field["name"] in custom and field["type"] == "user":
            custom[field["name"]] = people.resolve(custom[field["name"]], f"{where}.custom")

    history = _history(entry.get("history"), where, now, people, project, custom_fields)

    properties = entry.get("properties") or {}
    _expect(properties, dict, f"{where}.properties")
    issue_type = str(entry.get("issuetype") or project["issue_types"][0])
    return {
        "key": key,
        "project": project_key,
        "issuetype": issue_type,
        "summary": str(entry.get("summary") or ""),
        "description": str(entry.get("description") or ""),
        "status": status,
        "created": created,
        "updated": updated,
        "resolved": resolved,
        "assignee": person("assignee"),
        "reporter": reporter,
        "priority": str(entry["priority"]) if entry.get("priority") else None,
        "labels": _str_list(entry.get("labels"), f"{where}.labels"),
        "components": _str_list(entry.get("components"), f"{where}.components"),
        "organizations": _str_list(entry.get("organizations"), f"{where}.organizations"),
        "request_type": str(entry["request_type"]) if entry.get("request_type") else None,
        "channel": _str_list(entry.get("channel"), f"{where}.channel"),
        "needs_configuration": (
            str(entry["needs_configuration"]) if entry.get("needs_configuration") else None
        ),
        "due_date": day("due_date"),
        "configuration_date": day("configuration_date"),
        "qa_due_date": day("qa_due_date"),
        "qa_assignee": person("qa_assignee"),
        "parent": str(entry["parent"]) if entry.get("parent") else None,
        "properties": dict(properties),
        "custom": dict(custom),
        "sla": sla,
        "comments": comments,
        "links": links,
        "history": history,
    }


def _history(
    raw: Any,
    where: str,
    now: datetime,
    people: _People,
    project: dict[str, Any],
    custom_fields: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """A ticket's ``history:`` entries with times, people and dates resolved."""
    if raw is None:
        return []
    _expect(raw, list, f"{where}.history")
    custom = {f["name"]: f["type"] for f in custom_fields}
    out = []
    for i, entry in enumerate(raw):
        at = f"{where}.history[{i}]"
        _expect(entry, dict, at)
        unknown = set(entry) - {"at", "field", "from", "to", "by"}
        if unknown:
            raise FixtureError(f"{at}: unknown key(s) {', '.join(sorted(unknown))}")
        field = str(entry.get("field") or "")
        if field not in HISTORY_FIELDS and field not in custom:
            raise FixtureError(
                f"{at}.field: {field!r} is not a field with a history here "
                f"({', '.join(sorted(HISTORY_FIELDS | set(custom)))})"
            )

        def value(side: str, entry: Any = entry, field: str = field, at: str = at) -> Any:
            given = entry.get(side)
            if given is None:
                return None
            if field in HISTORY_PEOPLE or custom.get(field) == "user":
                return people.resolve(given, f"{at}.{side}")
            if field in HISTORY_DATES or custom.get(field) == "date":
                return parse_day(given, now, f"{at}.{side}")
            if field in HISTORY_LISTS or custom.get(field) == "options":
                return _str_list(given, f"{at}.{side}")
            if field == "status":
                names = {s["name"].casefold(): s["name"] for s in project["statuses"]}
                if str(given).casefold() not in names:
                    raise FixtureError(f"{at}.{side}: {given!r} is not a {project['key']} status")
                return names[str(given).casefold()]
            return str(given)

        out.append(
            {
                "at": parse_time(entry.get("at", "now"), now, f"{at}.at"),
                "field": field,
                "to": value("to"),
                "from": value("from"),
                "has_from": "from" in entry,
                "by": people.resolve(entry.get("by"), f"{at}.by"),
            }
        )
    return out


def normalize_ticket(entry: dict[str, Any], desk: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Normalize one ticket against an already loaded desk (for ``JiraEmulator.add_issue``).

    Customers first seen here (by email) are appended to ``desk['users']``.
    """
    people = _People()
    for user in desk["users"]:
        people.add(user, "desk")
    projects = {p["key"]: p for p in desk["projects"]}
    ticket = _ticket(
        entry, "add_issue", now, people, projects, desk["custom_fields"], desk["link_types"]
    )
    for user in people.users[len(desk["users"]) :]:
        desk["users"].append(user)
    return ticket
