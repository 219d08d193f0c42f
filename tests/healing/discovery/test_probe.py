"""Probing over real sockets against the fake candidate APIs: JSON with rate-limit headers and
CORS, feeds, a key needed, a redirect reported and not followed, a hang cut by the deadline, an
HTML page; and the SSRF guard refusing loopback, private and link-local targets."""

import time

import pytest

from healing.discovery import probe
from healing.discovery.candidates import Candidate


def at(server, path: str) -> Candidate:
    return Candidate(base_url=server.url, sample_path=path)


async def run(server, path: str, timeout_s: float = 5.0) -> probe.Finding:
    async with probe.make_client(allow_private=True, timeout_s=timeout_s) as client:
        return await probe.probe_one(client, at(server, path), timeout_s=timeout_s)


async def test_a_json_api_with_rate_limit_headers_and_cors(fake_apis):
    f = await run(fake_apis, "/api/v1/coins/markets")
    assert (f.outcome, f.status, f.kind, f.content_type) == ("ok", 200, "json", "application/json")
    assert f.usable and not f.auth_required and f.latency_ms is not None and f.latency_ms < 5000
    assert f.rate_limit_headers == {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "99",
                                    "X-RateLimit-Reset": "60"}
    assert f.cors == "*"
    assert f.json_shape == "list of 1" and {"current_price", "market_cap"} <= set(f.json_keys)
    sent = fake_apis.requests[0]
    assert sent.method == "GET" and sent.headers["origin"] == probe.PROBE_ORIGIN  # CORS needs an Origin
    assert "cryptohub-discovery" in sent.headers["user-agent"]


async def test_rss_and_atom_feeds_are_recognised_without_parsing_xml(fake_apis):
    rss, atom = await run(fake_apis, "/feed"), await run(fake_apis, "/atom")
    assert (rss.kind, rss.feed_items, rss.feed_title, rss.usable) == ("rss", 2, "Fake Crypto News", True)
    assert (atom.kind, atom.feed_items, atom.feed_title) == ("atom", 1, "Fake Atom")
    assert rss.cors == ""  # no Access-Control-Allow-Origin


async def test_a_401_means_a_key_is_needed(fake_apis):
    f = await run(fake_apis, "/private/prices")
    assert (f.outcome, f.status, f.auth_required) == ("auth_required", 401, True)
    assert "HTTP 401" in f.auth_evidence and "api key" in f.auth_evidence.lower()
    assert not f.usable


async def test_an_error_inside_http_200_saying_a_key_is_missing_counts_as_key_needed(fake_apis):
    f = await run(fake_apis, "/keyed")
    assert (f.status, f.outcome, f.auth_required) == (200, "auth_required", True)
    assert "Missing/Invalid API Key" in f.body_message


async def test_a_redirect_is_reported_and_not_followed(fake_apis):
    f = await run(fake_apis, "/moved")
    assert (f.outcome, f.status, f.redirect_to) == ("redirect", 301, "https://moved.invalid/api/v2")
    assert fake_apis.paths() == ["/moved"]  # one request: the Location was never fetched


async def test_a_hanging_api_times_out_at_its_deadline(fake_apis):
    started = time.monotonic()
    f = await run(fake_apis, "/hang", timeout_s=0.4)
    assert f.outcome == "timeout" and "0.4 s" in f.error and f.status is None
    assert time.monotonic() - started < 3


async def test_an_html_page_is_not_an_api_and_its_menu_is_no_key_evidence(fake_apis):
    f = await run(fake_apis, "/page")
    assert (f.outcome, f.kind, f.auth_required, f.usable) == ("ok", "html", False, False)


async def test_retry_after_on_a_429_is_reported(fake_apis):
    f = await run(fake_apis, "/limited")
    assert (f.outcome, f.status) == ("http_error", 429) and f.rate_limit_headers == {"Retry-After": "30"}


async def test_probe_many_keeps_the_order_and_bounds_concurrency(fake_apis):
    candidates = [at(fake_apis, p) for p in ("/feed", "/hang", "/gas", "/hang", "/tvl")]
    started = time.monotonic()
    findings = await probe.probe_many(candidates, concurrency=2, timeout_s=0.3, allow_private=True)
    assert [f.outcome for f in findings] == ["ok", "timeout", "ok", "timeout", "ok"]
    assert [f.kind for f in findings] == ["rss", "", "json", "", "json"]
    assert time.monotonic() - started < 3  # each deadline starts in its slot, not in the queue


# --- the SSRF guard ---------------------------------------------------------------------------------


async def test_loopback_targets_are_refused_without_the_setting_and_nothing_is_sent(fake_apis):
    async with probe.make_client(allow_private=False) as client:
        by_ip = await probe.probe_one(client, at(fake_apis, "/gas"))
        by_name = await probe.probe_one(client, Candidate(f"http://localhost:{fake_apis.port}", "/gas"))
    for f in (by_ip, by_name):
        assert f.outcome == "refused" and "not a public address" in f.error
    assert fake_apis.paths() == []


async def test_other_schemes_and_userinfo_are_refused_before_any_connection():
    async with probe.make_client(allow_private=True) as client:
        ftp = await probe.probe_one(client, Candidate("ftp://example.com", "/x"))
        userinfo = await probe.probe_one(client, Candidate("http://user:pw@127.0.0.1:9", "/x"))
    assert ftp.outcome == userinfo.outcome == "refused"
    assert "http:// or https://" in ftp.error and "user name or password" in userinfo.error


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "172.16.5.4", "169.254.169.254",
                                     "100.64.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "0.0.0.0"])
def test_private_loopback_link_local_and_unspecified_addresses_are_refused(address):
    assert probe.address_problem(address, allow_private=False)


def test_public_addresses_pass_and_the_setting_opens_private_ones_but_never_unspecified():
    assert probe.address_problem("1.1.1.1", allow_private=False) is None
    assert probe.address_problem("2606:4700:4700::1111", allow_private=False) is None
    assert probe.address_problem("127.0.0.1", allow_private=True) is None
    assert probe.address_problem("0.0.0.0", allow_private=True)
    assert probe.address_problem("224.0.0.1", allow_private=True)
