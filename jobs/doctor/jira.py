"""Jira checks: the account, the two projects, the custom fields, link types, workflow
statuses and transitions, the issue type and parent epic a create needs, request types, and
the people.
Every request is a GET: the JQL search that finds a ticket to read transitions from too."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any
from urllib.parse import quote

from jobs.adapters.http import PermanentError
from jobs.adapters.jira.fields import (
    FIELD_SHAPES,
    TICKET_CUSTOM_FIELDS,
    FieldCatalog,
    FieldShape,
)
from jobs.context import REQUIRED_ENV
from jobs.doctor import Check, Outcome, Site, fail, jobs_text, missing_env, ok, skip
from jobs.doctor.needs import DUPLICATE, TransitionNeed
from jobs.jql import jql_quote

CREDENTIALS = "jira credentials"
PAGE = 50


def jira_checks(site: Site) -> Iterator[Check]:
    users = site.needs.systems.get("jira", ())
    if not users:
        yield Check("jira", lambda s: skip("no enabled job uses Jira"))
        return
    ss, cs = site.settings.desk.service_desk_project, site.settings.desk.config_project
    after = (CREDENTIALS,)
    yield Check(CREDENTIALS, jira_credentials)
    yield Check(f"project {ss}", service_desk_project, after)
    yield Check(f"project {cs}", config_project, after)
    for name in TICKET_CUSTOM_FIELDS:
        yield Check(f"field {name}", partial(custom_field, name=name), after)
    wanted_links = dict(site.needs.link_types)
    wanted_links.setdefault(DUPLICATE, "")
    for name, why in wanted_links.items():
        yield Check(f"link type {name}", partial(link_type, name=name, why=why), after)
    for project, statuses in site.needs.statuses.items():
        yield Check(
            f"statuses of {project}",
            partial(workflow_statuses, project=project, wanted=statuses),
            after,
        )
    for label, need, why in site.needs.transitions:
        yield Check(label, partial(transition, need=need, why=why), after)
    yield Check(f"issue type for {cs} tasks", issue_type, after)
    yield Check(f"parent epic of {cs} tasks", parent_epic, after)
    yield Check("request types", request_types, (CREDENTIALS, f"project {ss}"))
    for role in site.settings.people:
        yield Check(f"person {role} in Jira", partial(person, role=role), after)


# -- the account and the projects -----------------------------------------------------------


def jira_credentials(site: Site) -> Outcome:
    missing = missing_env(site.env, REQUIRED_ENV["jira"])
    if missing:
        return fail(f"{', '.join(missing)} not set", "fill .env (see .env.example)")
    me = site.jira.get_json("read the account (GET /myself)", "/rest/api/3/myself")
    if not isinstance(me, dict) or not isinstance(me.get("accountId"), str):
        return fail(
            "GET /rest/api/3/myself names no account",
            "check JIRA_URL is the Jira Cloud site (https://<site>.atlassian.net)",
        )
    who = f"{me.get('displayName') or '?'} ({me['accountId']})"
    kind = me.get("accountType")
    if kind not in (None, "atlassian"):
        return fail(
            f"{site.env['JIRA_EMAIL'].strip()} is {who}, a {kind} account",
            "use a licensed agent account's API token (README 'Least privilege')",
        )
    return ok(f"{site.env['JIRA_EMAIL'].strip()} signs in as {who}")


def _project(site: Site, key: str) -> dict[str, Any] | None:
    def read() -> dict[str, Any] | None:
        try:
            found = site.jira.get_json(f"read project {key}", f"/rest/api/3/project/{_q(key)}")
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        return found if isinstance(found, dict) else None

    project: dict[str, Any] | None = site.once(f"project:{key}", read)
    return project


def service_desk_project(site: Site) -> Outcome:
    key = site.settings.desk.service_desk_project
    project = _project(site, key)
    if project is None:
        return fail(
            f"no project {key} is visible to the account",
            "set desk.service_desk_project, or give the account Browse Projects on it",
        )
    name, kind = project.get("name"), project.get("projectTypeKey")
    if kind != "service_desk":
        return fail(
            f"{key} ({name}) is a {kind} project, not a Jira Service Management service desk",
            "set desk.service_desk_project to the service desk project's key",
        )
    desk = _service_desk_id(site, key)
    if desk is None:
        return fail(
            f"{key} is a service desk, but Service Management lists no desk for it to the account",
            "give the account a Service Management agent licence and the Service Desk Team role",
        )
    site.memo["service desk id"] = desk
    return ok(f"{key} ({name}) is a Service Management service desk (desk {desk})")


def _service_desk_id(site: Site, key: str) -> str | None:
    for desk in _paged(site, "list service desks", "/rest/servicedeskapi/servicedesk"):
        if isinstance(desk, dict) and str(desk.get("projectKey", "")).upper() == key.upper():
            return str(desk.get("id"))
    return None


def config_project(site: Site) -> Outcome:
    key = site.settings.desk.config_project
    project = _project(site, key)
    if project is None:
        return fail(
            f"no project {key} is visible to the account",
            "set desk.config_project, or give the account Browse Projects on it",
        )
    name, kind = project.get("name"), project.get("projectTypeKey")
    if kind not in ("software", "business"):
        return fail(
            f"{key} ({name}) is a {kind} project, not the software or business project of "
            "configuration tasks",
            "set desk.config_project to the key of the project the CS tasks live in",
        )
    return ok(f"{key} ({name}) is a {kind} project")


# -- fields ---------------------------------------------------------------------------------


def custom_field(site: Site, name: str) -> Outcome:
    users = site.needs.fields.get(name)
    if not users:
        return skip("no enabled job reads it")
    raw = site.once("fields", lambda: site.jira.get_json("list fields", "/rest/api/2/field"))
    if not isinstance(raw, list):
        raise PermanentError("jira", "GET /field did not answer with a list of fields")
    # The jobs' own lookup, with only this field's configured id: another field's wrong id
    # is that field's failure.
    configured = site.settings.jira.fields
    catalog = FieldCatalog(raw, {name: configured[name]} if name in configured else {})
    try:
        fid = catalog.get(name)
    except PermanentError as exc:  # a configured id the site does not have
        return fail(
            str(exc).removeprefix("jira: settings "),
            f"set jira.fields.{name} to an id Jira's custom fields list",
        )
    if fid is None:
        return fail(
            f"no custom field has the id, English name or name {name!r} (read by "
            f"{jobs_text(site, users, 'jira')})",
            f"set jira.fields.{name} to its id (customfield_NNNNN, from Jira's custom fields)",
        )
    schema = catalog.schema(fid)
    shape: FieldShape = FIELD_SHAPES[name]
    how = "configured" if name in site.settings.jira.fields else "by name"
    if not shape.accepts(schema):
        return fail(
            f"{fid} ({how}) is {FieldShape.shown(schema)}, not {shape.described}",
            f"set jira.fields.{name} to the id of the {shape.described.removeprefix('a ')}",
        )
    read_by = jobs_text(site, users, "jira")
    return ok(f"{fid} ({how}), {FieldShape.shown(schema)}: read by {read_by}")


# -- link types, statuses, transitions ------------------------------------------------------


def link_type(site: Site, name: str, why: str) -> Outcome:
    if not why:
        return skip("no enabled job or action uses it")

    def read() -> list[dict[str, Any]]:
        answer = site.jira.get_json("list issue link types", "/rest/api/3/issueLinkType")
        types = answer.get("issueLinkTypes") if isinstance(answer, dict) else None
        return [t for t in types if isinstance(t, dict)] if isinstance(types, list) else []

    types: list[dict[str, Any]] = site.once("link types", read)
    found = next((t for t in types if str(t.get("name", "")).casefold() == name.casefold()), None)
    if found is None:
        offered = ", ".join(str(t.get("name")) for t in types) or "none"
        return fail(
            f"the site has no issue link type {name!r} ({why}); it has {offered}",
            f"add a link type called {name} (Jira admin, Issue linking), or change the setting",
        )
    return ok(f"outward {found.get('outward')!r}, inward {found.get('inward')!r}: {why}")


def _project_statuses(site: Site, project: str) -> list[str]:
    def read() -> list[str]:
        answer = site.jira.get_json(
            f"list the statuses of {project}", f"/rest/api/3/project/{_q(project)}/statuses"
        )
        names: dict[str, None] = {}
        for itype in answer if isinstance(answer, list) else []:
            for status in itype.get("statuses") or [] if isinstance(itype, dict) else []:
                if isinstance(status, dict) and isinstance(status.get("name"), str):
                    names.setdefault(status["name"], None)
        return list(names)

    statuses: list[str] = site.once(f"statuses:{project}", read)
    return statuses


def workflow_statuses(site: Site, project: str, wanted: Mapping[str, str]) -> Outcome:
    if not wanted:
        return skip(f"no enabled job or action names a status of {project}")
    have = {s.casefold() for s in _project_statuses(site, project)}
    missing = [name for name in wanted if name.casefold() not in have]
    if missing:
        why = "; ".join(f"{name!r} ({wanted[name]})" for name in missing)
        return fail(
            f"{project}'s workflows have no status {why}; they have "
            f"{', '.join(_project_statuses(site, project)) or 'none'}",
            "set those settings to statuses the workflow has (a search naming a status "
            "that does not exist fails)",
        )
    return ok(", ".join(wanted))


def transition(site: Site, need: TransitionNeed | None, why: str) -> Outcome:
    if need is None:
        return skip(why)
    jql = f"project = {jql_quote(need.project)} AND {need.from_jql} ORDER BY created DESC"
    answer = site.jira.get_json(
        f"find {need.from_words} in {need.project}",
        "/rest/api/3/search/jql",
        {"jql": jql, "maxResults": 1, "fields": "status"},
    )
    issues = answer.get("issues") if isinstance(answer, dict) else None
    sample = issues[0] if isinstance(issues, list) and issues else None
    if not isinstance(sample, dict) or not isinstance(sample.get("key"), str):
        return skip(
            f"no {need.from_words} in {need.project} now to read its transitions from ({need.why})"
        )
    key = sample["key"]
    fields = sample.get("fields")
    status = (fields.get("status") or {}).get("name") if isinstance(fields, dict) else None
    offered = site.jira.get_json(
        f"list the transitions of {key}", f"/rest/api/3/issue/{_q(key)}/transitions"
    )
    moves = offered.get("transitions") if isinstance(offered, dict) else None
    targets: list[str] = []
    for move in moves if isinstance(moves, list) else []:
        to = move.get("to") if isinstance(move, dict) else None
        target = to.get("name") if isinstance(to, dict) else None
        if not isinstance(target, str):
            continue
        if target.casefold() == need.to_status.casefold():
            return ok(f"{key} ({status}) moves to {target} by {move.get('name')!r}: {need.why}")
        targets.append(target)
    return fail(
        f"{key} ({status}) cannot move to {need.to_status!r} ({need.why}); it can move to "
        f"{', '.join(targets) or 'nothing'}",
        f"give {need.project}'s workflow a transition to {need.to_status} (and the account "
        f"Transition Issues), or change {need.setting}",
    )


# -- issue types and request types ----------------------------------------------------------


def issue_type(site: Site) -> Outcome:
    if site.needs.create_type is None:
        return skip("actions.create_cs_tasks is off: no job creates issues")
    project, name = site.needs.create_type
    configured = {k.casefold(): v for k, v in site.settings.jira.issue_types.items()}
    offered = site.jira.creatable_types(project)
    shown = ", ".join(f"{t.get('untranslatedName') or t.get('name')} ({t['id']})" for t in offered)
    wanted_id = configured.get(name.casefold())
    if wanted_id is not None:
        found = next((t for t in offered if t["id"] == wanted_id), None)
        if found is None:
            return fail(
                f"{project} offers no issue type with id {wanted_id} (jira.issue_types.{name}) "
                f"to create; it offers {shown or 'none'}",
                f"set jira.issue_types.{name} to one of those ids, or give the account "
                f"Create Issues on {project}",
            )
        return ok(f"{project} creates {name} as id {wanted_id} (configured)")
    for key in ("untranslatedName", "name"):
        found = next(
            (t for t in offered if str(t.get(key) or "").casefold() == name.casefold()), None
        )
        if found is not None:
            return ok(f"{project} creates {name} as id {found['id']} (found by name)")
    return fail(
        f"{project} offers no issue type {name!r} to the account; it offers {shown or 'none'}",
        f"set jira.issue_types.{name} to its id, or give the account Create Issues on {project}",
    )


def parent_epic(site: Site) -> Outcome:
    """The epic a created CS task names as its parent: a key that is no epic fails every
    create, at the first channel-partner request, not before."""
    key = site.needs.create_parent
    if key is None:
        return skip("actions.create_cs_tasks is off: no job creates issues")
    setting = "jobs.channel_partner_request.onboarding_epic"
    fix = f"set {setting} to the key of the 'Configuration Partner/Product Onboarding' epic"
    try:
        issue = site.jira.get_json(
            f"read {key}", f"/rest/api/3/issue/{_q(key)}", {"fields": "issuetype,summary"}
        )
    except PermanentError as exc:
        if exc.status != 404:
            raise
        issue = None
    fields = issue.get("fields") if isinstance(issue, dict) else None
    if not isinstance(fields, dict):
        return fail(f"no issue {key} the account may see ({setting}); every create names it", fix)
    kind = fields.get("issuetype")
    if not isinstance(kind, dict):
        kind = {}
    name = str(kind.get("name") or "?")
    level = kind.get("hierarchyLevel")
    # Jira Cloud gives each type its level (epic 1, standard 0, subtask -1); by name otherwise.
    is_epic = level == 1 if isinstance(level, int) else name.casefold() == "epic"
    if not is_epic:
        return fail(f"{key} is a {name}, not an epic ({setting}); every create names it", fix)
    return ok(f"{key} {str(fields.get('summary') or '')!r} ({name}): the parent of created tasks")


def request_types(site: Site) -> Outcome:
    wanted = site.needs.request_types
    if not wanted:
        return skip(
            "no job writes a request type, and jobs.ticket_hygiene.eb_request_types names none"
        )
    desk = site.memo.get("service desk id")
    path = f"/rest/servicedeskapi/servicedesk/{_q(str(desk))}/requesttype"
    names = {
        str(t.get("name", "")).casefold()
        for t in _paged(site, "list request types", path)
        if isinstance(t, dict)
    }
    missing = [n for n in wanted if n.casefold() not in names]
    if missing:
        return fail(
            f"the service desk has no request type {', '.join(map(repr, missing))} "
            "(jobs.ticket_hygiene.eb_request_types)",
            "write the request types as the portal names them",
        )
    return ok(f"{', '.join(wanted)} (jobs.ticket_hygiene.eb_request_types)")


# -- people ---------------------------------------------------------------------------------


def person(site: Site, role: str) -> Outcome:
    why = site.needs.people_jira.get(role, "")
    if not why:
        return skip(f"no enabled job looks people.{role} up in Jira")
    configured = site.settings.people[role]
    if configured.jira_account_id:
        account = configured.jira_account_id
        try:
            user = site.jira.get_json(
                f"read user {account}", "/rest/api/3/user", {"accountId": account}
            )
        except PermanentError as exc:
            if exc.status != 404:
                raise
            user = None
        if not isinstance(user, dict):
            return fail(
                f"no Jira account {account} (people.{role}.jira_account_id; {why})",
                f"set people.{role}.jira_account_id to the id in the user's profile URL",
            )
        return ok(f"{user.get('displayName')} ({account}): {why}")
    if configured.email:
        found = site.jira.find_user(configured.email)
        if found is None or not found.account_id:
            return fail(
                f"no Jira account shows the email {configured.email} ({why})",
                f"set people.{role}.jira_account_id (Cloud hides the email of some profiles)",
            )
        return ok(f"{found.display_name} ({found.account_id}), by email: {why}")
    return fail(
        f"people.{role} has neither jira_account_id nor email ({why})",
        f"add people.{role}.jira_account_id",
    )


# -- plumbing -------------------------------------------------------------------------------


def _paged(site: Site, what: str, path: str) -> Iterator[Any]:
    """Every value of a Service Management page list (``start``/``limit``/``isLastPage``)."""
    start = 0
    while True:
        page = site.jira.get_json(what, path, {"start": start, "limit": PAGE})
        values = page.get("values") if isinstance(page, dict) else None
        if not isinstance(values, list):
            raise PermanentError("jira", f"{what}: the answer has no list of values")
        yield from values
        start += len(values)
        if not values or page.get("isLastPage", True) is not False:
            return


def _q(text: str) -> str:
    return quote(text, safe="")
