"""Adding discovered providers: disabled, findings in notes, re-runs update in place, enabled
providers and providers discovery did not add are never touched; the weekly re-validation."""

import pytest
from django.conf import settings

from healing.discovery import service
from healing.discovery.candidates import Candidate
from healing.tasks import revalidate_discovered_task
from providers.models import Provider

pytestmark = pytest.mark.django_db


def cands(server, *paths_and_names):
    return [Candidate(base_url=f"{server.url}/{name}", sample_path=path, name=name.title())
            for path, name in paths_and_names]


def test_candidates_are_added_disabled_with_their_findings_in_notes(fake_apis, allow_loopback):
    outcomes = service.discover(cands(fake_apis, ("/api/v1/coins/markets", "coins"), ("/private/prices", "keyed"),
                                      ("/moved", "moved"), ("/hang", "hangs"), ("/page", "html")), timeout_s=0.5)
    assert [(o.action, o.slug) for o in outcomes] == [
        ("created", "coins"), ("created", "keyed"), ("created", "moved"), ("created", "hangs"), ("created", "html")]
    rows = {p.slug: p for p in Provider.objects.all()}
    assert not any(p.enabled for p in rows.values())
    coins = rows["coins"]
    assert coins.category == "market_data" and coins.health_path == "/api/v1/coins/markets" and not coins.key_required
    notes = coins.notes
    assert notes.startswith(service.MARKER_LINE)
    for expected in (f"probe: GET {fake_apis.url}/coins/api/v1/coins/markets -> 200 application/json in ",
                     "verdict: answers JSON: review, then enable", "payload: JSON list of 1: id, symbol, current_price",
                     "auth: no key needed", "rate-limit headers: X-RateLimit-Limit: 100, X-RateLimit-Remaining: 99",
                     "CORS: Access-Control-Allow-Origin: * (any origin)",
                     "category: market_data (by the rules: payload keys current_price, market_cap"):
        assert expected in notes, (expected, notes)
    assert rows["keyed"].key_required and "auth: key needed (HTTP 401; the body says 'API key')" in rows["keyed"].notes
    assert "redirect: HTTP 301 to https://moved.invalid/api/v2 (not followed)" in rows["moved"].notes
    assert "verdict: not reachable (timeout): no complete answer within 0.5 s" in rows["hangs"].notes
    assert "verdict: answers an HTML page, not an API" in rows["html"].notes
    assert "category: unclassified: no rule matched, market_data is only a placeholder" in rows["html"].notes


def test_a_rerun_updates_the_findings_in_place_and_keeps_the_operators_notes(fake_apis, allow_loopback):
    [first] = service.discover(cands(fake_apis, ("/gas", "fees")))
    row = Provider.objects.get(slug="fees")
    discovered = service._first_seen(row.notes)
    row.notes = "Operator: looks like mempool's fee API.\n\n" + row.notes
    row.category = "analytics"  # edited during review
    row.save()
    [again] = service.discover(cands(fake_apis, ("/gas", "fees")))
    assert (first.action, again.action, again.slug) == ("created", "updated", "fees")
    row.refresh_from_db()
    assert Provider.objects.filter(base_url=f"{fake_apis.url}/fees").count() == 1
    assert row.notes.startswith("Operator: looks like mempool's fee API.\n\n" + service.MARKER_LINE)
    assert row.notes.count(service.MARKER) == 1 and row.category == "analytics" and not row.enabled
    assert f"discovered {discovered}; last checked" in row.notes
    assert "category: analytics (as set; the rules suggest explorer: payload keys fastestFee" in row.notes


def test_an_enabled_provider_and_one_discovery_did_not_add_are_never_touched(fake_apis, allow_loopback, make_provider):
    live = make_provider(slug="live", base_url=f"{fake_apis.url}/live/", notes="mine", category="defi")
    off = make_provider(slug="off", base_url=f"{fake_apis.url}/off", notes="switched off", enabled=False)
    before = {p.slug: (p.notes, p.enabled, p.updated_at) for p in (live, off)}
    outcomes = service.discover(cands(fake_apis, ("/tvl", "live"), ("/tvl", "off")))
    assert [(o.action, o.slug) for o in outcomes] == [("skipped", "live"), ("skipped", "off")]
    assert outcomes[0].reason == "an enabled provider has this base URL: left alone"
    assert outcomes[1].reason == "a disabled provider that discovery did not add has this base URL: left alone"
    assert {p.slug: (p.notes, p.enabled, p.updated_at) for p in Provider.objects.all()} == before
    assert fake_apis.paths() == []  # not even probed: a probe would spend their budget


def test_a_candidate_enabled_after_discovery_is_left_alone_by_a_rerun(fake_apis, allow_loopback):
    service.discover(cands(fake_apis, ("/feed", "news")))
    Provider.objects.filter(slug="news").update(enabled=True, notes="reviewed and enabled")
    [again] = service.discover(cands(fake_apis, ("/feed", "news")))
    assert again.action == "skipped" and Provider.objects.get(slug="news").notes == "reviewed and enabled"


def test_slugs_are_unique_and_a_dry_run_writes_nothing(fake_apis, allow_loopback, make_provider):
    make_provider(slug="tvl", base_url="https://somewhere.example")
    dry = service.discover([Candidate(base_url=f"{fake_apis.url}/x", sample_path="/tvl", name="TVL")], dry_run=True)
    assert (dry[0].action, dry[0].slug) == ("would create", "tvl_2") and Provider.objects.count() == 1
    [made] = service.discover([Candidate(base_url=f"{fake_apis.url}/x", sample_path="/tvl", name="TVL")])
    assert made.slug == "tvl_2" and Provider.objects.get(slug="tvl_2").category == "defi"
    host_only = service.base_slug(Candidate(base_url="https://api.bitflyer.com/v1", sample_path="/"))
    assert host_only == "bitflyer"


def test_loopback_targets_are_refused_unless_the_setting_allows_them(fake_apis, settings):
    settings.CRYPTOHUB_DISCOVERY_ALLOW_PRIVATE = False
    [outcome] = service.discover(cands(fake_apis, ("/gas", "local")))
    assert outcome.finding.outcome == "refused" and fake_apis.paths() == []
    assert "verdict: not reachable (refused): 127.0.0.1 resolves to 127.0.0.1, not a public address" in \
        Provider.objects.get(slug="local").notes


def test_the_weekly_task_revalidates_disabled_discovered_providers_only(fake_apis, allow_loopback, make_provider):
    service.discover(cands(fake_apis, ("/gas", "fees"), ("/feed", "feed")))
    Provider.objects.filter(slug="fees").update(notes="kept above\n\n" + Provider.objects.get(slug="fees").notes)
    Provider.objects.filter(slug="feed").update(enabled=True)  # enabled since: not re-validated
    other = make_provider(slug="other", enabled=False, notes="not discovered")
    fake_apis.reset()

    assert revalidate_discovered_task() == {"checked": 1, "usable": 1, "updated": 1, "skipped": 0}
    assert fake_apis.paths() == ["/fees/gas"]
    fees = Provider.objects.get(slug="fees")
    assert fees.notes.startswith("kept above\n\n" + service.MARKER_LINE) and "verdict: answers JSON" in fees.notes
    assert Provider.objects.get(pk=other.pk).notes == "not discovered"
    entry = settings.CELERY_BEAT_SCHEDULE["healing.tasks.revalidate_discovered_task"]
    assert entry["task"] == "healing.tasks.revalidate_discovered_task" and entry["schedule"] == 7 * 86400
