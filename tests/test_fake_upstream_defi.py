"""The fake's DeFi providers over real HTTP, fed to the real adapters: the fake and the adapters
agree, and each provider's rate limit and error-in-200 bodies reach its adapter as that outcome."""

import httpx
import pytest

from providers.adapters.base import AdapterError, Outcome
from providers.registry import get_adapter
from tests.test_fake_upstream_capabilities import answer, fetch

WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
CASES = {
    "dexscreener": ("dex", {"chain": "ethereum", "token": WETH}),
    "geckoterminal": ("dex", {"chain": "ethereum", "token": WETH}),
    "defillama_stablecoins": ("stablecoins", {"limit": 10}),
    "defillama_yields": ("yields", {"chain": None, "project": None, "limit": 50}),
}


@pytest.mark.parametrize("slug", sorted(CASES))
def test_every_defi_answer_parses(fake_upstream, slug):
    capability, params = CASES[slug]
    assert answer(fake_upstream, slug, capability, params)


def test_stablecoins_agree_across_providers_and_one_lie_moves_one(fake_upstream):
    fake_upstream.set_price("coingecko", "usd-coin", "usd", 0.97)
    llama = answer(fake_upstream, "defillama_stablecoins", "stablecoins", {"limit": 3})
    gecko = answer(fake_upstream, "coingecko", "stablecoins", {"limit": 3})
    assert [c["gecko_id"] for c in llama] == [c["gecko_id"] for c in gecko] == ["tether", "usd-coin", "dai"]
    assert (llama[1]["price"], gecko[1]["price"]) == (0.9999, 0.97)
    assert gecko[1]["peg_deviation_pct"] == pytest.approx(-3.0)
    # The stablecoins category does not disturb CoinGecko's ordinary markets answer.
    assert answer(fake_upstream, "coingecko", "markets", {"vs": "usd", "limit": 1})[0]["id"] == "bitcoin"


@pytest.mark.parametrize(("slug", "variant", "outcome"), [
    ("dexscreener", None, Outcome.BAD_DATA), ("dexscreener", "rate_limit", Outcome.RATE_LIMITED),
    ("geckoterminal", None, Outcome.TRANSIENT), ("geckoterminal", "rate_limit", Outcome.RATE_LIMITED),
    ("defillama_stablecoins", None, Outcome.TRANSIENT), ("defillama_stablecoins", "rate_limit", Outcome.RATE_LIMITED),
    ("defillama_yields", None, Outcome.BAD_DATA), ("defillama_yields", "rate_limit", Outcome.RATE_LIMITED),
])
def test_error_in_200_is_an_error(fake_upstream, slug, variant, outcome):
    fake_upstream.fault(slug, "error_in_200", **({"variant": variant} if variant else {}))
    capability, params = CASES[slug]
    with pytest.raises(AdapterError) as raised:
        answer(fake_upstream, slug, capability, params)
    assert raised.value.outcome == outcome


@pytest.mark.parametrize("slug", sorted(CASES))
def test_rate_limit_is_a_429_the_adapter_classifies_as_rate_limited(fake_upstream, slug):
    fake_upstream.fault(slug, "rate_limit", retry_after="7")
    capability, params = CASES[slug]
    response = fetch(fake_upstream, slug, capability, params)
    assert (response.status_code, response.headers["retry-after"]) == (429, "7")
    assert get_adapter(slug).classify_http_error(429, response.json()) == Outcome.RATE_LIMITED


def test_geckoterminal_unknown_token_is_its_own_404(fake_upstream):
    response = fetch(fake_upstream, "geckoterminal", "dex", {"chain": "ethereum", "token": "0x" + "2" * 40})
    assert response.status_code == 404
    assert get_adapter("geckoterminal").classify_http_error(404, response.json()) == Outcome.NOT_FOUND


@pytest.mark.parametrize(("slug", "path"), [("dexscreener", "/latest/dex/search?q=SOL%20USDC"),
                                            ("geckoterminal", "/networks?page=1"),
                                            ("defillama_stablecoins", "/stablecoinchains"),
                                            ("defillama_yields", "/pools")])
def test_catalogue_health_paths_answer_200(fake_upstream, slug, path):
    assert httpx.get(fake_upstream.base_url(slug) + path).status_code == 200
