"""A Jira Cloud + Jira Service Management emulator on loopback.

It answers the REST endpoints our jobs use with the shapes Atlassian documents, so the adapter is
tested against the contract and not against our own idea of it:

- ``/rest/api/{2,3}``: serverInfo (deploymentType "Cloud"), myself, field, user/search, user,
  project (and project/{key}/statuses), priority, issueLinkType, issue (GET/PUT/POST),
  issue/{key}/transitions, issue/{key}/comment, issue/{key}/properties, issueLink, and
  ``search/jql`` (GET and POST).
  v2 bodies are wiki text with ``[~accountid:ID]`` mentions; v3 bodies are ADF documents.
  Both versions accept either on write.
- ``/rest/servicedeskapi``: request/{key}/comment (GET/POST), organization, requesttype, and
  servicedesk (one desk per service desk project) with servicedesk/{id}/requesttype.
- The removed ``/rest/api/{2,3,latest}/search`` answers 410 with Atlassian's migration message.

``search/jql`` pages with an opaque ``nextPageToken`` and never returns a total (as on Cloud).
Page caps chosen here (Jira documents only that it "may return fewer"): ``maxResults`` defaults to
50 and is capped at 100 when any field other than id/key (or any property) is requested, at 5000
for id/key only.
A query without a restriction is refused like Cloud's "Unbounded JQL queries are not allowed
here". Without ``fields`` only id and key come back, as on the new endpoint. The ``comment``
field in search results holds at most 20 comments (the oldest) with ``total``, so clients must
page ``/comment`` for the rest; ``GET /comment`` pages at most 100 per request.

JQL (see `emulators.jql`) knows: project, key/issuekey/id, parent, issuetype/type, status,
statusCategory, assignee, reporter, priority, labels, component, resolution (``Unresolved``),
summary, description, comment, text, created, updated, resolved/resolutiondate, due/duedate,
organization(s), and every custom field by name or ``cf[id]`` ("Request Type",
"Time to first response" with breached()/running()/paused()/completed()/remaining("1h")...).
Any other field is refused with Jira's "Field 'x' does not exist" 400, never ignored.

"Time to first response" is computed as JSM would with a 24x7 calendar: it starts at creation,
completes at the first public comment by an agent (or at resolution), breaches after its goal
(2h per the SOP, or the fixture's ``sla.first_response.goal``) and is frozen while the fixture
says it is paused. Only service desk projects have it.

Every ``/rest`` call needs HTTP basic auth with the configured email and API token, else 401.
State is plain Python; tests read it with `issue`, `comments_of`, `links_of` and move the
injected clock with `advance`. Faults (429, 5xx, malformed JSON, resets) come from
`Emulator.inject`.

Layout: `model` (records and constants), `desk` (state, clock, auth, routing), `render`
(JSON shapes), `sla`, `jql_fields`, and one module per endpoint group: `site`, `users`,
`search`, `issues`, `workflow` (transitions, links), `properties`, `comments`, `changelog`,
`servicedesk`.
"""

from __future__ import annotations

from emulators.jira.changelog import ChangelogEndpoints
from emulators.jira.comments import CommentEndpoints
from emulators.jira.desk import JiraDesk
from emulators.jira.issues import IssueEndpoints
from emulators.jira.jql_fields import JqlFields
from emulators.jira.model import (
    COMMENT_PAGE_CAP,
    DEFAULT_EMAIL,
    DEFAULT_TOKEN,
    REMOVED_SEARCH_MESSAGE,
    SEARCH_COMMENT_LIMIT,
    SEARCH_DEFAULT_PAGE,
    SEARCH_MAX_PAGE_IDS_ONLY,
    SEARCH_MAX_PAGE_WITH_FIELDS,
    CommentState,
    CustomFieldDef,
    HttpError,
    IssueState,
    LinkState,
    jira_time,
)
from emulators.jira.properties import PropertyEndpoints
from emulators.jira.render import Rendering
from emulators.jira.search import SearchEndpoints
from emulators.jira.servicedesk import ServiceDeskEndpoints
from emulators.jira.site import SiteEndpoints
from emulators.jira.sla import SlaClock
from emulators.jira.users import UserEndpoints
from emulators.jira.workflow import WorkflowEndpoints


class JiraEmulator(
    SiteEndpoints,
    UserEndpoints,
    SearchEndpoints,
    IssueEndpoints,
    WorkflowEndpoints,
    PropertyEndpoints,
    CommentEndpoints,
    ChangelogEndpoints,
    ServiceDeskEndpoints,
    JqlFields,
    SlaClock,
    Rendering,
    JiraDesk,
):
    """Jira Cloud + Jira Service Management on loopback (see the package docstring)."""

    name = "jira"


__all__ = [
    "COMMENT_PAGE_CAP",
    "DEFAULT_EMAIL",
    "DEFAULT_TOKEN",
    "REMOVED_SEARCH_MESSAGE",
    "SEARCH_COMMENT_LIMIT",
    "SEARCH_DEFAULT_PAGE",
    "SEARCH_MAX_PAGE_IDS_ONLY",
    "SEARCH_MAX_PAGE_WITH_FIELDS",
    "CommentState",
    "CustomFieldDef",
    "HttpError",
    "IssueState",
    "JiraEmulator",
    "LinkState",
    "jira_time",
]
