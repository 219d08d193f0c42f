"""The fake upstream answers like the real providers and injects every fault it promises."""

import asyncio
import json

import httpx
import pytest

from providers.adapters.base import AdapterError, BadData, Outcome
from providers.registry import get_adapter

PRICE_SLUGS = ["coingecko", "coinpaprika", "coincap", "cryptocompare", "binance", "kraken", "coinbase"]
SNAPSHOT_EPOCH = 1749556800


def fetch(fake, slug: str, ids: list[str], vs: str = "usd", timeout: float = 5) -> httpx.Response:
    """One price call the way the engine makes it: adapter request joined to the provider's base URL."""
    spec = get_adapter(slug).build_request("price", {"ids": ids, "vs": vs})
    return httpx.get(fake.base_url(slug) + spec.path, params=dict(spec.params), timeout=timeout)


def quotes(fake, slug: str, ids: list[str], vs: str = "usd") -> list[dict]:
    response = fetch(fake, slug, ids, vs)
    assert response.status_code == 200, response.text
    adapter = get_adapter(slug)
    return adapter.parse("price", {"ids": ids, "vs": vs}, adapter.decode(response.content))


# --- answers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", PRICE_SLUGS)
def test_every_price_provider_answers_in_a_shape_its_adapter_parses(fake_upstream, slug):
    result = quotes(fake_upstream, slug, ["bitcoin", "ethereum", "solana"])
    assert [q["id"] for q in result] == ["bitcoin", "ethereum", "solana"]
    assert [q["price"] for q in result] == pytest.approx([109600.0, 2770.0, 163.8], rel=1e-9)


@pytest.mark.parametrize("slug", ["coingecko", "coinpaprika", "cryptocompare", "binance", "kraken", "coinbase"])
def test_prices_in_other_currencies_are_consistent(fake_upstream, slug):
    (eur,) = quotes(fake_upstream, slug, ["bitcoin"], "eur")
    assert eur["price"] == pytest.approx(109600.0 * 0.8771, rel=1e-9)
    (eth_in_btc,) = quotes(fake_upstream, slug, ["ethereum"], "btc")
    assert eth_in_btc["price"] == pytest.approx(2770.0 / 109600.0, rel=1e-6)  # exchanges print 8 decimals


def test_set_price_makes_only_that_provider_lie(fake_upstream):
    fake_upstream.set_price("kraken", "bitcoin", "usd", 150000.0)
    assert quotes(fake_upstream, "kraken", ["bitcoin"])[0]["price"] == 150000.0
    assert quotes(fake_upstream, "binance", ["bitcoin"])[0]["price"] == 109600.0
    fake_upstream.set_price(None, "ethereum", "usd", 3000.0)
    assert quotes(fake_upstream, "coingecko", ["ethereum"])[0]["price"] == 3000.0
    assert quotes(fake_upstream, "coinbase", ["ethereum"])[0]["price"] == 3000.0


def test_a_fixed_clock_makes_timestamps_deterministic(fake_upstream):
    fake_upstream.set_clock(SNAPSHOT_EPOCH)
    assert quotes(fake_upstream, "coingecko", ["bitcoin"])[0]["last_updated"] == "2025-06-10T11:59:40Z"
    assert quotes(fake_upstream, "coincap", ["bitcoin"])[0]["last_updated"] == "2025-06-10T12:00:00Z"


def test_unknown_pairs_fail_the_way_each_exchange_fails(fake_upstream):
    base = fake_upstream.base_url
    binance = httpx.get(base("binance") + "/api/v3/ticker/24hr", params={"symbols": '["NOPEUSDT"]'})
    assert (binance.status_code, binance.json()) == (400, {"code": -1121, "msg": "Invalid symbol."})
    kraken = httpx.get(base("kraken") + "/0/public/Ticker", params={"pair": "NOPEUSD"})
    assert (kraken.status_code, kraken.json()) == (200, {"error": ["EQuery:Unknown asset pair"]})
    paprika = httpx.get(base("coinpaprika") + "/tickers/nope-nope")
    assert paprika.status_code == 404
    gecko = httpx.get(base("coingecko") + "/simple/price", params={"ids": "nope", "vs_currencies": "usd"})
    assert (gecko.status_code, gecko.json()) == (200, {})


def test_real_base_paths_are_accepted_too(fake_upstream):
    response = httpx.get(fake_upstream.base_url("coingecko") + "/api/v3/ping")
    assert response.json() == {"gecko_says": "(V3) To the Moon!"}


def test_any_other_path_answers_small_json_and_json_rpc_gets_a_result(fake_upstream):
    response = httpx.get(fake_upstream.base_url("mempool") + "/api/v1/fees/recommended")
    assert (response.status_code, response.json()["provider"]) == (200, "mempool")
    call = {"jsonrpc": "2.0", "id": 9, "method": "eth_chainId"}
    rpc = httpx.post(fake_upstream.base_url("cloudflare-eth"), json=call)
    assert rpc.json() == {"jsonrpc": "2.0", "id": 9, "result": "0x1"}
    batch = httpx.post(fake_upstream.base_url("rpc"), json=[{"jsonrpc": "2.0", "id": 1, "method": "x"}])
    assert batch.json() == [{"jsonrpc": "2.0", "id": 1, "result": "0x1"}]


# --- faults -----------------------------------------------------------------------------------


def test_latency_delays_the_answer_past_a_short_client_timeout(fake_upstream):
    fake_upstream.fault("coingecko", "latency", ms=1500)
    with pytest.raises(httpx.ReadTimeout):
        fetch(fake_upstream, "coingecko", ["bitcoin"], timeout=0.2)
    assert fetch(fake_upstream, "coingecko", ["bitcoin"], timeout=5).status_code == 200


async def test_hang_never_answers_and_does_not_block_other_requests(fake_upstream):
    fake_upstream.fault("coingecko", "hang")
    async with httpx.AsyncClient(timeout=httpx.Timeout(5, read=0.5)) as client:
        hung = asyncio.create_task(client.get(fake_upstream.base_url("coingecko") + "/simple/price"))
        await asyncio.sleep(0.05)
        other = await client.get(fake_upstream.base_url("binance") + "/api/v3/ping")
        assert (other.status_code, hung.done()) == (200, False)
        with pytest.raises(httpx.ReadTimeout):
            await hung


def test_reset_closes_the_connection_without_a_response(fake_upstream):
    fake_upstream.fault("kraken", "reset")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        fetch(fake_upstream, "kraken", ["bitcoin"])
    fake_upstream.fault("kraken", "ok")
    assert fetch(fake_upstream, "kraken", ["bitcoin"]).status_code == 200


def test_status_fault_answers_html_or_json(fake_upstream):
    fake_upstream.fault("binance", "status", status=502)
    response = fetch(fake_upstream, "binance", ["bitcoin"])
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert "<html>" in response.text
    assert get_adapter("binance").classify_http_error(502, None) == Outcome.TRANSIENT
    fake_upstream.fault("binance", "status", status=503, body="json")
    response = fetch(fake_upstream, "binance", ["bitcoin"])
    assert (response.status_code, response.json()) == (503, {"error": "upstream status 503"})


@pytest.mark.parametrize("slug", PRICE_SLUGS)
def test_rate_limit_answers_429_with_retry_after_and_the_providers_body(fake_upstream, slug):
    fake_upstream.fault(slug, "rate_limit", retry_after="2")
    response = fetch(fake_upstream, slug, ["bitcoin"])
    assert (response.status_code, response.headers["retry-after"]) == (429, "2")
    assert get_adapter(slug).classify_http_error(429, response.json()) == Outcome.RATE_LIMITED


def test_rate_limit_retry_after_may_be_an_http_date(fake_upstream):
    fake_upstream.fault("coinbase", "rate_limit", retry_after="Wed, 10 Jun 2025 12:00:30 GMT")
    response = fetch(fake_upstream, "coinbase", ["bitcoin"])
    assert response.headers["retry-after"] == "Wed, 10 Jun 2025 12:00:30 GMT"
    assert response.json() == {"errors": [{"id": "rate_limit_exceeded", "message": "Too many requests"}]}


def test_teapot_answers_418(fake_upstream):
    fake_upstream.fault("binance", "teapot", retry_after="120")
    response = fetch(fake_upstream, "binance", ["bitcoin"])
    assert (response.status_code, response.headers["retry-after"]) == (418, "120")
    assert response.json()["code"] == -1003


@pytest.mark.parametrize(
    ("slug", "variant", "outcome"),
    [
        ("coingecko", None, Outcome.RATE_LIMITED),
        ("coinpaprika", None, Outcome.BAD_DATA),
        ("coincap", None, Outcome.BAD_DATA),
        ("cryptocompare", None, Outcome.BAD_DATA),
        ("cryptocompare", "rate_limit", Outcome.RATE_LIMITED),
        ("binance", None, Outcome.BAD_DATA),
        ("kraken", None, Outcome.TRANSIENT),
        ("kraken", "rate_limit", Outcome.RATE_LIMITED),
        ("coinbase", None, Outcome.BAD_DATA),
    ],
)
def test_error_in_200_is_an_error_for_the_adapter(fake_upstream, slug, variant, outcome):
    options = {"variant": variant} if variant else {}
    fake_upstream.fault(slug, "error_in_200", **options)
    response = fetch(fake_upstream, slug, ["bitcoin"])
    assert response.status_code == 200
    with pytest.raises(AdapterError) as raised:
        get_adapter(slug).parse("price", {"ids": ["bitcoin"], "vs": "usd"}, response.json())
    assert raised.value.outcome == outcome


def test_malformed_answers_truncated_json(fake_upstream):
    fake_upstream.fault("coincap", "malformed")
    response = fetch(fake_upstream, "coincap", ["bitcoin"])
    assert response.status_code == 200
    assert response.text.startswith('{"data": [{"id": "bitcoin"')
    with pytest.raises(BadData):
        get_adapter("coincap").decode(response.content)


def test_nested_answers_valid_json_thousands_of_levels_deep(fake_upstream):
    fake_upstream.fault("coincap", "nested", depth=3000)
    response = fetch(fake_upstream, "coincap", ["bitcoin"])
    assert response.status_code == 200 and response.content == b"[" * 3000 + b"]" * 3000
    with pytest.raises(BadData):
        get_adapter("coincap").decode(response.content)


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_answers_six_megabytes(fake_upstream, chunked):
    fake_upstream.fault("coinpaprika", "oversized", chunked=chunked)
    response = fetch(fake_upstream, "coinpaprika", ["bitcoin"])
    assert response.status_code == 200
    assert len(response.content) == 6 * 1024 * 1024
    assert ("content-length" in response.headers) is not chunked
    assert json.loads(response.content)["padding"].startswith("xxx")


def test_times_clears_the_fault_after_that_many_calls(fake_upstream):
    fake_upstream.fault("coingecko", "status", status=500, times=2)
    assert [fetch(fake_upstream, "coingecko", ["bitcoin"]).status_code for _ in range(3)] == [500, 500, 200]


def test_path_limits_the_fault_and_star_hits_every_provider(fake_upstream):
    fake_upstream.fault("coingecko", "status", status=500, path="/simple")
    assert httpx.get(fake_upstream.base_url("coingecko") + "/ping").status_code == 200
    assert fetch(fake_upstream, "coingecko", ["bitcoin"]).status_code == 500
    fake_upstream.fault("*", "status", status=503)
    assert [fetch(fake_upstream, slug, ["bitcoin"]).status_code for slug in ("kraken", "coinbase")] == [503, 503]


def test_bad_fault_requests_are_refused(fake_upstream):
    response = httpx.post(f"{fake_upstream.url}/_control/fault", json={"slug": "coingecko", "kind": "explode"})
    assert response.status_code == 400
    assert "kind" in response.json()["error"]
    assert fake_upstream.calls() == 0


# --- counters ---------------------------------------------------------------------------------


def test_counts_every_call_by_slug_and_path_including_faulted_ones(fake_upstream):
    fake_upstream.fault("binance", "reset", times=1)
    with pytest.raises(httpx.TransportError):
        fetch(fake_upstream, "binance", ["bitcoin"])
    fetch(fake_upstream, "binance", ["bitcoin"])
    fetch(fake_upstream, "kraken", ["bitcoin"])
    assert (fake_upstream.calls(), fake_upstream.calls("binance"), fake_upstream.calls("coinbase")) == (3, 2, 0)
    assert fake_upstream.calls_detail()["by_path"] == {"/binance/api/v3/ticker/24hr": 2, "/kraken/0/public/Ticker": 1}


def test_remembers_what_each_request_carried(fake_upstream):
    httpx.get(fake_upstream.base_url("coincap") + "/assets", params={"ids": "bitcoin"},
              headers={"Authorization": "Bearer test-key"})
    (seen,) = fake_upstream.requests("coincap")
    assert (seen["method"], seen["path"], seen["query"]) == ("GET", "/coincap/assets", "ids=bitcoin")
    assert seen["headers"]["authorization"] == "Bearer test-key"
    assert fake_upstream.requests("kraken") == []


def test_reset_clears_counters_faults_and_prices(fake_upstream):
    fake_upstream.fault("coingecko", "status", status=500)
    fake_upstream.set_price("coingecko", "bitcoin", "usd", 1.0)
    fetch(fake_upstream, "coingecko", ["bitcoin"])
    fake_upstream.reset()
    assert fake_upstream.calls() == 0
    assert quotes(fake_upstream, "coingecko", ["bitcoin"])[0]["price"] == 109600.0
