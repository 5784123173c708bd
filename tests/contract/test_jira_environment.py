"""The Jira adapter honours the proxy and CA bundle the environment names, read once a run.

The emulator serves as the forward proxy: a request for an absolute URL reaches it with that
URL as its path, so a site that does not resolve is answered only when the proxy is used.
"""

from __future__ import annotations

import pytest

from emulators.jira import JiraEmulator
from jobs.adapters.http import CallCounter, RetryBudget, TransientError
from jobs.adapters.jira import JiraAdapter

SITE = "http://jira.proxied.invalid"
"""A site name no resolver answers (RFC 2606 reserves .invalid)."""
ONE = 'key = "SS-1"'


@pytest.fixture(autouse=True)
def _clean_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


def _adapter(emulator: JiraEmulator, site: str = SITE) -> JiraAdapter:
    return JiraAdapter(
        site,
        emulator.email,
        emulator.token,
        counter=CallCounter(),
        budget=RetryBudget(total_seconds=0.0, sleep=lambda _s: None),
    )


def test_every_call_goes_through_the_proxy_the_environment_names(
    jira_emulator: JiraEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", jira_emulator.url)
    adapter = _adapter(jira_emulator)

    [ticket] = adapter.search(ONE, ["summary"])
    again = list(adapter.search(ONE, ["summary"]))  # after the session was set up

    assert ticket.key == "SS-1" and [t.key for t in again] == ["SS-1"]
    assert [c.path for c in jira_emulator.calls][-2:] == ["/rest/api/3/search/jql"] * 2


def test_no_proxy_for_the_site_means_straight_to_it(
    jira_emulator: JiraEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", jira_emulator.url)
    monkeypatch.setenv("NO_PROXY", "jira.proxied.invalid")
    before = len(jira_emulator.calls)

    with pytest.raises(TransientError, match="could not reach jira.proxied.invalid"):
        list(_adapter(jira_emulator).search(ONE, ["summary"]))
    assert len(jira_emulator.calls) == before  # never went through the proxy


def test_the_environments_ca_bundle_is_the_one_used(
    jira_emulator: JiraEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    adapter = _adapter(jira_emulator, jira_emulator.url)

    list(adapter.search(ONE, ["summary"]))

    session = adapter._jira()._session
    assert session.verify == str(bundle)
    assert session.trust_env is False  # read once for the run, not again on every call
    # What requests would have merged for this call from the environment, it already has.
    merged = session.merge_environment_settings(jira_emulator.url, {}, None, None, None)
    assert merged["verify"] == str(bundle) and merged["proxies"] == {}
