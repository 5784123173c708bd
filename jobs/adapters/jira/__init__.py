"""Jira Cloud and Jira Service Management through the ``jira`` library (3.10).

What this adapter guarantees to the jobs:

- searches use only ``POST /rest/api/3/search/jql`` with ``nextPageToken`` (Atlassian removed
  ``/rest/api/*/search`` in 2025, see https://developer.atlassian.com/changelog/#CHANGE-2046),
  streamed page by page into `jobs.model.Ticket`;
- custom fields are asked for by display name and resolved to ids with one ``GET /field``;
- every HTTP request is counted (including the library's own serverInfo call and every retry)
  and retried only by the shared policy in `jobs.adapters.http`: the library's retries are off;
- errors are rebuilt from status and Jira's error messages. `jira.exceptions.JIRAError` prints
  the request headers (the Authorization header with the API token), so it is never chained,
  logged or formatted here;
- comment writes are not doubled by a retry: after an ambiguous failure (5xx, timeout) the
  ticket is read again before posting, because a public comment emails the customer.

Modules: `client` (requests, paging, writes), `fields` (field ids and value shapes),
`parsing` (answers -> `jobs.model` records, pure).
"""

from jobs.adapters.jira.client import JiraAdapter
from jobs.jql import jql_quote

__all__ = ["JiraAdapter", "jql_quote"]
