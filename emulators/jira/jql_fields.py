"""The desk's fields as `emulators.jql` sees them (names, aliases, kinds)."""

from __future__ import annotations

from collections.abc import Callable

from emulators import jql
from emulators.jira.model import (
    CATEGORY_JSON,
    PRIORITIES,
    CustomFieldDef,
    IssueState,
)


class JqlFields:
    """What each JQL field name means on this desk (see `emulators.jql`)."""

    def _jql_context(self) -> jql.Context:
        assert self._myself is not None
        return jql.Context(
            now=self.now(), current_user=self._myself["account_id"], field=self._jql_field
        )

    def _jql_field(self, name: str) -> jql.FieldSpec | None:
        folded = name.casefold()
        K = jql.Kind
        N = jql.Named

        def user_values(attr: str) -> Callable[[IssueState], list[jql.Named]]:
            by_account: dict[str, list[jql.Named]] = {}  # once per user and query

            def get(issue: IssueState) -> list[jql.Named]:
                account_id = getattr(issue, attr)
                if not account_id:
                    return []
                values = by_account.get(account_id)
                if values is None:
                    values = by_account[account_id] = [self._user_named(account_id)]
                return values

            return get

        def known_users() -> list[str]:
            return [
                a for u in self.desk["users"] for a in self._user_named(u["account_id"]).aliases
            ]

        if folded == "project":
            # One value per project, made once per query rather than once per issue.
            by_project: dict[str, list[jql.Named]] = {}

            def project_values(issue: IssueState) -> list[jql.Named]:
                values = by_project.get(issue.project)
                if values is None:
                    key = issue.project
                    values = [
                        N.of(key, self._projects[key]["name"], self._project_json(key, "2")["id"])
                    ]
                    by_project[key] = values
                return values

            return jql.FieldSpec(
                "project",
                K.NAME,
                project_values,
                known=lambda: [
                    a
                    for k in self._projects
                    for a in (
                        k.casefold(),
                        self._projects[k]["name"].casefold(),
                        self._project_json(k, "2")["id"],
                    )
                ],
            )
        if folded in ("key", "issuekey", "issue", "id"):
            return jql.FieldSpec(
                "key",
                K.KEY,
                lambda i: [N.of(i.key, i.id, sort=(i.project, i.number))],
                known=lambda: [a for i in self._issues.values() for a in (i.key.casefold(), i.id)],
            )
        if folded == "parent":
            return jql.FieldSpec(
                "parent",
                K.KEY,
                lambda i: [self._key_named(i.parent)] if i.parent in self._issues else [],
                known=lambda: [a for i in self._issues.values() for a in (i.key.casefold(), i.id)],
            )
        if folded in ("issuetype", "type"):
            return jql.FieldSpec(
                "issuetype",
                K.NAME,
                # JQL takes the English name, the shown (translated) one, or the id.
                lambda i: [N.of(i.issuetype, self._shown(i.issuetype), self._type_id(i.issuetype))],
                known=lambda: [
                    a
                    for n, tid in self._type_ids.items()
                    for a in (n, self._shown(self._type_names.get(n, n)).casefold(), tid)
                ],
            )
        if folded == "status":
            return jql.FieldSpec(
                "status",
                K.NAME,
                lambda i: [N.of(i.status, self._status_id(i.status))],
                known=lambda: [a for n, sid in self._status_ids.items() for a in (n, sid)],
            )
        if folded == "statuscategory":
            by_status: dict[tuple[str, str], list[jql.Named]] = {}  # once per status and query

            def category_values(issue: IssueState) -> list[jql.Named]:
                values = by_status.get((issue.project, issue.status))
                if values is None:
                    category = self._category(issue.project, issue.status)
                    values = by_status[issue.project, issue.status] = [
                        self._category_named(category)
                    ]
                return values

            return jql.FieldSpec(
                "statusCategory",
                K.NAME,
                category_values,
                known=lambda: [a for c in CATEGORY_JSON for a in self._category_named(c).aliases],
            )
        if folded in ("assignee", "reporter"):
            return jql.FieldSpec(folded, K.USER, user_values(folded), known=known_users)
        if folded == "priority":
            return jql.FieldSpec(
                "priority",
                K.NAME,
                lambda i: (
                    [
                        N.of(
                            i.priority,
                            str(PRIORITIES.index(i.priority) + 1),
                            sort=len(PRIORITIES) - PRIORITIES.index(i.priority),
                        )
                    ]
                    if i.priority in PRIORITIES
                    else []
                ),
                known=lambda: [
                    a for n, p in enumerate(PRIORITIES, 1) for a in (p.casefold(), str(n))
                ],
            )
        if folded == "labels":
            return jql.FieldSpec("labels", K.NAME, lambda i: [N.of(label) for label in i.labels])
        if folded == "component":
            return jql.FieldSpec(
                "component",
                K.NAME,
                lambda i: [N.of(c, self._component_id(c)) for c in i.components],
            )
        if folded == "resolution":
            return jql.FieldSpec(
                "resolution",
                K.NAME,
                lambda i: [N.of("Done", "10000")] if i.resolved else [],
                known=lambda: ["done", "10000", "unresolved"],
                empty_aliases=frozenset({"unresolved"}),
            )
        if folded in ("summary", "description"):
            return jql.FieldSpec(
                folded, K.TEXT, lambda i: [getattr(i, folded)] if getattr(i, folded) else []
            )
        if folded == "comment":
            return jql.FieldSpec("comment", K.TEXT, lambda i: [c.body for c in i.comments])
        if folded == "text":
            return jql.FieldSpec(
                "text",
                K.TEXT,
                lambda i: (
                    [i.summary, i.description, *(c.body for c in i.comments)]
                    + [str(v) for cf in self._custom if cf.type == "text" and (v := cf.get(i))]
                ),
            )
        if folded in ("created", "createddate", "updated", "updateddate"):
            attr = "created" if folded.startswith("created") else "updated"
            return jql.FieldSpec(attr, K.DATETIME, lambda i: [getattr(i, attr)])
        if folded in ("resolved", "resolutiondate"):
            return jql.FieldSpec(
                "resolved", K.DATETIME, lambda i: [i.resolved] if i.resolved else []
            )
        if folded in ("due", "duedate"):
            return jql.FieldSpec("due", K.DATE, lambda i: [i.due_date] if i.due_date else [])
        if folded == "organization":
            folded = "organizations"
        cf = next(
            (
                c
                for c in self._custom
                if folded
                in (c.id, self._shown(c.name).casefold(), *(n.casefold() for n in c.clause_names))
            ),
            None,
        )
        if cf is None:
            return None
        return self._custom_jql_field(cf, known_users)

    def _custom_jql_field(
        self, cf: CustomFieldDef, known_users: Callable[[], list[str]]
    ) -> jql.FieldSpec:
        K = jql.Kind
        N = jql.Named
        if cf.type == "organizations":
            return jql.FieldSpec(
                cf.name,
                K.NAME,
                lambda i: [N.of(o, self._orgs.get(o)) for o in cf.get(i) or []],
                known=lambda: [a for o, oid in self._orgs.items() for a in (o.casefold(), oid)],
            )
        if cf.type == "request_type":
            return jql.FieldSpec(
                cf.name,
                K.NAME,
                lambda i: [self._request_type_named(cf.get(i))] if cf.get(i) else [],
                known=lambda: [
                    a for n in self._request_type_ids for a in self._request_type_named(n).aliases
                ],
            )
        if cf.type == "sla":
            return jql.FieldSpec(
                cf.name, K.SLA, lambda i: [s] if (s := self._sla_state(i)) is not None else []
            )
        if cf.type == "date":
            return jql.FieldSpec(cf.name, K.DATE, lambda i: [v] if (v := cf.get(i)) else [])
        if cf.type == "user":
            return jql.FieldSpec(
                cf.name,
                K.USER,
                lambda i: [self._user_named(v)] if (v := cf.get(i)) else [],
                known=known_users,
            )
        if cf.type in ("options", "option"):

            def option_values(i: IssueState) -> list[jql.Named]:
                value = cf.get(i)
                values = value if isinstance(value, list) else ([value] if value else [])
                return [N.of(v, self._option_json(cf, v, "2")["id"]) for v in values]

            return jql.FieldSpec(
                cf.name,
                K.NAME,
                option_values,
                known=lambda: [
                    a
                    for o in cf.options
                    for a in (o.casefold(), self._option_json(cf, o, "2")["id"])
                ],
            )
        return jql.FieldSpec(cf.name, K.TEXT, lambda i: [str(v)] if (v := cf.get(i)) else [])

    def _user_named(self, account_id: str) -> jql.Named:
        user = self._users.get(account_id) or {}
        return jql.Named.of(
            account_id,
            user.get("email"),
            user.get("display_name"),
            sort=(user.get("display_name") or account_id).casefold(),
        )

    def _key_named(self, key: str | None) -> jql.Named:
        issue = self._issues[key or ""]
        return jql.Named.of(issue.key, issue.id, sort=(issue.project, issue.number))

    def _category_named(self, category: str) -> jql.Named:
        c = CATEGORY_JSON[category]
        return jql.Named.of(c["key"], c["name"], str(c["id"]), sort=c["id"])

    def _request_type_named(self, name: str) -> jql.Named:
        rid = self._request_type_id(name)
        project = next(
            (p["key"] for p in self.desk["projects"] if name in p["request_types"]), "SS"
        )
        return jql.Named.of(name, rid, f"{project.lower()}/{rid}")
