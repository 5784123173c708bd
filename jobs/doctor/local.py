"""The ledger (opened read-only: nothing is created, migrated or written) and the heartbeat
receivers.

A heartbeat URL itself is never requested: healthchecks.io counts a HEAD, GET or POST of a
ping URL as a success ping (its pinging API takes all three), and Cronitor records any request
to a telemetry URL as an event (and creates the monitor if it does not exist). So the check
asks the URL's server for ``/`` with HEAD, redirects not followed: an answer proves the name
resolves, the network path is open and TLS is accepted; a refused connection or a 5xx fails.
Whether the check's own UUID or key is right only the receiver's dashboard can tell.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Iterator
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from jobs.doctor import Check, Outcome, Site, fail, ok, skip

REACHABLE = "ledger reachable"
SCHEMA = "ledger schema"
HEARTBEAT_TIMEOUT = 10.0


def ledger_checks(site: Site) -> Iterator[Check]:
    yield Check(REACHABLE, ledger_reachable)
    yield Check(SCHEMA, ledger_schema, (REACHABLE,))


def ledger_reachable(site: Site) -> Outcome:
    from jobs.ledger import LedgerError, describe_url, open_ledger
    from jobs.secrets import redact

    where = describe_url(site.ledger_url)
    try:
        ledger = open_ledger(site.ledger_url, read_only=True)
    except LedgerError as exc:
        message = " ".join(redact(str(exc)).split())
        if message.startswith("no SQLite ledger"):
            return fail(
                message, "`python -m jobs ledger migrate` creates it (the first run does too)"
            )
        return fail(message, "check JOBS_LEDGER_URL and that the database answers")
    try:
        site.memo["ledger version"] = ledger.schema_version()
    except Exception as exc:  # a file that is not a database, a server that went away
        message = " ".join(redact(str(exc)).split())[:300]
        return fail(f"{where} does not read as a ledger ({message})", "check JOBS_LEDGER_URL")
    finally:
        ledger.close()
    return ok(f"{where} answers (opened read-only)")


def ledger_schema(site: Site) -> Outcome:
    from jobs.ledger import SCHEMA_VERSION

    version: int = site.memo["ledger version"]
    if version == SCHEMA_VERSION:
        return ok(f"version {version}, this release's")
    if version == 0:
        return fail(
            "the database holds no ledger tables yet",
            "`python -m jobs ledger migrate` creates them (the first run does too)",
        )
    if version < SCHEMA_VERSION:
        return fail(
            f"version {version}; this release uses {SCHEMA_VERSION}",
            "`python -m jobs ledger migrate` upgrades it in place (the first run does too)",
        )
    return fail(
        f"version {version}, newer than this release's {SCHEMA_VERSION}",
        "run the release that wrote it (or a newer one) on this host",
    )


def heartbeat_checks(site: Site) -> Iterator[Check]:
    if not site.needs.heartbeats:
        yield Check("heartbeats", lambda s: skip("no enabled job has a heartbeat_url"))
        return
    for job, (url, fmt) in site.needs.heartbeats.items():
        yield Check(f"heartbeat {job}", partial(heartbeat, url=url, fmt=fmt))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is an answer: the server is there


def heartbeat(site: Site, url: str, fmt: str) -> Outcome:
    parts = urlsplit(url)
    root = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/"
    opener = urllib.request.build_opener(_NoRedirects)
    request = urllib.request.Request(root, method="HEAD")
    receiver = "healthchecks.io" if fmt == "healthchecks" else "Cronitor"
    not_pinged = f"the ping URL itself is not requested ({receiver} would count it as a ping)"
    try:
        with opener.open(request, timeout=HEARTBEAT_TIMEOUT) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return fail(
            f"{root} does not answer ({reason}); {not_pinged}",
            "check the heartbeat_url's host, and that this host may reach it (proxy, firewall)",
        )
    if status >= 500:
        return fail(
            f"{root} answers HTTP {status}; {not_pinged}",
            "check the heartbeat_url's host is the receiver's ping server",
        )
    return ok(f"{root} answers (HTTP {status}); {not_pinged}")
