"""Jira Cloud and Jira Service Management through the ``jira`` library (3.10).

What this adapter guarantees to the jobs:

- searches use only ``POST /rest/api/3/search/jql`` with ``nextPageToken`` (Atlassian removed
  ``/rest/api/*/search`` in 2025, see https://developer.atlassian.com/changelog/#CHANGE-2046),
  streamed page by page into `jobs.model.Ticket`;
- custom fields are asked for by our names for them and resolved to ids with one
  ``GET /field``: a configured id, else ``untranslatedName``, else the (translated) name;
- every HTTP request is counted (including the library's own serverInfo call and every retry)
  and retried only by the shared policy in `jobs.adapters.http`: the library's retries are off;
- errors are rebuilt from status and Jira's error messages. `jira.exceptions.JIRAError` prints
  the request headers (the Authorization header with the API token), so it is never chained,
  logged or formatted here;
- comment writes are not doubled by a retry: after an ambiguous failure (5xx, timeout) the
  ticket is read again before posting, because a public comment emails the customer.

Modules: `client` (requests, paging, writes), `fields` (field ids and value shapes),
`parsing` (answers -> `jobs.model` records, pure). The client (and the ``jira`` library) is
imported on first use of `JiraAdapter`, so settings validation can read `fields` cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jobs.jql import jql_quote

if TYPE_CHECKING:
    from jobs.adapters.jira.client import JiraAdapter

__all__ = ["JiraAdapter", "jql_quote"]


def __getattr__(name: str) -> Any:
    if name == "JiraAdapter":
        from jobs.adapters.jira.client import JiraAdapter

        return JiraAdapter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
