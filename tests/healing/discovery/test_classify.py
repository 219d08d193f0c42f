"""Classification of what was probed: each fake candidate API gets the category its payload and
URL say, with the evidence named; a category the list gives wins; nothing to go on is
"unclassified" with a placeholder, said plainly."""

import pytest

from healing.discovery import classify, probe
from healing.discovery.candidates import Candidate


@pytest.mark.parametrize(("path", "category", "evidence"), [
    ("/api/v1/coins/markets", "market_data", "payload keys current_price, market_cap"),
    ("/feed", "news", "an RSS feed"),
    ("/atom", "news", "an ATOM feed"),
    ("/gas", "explorer", "payload keys fastestFee, halfHourFee, hourFee, economyFee"),
    ("/tvl", "defi", "payload keys tvl, chainTvls"),
    ("/private/prices", "market_data", "URL words prices"),  # a 401 has no payload: the URL is all there is
])
async def test_each_fake_api_is_classified_with_its_evidence(fake_apis, path, category, evidence):
    candidate = Candidate(base_url=fake_apis.url, sample_path=path)
    [finding] = await probe.probe_many([candidate], timeout_s=2, allow_private=True)
    result = classify.classify(candidate, finding)
    assert (result.category, result.suggested, result.source) == (category, category, "rules")
    assert any(reason.startswith(evidence) for reason in result.reasons), result.reasons
    assert result.describe().startswith(f"{category} (by the rules: ")


@pytest.mark.parametrize("path", ["/moved", "/hang", "/page"])
async def test_a_redirect_a_hang_and_an_html_page_stay_unclassified(fake_apis, path):
    candidate = Candidate(base_url=fake_apis.url, sample_path=path)
    [finding] = await probe.probe_many([candidate], timeout_s=0.3, allow_private=True)
    result = classify.classify(candidate, finding)
    assert (result.category, result.suggested, result.source) == (classify.DEFAULT_CATEGORY, "", "default")
    assert result.describe().startswith("unclassified: no rule matched")


def finding(**fields) -> probe.Finding:
    return probe.Finding(url="https://x", checked_at="now", outcome="ok", status=200, **fields)


def test_a_category_given_by_the_list_wins_and_the_rules_view_is_noted():
    candidate = Candidate("https://api.example.com", "/v1/tickers", category="analytics")
    result = classify.classify(candidate, finding(kind="json", json_keys=["symbol", "bid", "ask"]))
    assert (result.category, result.suggested, result.source) == ("analytics", "exchange", "given")
    assert "the rules suggest exchange: payload keys bid, ask" in result.describe()
    agree = classify.classify(Candidate("https://x.example", "/tvl", category="defi"), None)
    assert agree.describe() == "defi (given by the candidate list; the rules agree)"


def test_url_words_split_on_punctuation_and_camel_case_and_host_hints_count():
    assert classify.words("/v1/getLastBlock?chain_id=1") == ["v1", "get", "last", "block", "chain", "id", "1"]
    explorer = classify.classify(Candidate("https://api.fakescan.io", "/getLastBlock"), None)
    assert explorer.category == "explorer"
    assert explorer.reasons == ("URL words block", "host name contains 'scan'")
    sentiment = classify.classify(Candidate("https://api.example.com", "/fng/"),
                                  finding(kind="json", json_keys=["name", "data", "value", "value_classification"]))
    assert sentiment.category == "sentiment"


def test_payload_keys_outweigh_a_url_word_and_ties_go_to_the_more_specific_category():
    # "/prices" says market data once; two DeFi keys say more.
    defi = classify.classify(Candidate("https://x.example", "/prices"), finding(kind="json", json_keys=["tvl", "apy"]))
    assert defi.category == "defi"
    tie = classify.classify(Candidate("https://x.example", "/"), finding(kind="json", json_keys=["price", "tvl"]))
    assert tie.category == "defi"  # DeFi comes before market data in PRIORITY
