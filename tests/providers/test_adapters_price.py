"""Price adapters: golden payloads -> exact normalized quotes, and every error class per provider."""

import copy
import json
from pathlib import Path

import pytest

from providers import assets
from providers.adapters.base import AdapterError, BadData, Outcome, PermanentError, RequestSpec
from providers.adapters.kraken import result_key
from providers.registry import ADAPTERS, get_adapter
from providers.schemas import Quote, check_not_future, epoch_of

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"
PRICE_SLUGS = ["coingecko", "coinpaprika", "coincap", "cryptocompare", "binance", "kraken", "coinbase"]
SNAPSHOT_EPOCH = 1749556800  # 2025-06-10T12:00:00Z, the time the sample payloads describe


def load(slug: str, name: str = "price") -> object:
    return json.loads((PAYLOADS / slug / f"{name}.json").read_bytes())


def parse(slug: str, ids: list[str], payload: object, vs: str = "usd") -> list[dict]:
    return get_adapter(slug).parse("price", {"ids": ids, "vs": vs}, payload)


def q(id, symbol, price, market_cap=None, volume_24h=None, change=None, updated=None, vs="usd") -> dict:
    return Quote(id, symbol, vs, price, market_cap, volume_24h, change, updated).to_dict()


# --- registry and requests ----------------------------------------------------------------


def test_every_price_adapter_is_registered_under_its_slug():
    for slug in PRICE_SLUGS:
        assert slug in ADAPTERS
        adapter = get_adapter(slug)
        assert adapter.slug == slug
        assert "price" in adapter.capabilities


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("coingecko", RequestSpec("/simple/price", {
            "ids": "bitcoin,ethereum", "vs_currencies": "usd", "include_market_cap": "true",
            "include_24hr_vol": "true", "include_24hr_change": "true", "include_last_updated_at": "true"})),
        ("coinpaprika", RequestSpec("/tickers", {"quotes": "USD"})),
        ("coincap", RequestSpec("/assets", {"ids": "bitcoin,ethereum"})),
        ("cryptocompare", RequestSpec("/data/pricemultifull", {"fsyms": "BTC,ETH", "tsyms": "USD"})),
        ("binance", RequestSpec("/api/v3/ticker/24hr", {"symbols": '["BTCUSDT","ETHUSDT"]'})),
        ("kraken", RequestSpec("/0/public/Ticker", {"pair": "XBTUSD,ETHUSD"})),
        ("coinbase", RequestSpec("/exchange-rates", {"currency": "USD"})),
    ],
)
def test_builds_one_batched_request_for_all_ids(slug, expected):
    assert get_adapter(slug).build_request("price", {"ids": ["bitcoin", "ethereum"], "vs": "usd"}) == expected


def test_coinpaprika_asks_for_one_small_ticker_when_one_id_is_requested():
    spec = get_adapter("coinpaprika").build_request("price", {"ids": ["bitcoin"], "vs": "eur"})
    assert spec == RequestSpec("/tickers/btc-bitcoin", {"quotes": "EUR"})


def test_kraken_uses_its_own_asset_names():
    spec = get_adapter("kraken").build_request("price", {"ids": ["bitcoin", "dogecoin", "solana"], "vs": "eur"})
    assert spec.params == {"pair": "XBTEUR,XDGEUR,SOLEUR"}
    assert result_key("XBT", "USD") == "XXBTZUSD"
    assert result_key("ETH", "XBT") == "XETHXXBT"
    assert result_key("SOL", "USD") == "SOLUSD"


def test_binance_quotes_non_usd_currencies_directly():
    spec = get_adapter("binance").build_request("price", {"ids": ["ethereum"], "vs": "btc"})
    assert spec.params == {"symbols": '["ETHBTC"]'}


@pytest.mark.parametrize("slug", ["coinpaprika", "coincap", "cryptocompare", "binance", "kraken", "coinbase"])
def test_unknown_id_is_a_permanent_error_for_providers_that_need_a_mapping(slug):
    with pytest.raises(AdapterError) as raised:
        get_adapter(slug).build_request("price", {"ids": ["bitcoin", "not-a-coin"], "vs": "usd"})
    assert raised.value.outcome in (Outcome.NOT_FOUND, Outcome.PERMANENT)


def test_coingecko_passes_any_id_through():
    spec = get_adapter("coingecko").build_request("price", {"ids": ["some-new-coin"], "vs": "usd"})
    assert spec.params["ids"] == "some-new-coin"


def test_coincap_refuses_currencies_other_than_usd():
    with pytest.raises(PermanentError):
        get_adapter("coincap").build_request("price", {"ids": ["bitcoin"], "vs": "eur"})


@pytest.mark.parametrize("slug", PRICE_SLUGS)
def test_other_capabilities_are_unsupported(slug):
    with pytest.raises(PermanentError):
        get_adapter(slug).build_request("gas", {})


def test_the_shipped_registry_round_trips():
    shipped = assets.shipped()
    assert shipped.id_for_symbol("btc") == "bitcoin"
    assert shipped.symbol_for("solana") == "SOL"
    assert shipped.name_on("kraken", "bitcoin") == "XBT" and shipped.name_on("coinpaprika", "zcash") == "zec-zcash"
    assert len(shipped) >= 40
    assert len({a.symbol for a in shipped}) == len(shipped)  # no symbol in the shipped set is ambiguous


# --- golden payloads ------------------------------------------------------------------------


def test_coingecko_golden():
    assert parse("coingecko", ["solana", "bitcoin"], load("coingecko")) == [
        q("solana", "SOL", 163.82, 85926403123.4611, 4021187733.219011, -0.7734130938826144, "2025-06-10T11:59:48Z"),
        q("bitcoin", "BTC", 109612.0, 2178744592834.0537, 38241920811.57813, 1.5423873461236212,
          "2025-06-10T11:59:40Z"),
    ]


def test_coinpaprika_golden_from_the_full_ticker_list():
    assert parse("coinpaprika", ["ethereum", "bitcoin"], load("coinpaprika")) == [
        q("ethereum", "ETH", 2769.8811032, 334400494125.0, 21540092811.34, 3.04, "2025-06-10T11:59:36Z"),
        q("bitcoin", "BTC", 109598.42113201, 2178505127511.0, 37910522417.115, 1.49, "2025-06-10T11:59:36Z"),
    ]


def test_coinpaprika_golden_from_a_single_ticker():
    assert parse("coinpaprika", ["bitcoin"], load("coinpaprika", "ticker_btc"), vs="eur") == [
        q("bitcoin", "BTC", 96128.0102, 1910727911002.0, 33250112204.4, 1.49, "2025-06-10T11:59:36Z", vs="eur"),
    ]


def test_coincap_golden_turns_strings_into_numbers():
    assert parse("coincap", ["bitcoin", "ethereum"], load("coincap")) == [
        q("bitcoin", "BTC", 109615.3172516294820001, 2178811204512.7331427160513792, 11204918340.5522187469036129,
          1.5612008218930711, "2025-06-10T12:00:00Z"),
        q("ethereum", "ETH", 2771.1362519840513216, 334552014388.1930419025160000, 6911027761.2218930176522000,
          3.0921181420113309, "2025-06-10T12:00:00Z"),
    ]


def test_cryptocompare_golden():
    assert parse("cryptocompare", ["bitcoin", "ethereum"], load("cryptocompare")) == [
        q("bitcoin", "BTC", 109607.41, 2178695713498.72, 38496118210.33, 1.5498407568, "2025-06-10T11:59:55Z"),
        q("ethereum", "ETH", 2770.95, 334529563299.45, 21891022011.42, 3.1158595426, "2025-06-10T11:59:57Z"),
    ]


def test_binance_golden_uses_the_usdt_book_and_quote_volume():
    assert parse("binance", ["ethereum", "bitcoin"], load("binance")) == [
        q("ethereum", "ETH", 2770.67, None, 1667426581.11041250, 3.131, "2025-06-10T11:59:59Z"),
        q("bitcoin", "BTC", 109603.01, None, 1973889220.14012880, 1.53, "2025-06-10T11:59:59Z"),
    ]


def test_kraken_golden_matches_its_odd_result_keys():
    quotes = parse("kraken", ["bitcoin", "ethereum", "solana"], load("kraken"))
    assert [(x["id"], x["symbol"], x["price"]) for x in quotes] == [
        ("bitcoin", "BTC", 109610.1), ("ethereum", "ETH", 2771.05), ("solana", "SOL", 163.81)]
    # 24 h base volume times the 24 h VWAP = volume in USD.
    assert quotes[0]["volume_24h"] == pytest.approx(1421.50241932 * 108871.22019, rel=1e-12)
    assert quotes[2]["volume_24h"] == pytest.approx(170331.8154 * 162.40021, rel=1e-12)
    assert all(x["market_cap"] is None and x["change_24h_pct"] is None and x["last_updated"] is None
               for x in quotes)


def test_coinbase_golden_inverts_exchange_rates():
    assert parse("coinbase", ["bitcoin", "ethereum", "solana", "shiba-inu"], load("coinbase")) == [
        q("bitcoin", "BTC", 109600.0), q("ethereum", "ETH", 2770.0), q("solana", "SOL", 163.8),
        q("shiba-inu", "SHIB", 1.275e-05),
    ]


def test_quotes_are_plain_json_with_numbers_as_numbers():
    for slug in PRICE_SLUGS:
        ids = ["bitcoin", "ethereum"]
        for quote in parse(slug, ids, load(slug)):
            assert json.loads(json.dumps(quote)) == quote
            assert isinstance(quote["price"], float)


# --- implausible answers ---------------------------------------------------------------------


def _set_btc_price(slug: str, payload, value):
    payload = copy.deepcopy(payload)
    if slug == "coingecko":
        payload["bitcoin"]["usd"] = value
    elif slug == "coinpaprika":
        payload[0]["quotes"]["USD"]["price"] = value
    elif slug == "coincap":
        payload["data"][0]["priceUsd"] = str(value)
    elif slug == "cryptocompare":
        payload["RAW"]["BTC"]["USD"]["PRICE"] = value
    elif slug == "binance":
        payload[0]["lastPrice"] = str(value)
    elif slug == "kraken":
        payload["result"]["XXBTZUSD"]["c"][0] = str(value)
    elif slug == "coinbase":
        payload["data"]["rates"]["BTC"] = str(value)
    return payload


def _drop_btc(slug: str, payload):
    payload = copy.deepcopy(payload)
    if slug == "coingecko":
        del payload["bitcoin"]
    elif slug == "coinpaprika":
        del payload[0]
    elif slug == "coincap":
        del payload["data"][0]
    elif slug == "cryptocompare":
        del payload["RAW"]["BTC"]
    elif slug == "binance":
        del payload[0]
    elif slug == "kraken":
        del payload["result"]["XXBTZUSD"]
    elif slug == "coinbase":
        del payload["data"]["rates"]["BTC"]
    return payload


@pytest.mark.parametrize("slug", PRICE_SLUGS)
@pytest.mark.parametrize("value", [0, -5, "NaN", "inf"])
def test_zero_negative_or_non_finite_price_is_bad_data(slug, value):
    if slug == "coinbase" and value in (0, -5):
        value = 0  # a zero rate is the same failure; a negative rate inverts to a negative price
    with pytest.raises(BadData) as raised:
        parse(slug, ["bitcoin", "ethereum"], _set_btc_price(slug, load(slug), value))
    assert raised.value.outcome == Outcome.BAD_DATA


@pytest.mark.parametrize("slug", PRICE_SLUGS)
def test_missing_requested_id_is_bad_data(slug):
    if slug == "coingecko":  # CoinGecko omits unknown ids: the known ones are the answer
        assert [q["id"] for q in parse(slug, ["ethereum", "bitcoin"], _drop_btc(slug, load(slug)))] == ["ethereum"]
        return
    with pytest.raises(BadData, match="bitcoin|BTC"):
        parse(slug, ["ethereum", "bitcoin"], _drop_btc(slug, load(slug)))


@pytest.mark.parametrize("slug", PRICE_SLUGS)
def test_wrong_top_level_shape_is_bad_data(slug):
    with pytest.raises(AdapterError) as raised:
        parse(slug, ["bitcoin"], "<html>oops</html>")
    assert raised.value.outcome == Outcome.BAD_DATA


def test_coingecko_timestamp_in_milliseconds_is_bad_data():
    payload = load("coingecko")
    payload["bitcoin"]["last_updated_at"] = 1749556780000
    with pytest.raises(BadData, match="timestamp"):
        parse("coingecko", ["bitcoin"], payload)


def test_check_not_future_rejects_a_timestamp_more_than_a_day_ahead():
    check_not_future("2025-06-11T11:00:00Z", SNAPSHOT_EPOCH, slug="x")
    check_not_future(None, SNAPSHOT_EPOCH, slug="x")
    with pytest.raises(BadData, match="future"):
        check_not_future("2025-06-11T12:00:01Z", SNAPSHOT_EPOCH, slug="x")
    assert epoch_of("2025-06-10T12:00:00Z") == SNAPSHOT_EPOCH


# --- malformed bodies ---------------------------------------------------------------------


@pytest.mark.parametrize("slug", PRICE_SLUGS)
@pytest.mark.parametrize("body", [b'{"bitcoin": {"usd": 1096', b"", b"<html>502 Bad Gateway</html>", b"\xff\xfe"])
def test_undecodable_body_is_bad_data(slug, body):
    with pytest.raises(BadData):
        get_adapter(slug).decode(body, "application/json")


# --- HTTP status classification ------------------------------------------------------------

HTTP_429_BODY = {
    "coingecko": load("coingecko", "error_429"),
    "coinpaprika": load("coinpaprika", "error_429"),
    "coincap": {"error": "Too Many Requests"},
    "cryptocompare": load("cryptocompare", "error_ratelimit"),
    "binance": load("binance", "error_429"),
    "kraken": load("kraken", "error_ratelimit"),
    "coinbase": load("coinbase", "error_429"),
}
HTTP_4XX_BODY = {
    # Refusals that are not "no such coin/pair" (those are not found: tests/providers/test_unknown_pairs.py).
    "coingecko": {"error": "Incorrect path. Please check https://docs.coingecko.com/"},
    "coinpaprika": load("coinpaprika", "error_404"),
    "coincap": load("coincap", "error_401"),
    "cryptocompare": load("cryptocompare", "error_param"),
    "binance": {"code": -1100, "msg": "Illegal characters found in parameter 'symbol'."},
    "kraken": load("kraken", "error_unknown_pair"),
    "coinbase": load("coinbase", "error_400"),
}


@pytest.mark.parametrize("slug", PRICE_SLUGS)
@pytest.mark.parametrize("status", [429, 418])
def test_429_and_418_are_rate_limited(slug, status):
    assert get_adapter(slug).classify_http_error(status, HTTP_429_BODY[slug]) == Outcome.RATE_LIMITED
    assert get_adapter(slug).classify_http_error(status, None) == Outcome.RATE_LIMITED


@pytest.mark.parametrize("slug", PRICE_SLUGS)
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_transient(slug, status):
    assert get_adapter(slug).classify_http_error(status, None) == Outcome.TRANSIENT
    assert get_adapter(slug).classify_http_error(status, "<html>Bad Gateway</html>") == Outcome.TRANSIENT


@pytest.mark.parametrize("slug", PRICE_SLUGS)
@pytest.mark.parametrize("status", [400, 401, 404])
def test_client_errors_are_permanent(slug, status):
    assert get_adapter(slug).classify_http_error(status, HTTP_4XX_BODY[slug]) == Outcome.PERMANENT


def test_binance_403_waf_limit_and_451_region_block():
    binance = get_adapter("binance")
    assert binance.classify_http_error(403, None) == Outcome.RATE_LIMITED
    assert binance.classify_http_error(418, load("binance", "error_418")) == Outcome.RATE_LIMITED
    assert binance.classify_http_error(451, load("binance", "error_451")) == Outcome.PERMANENT


def test_coingecko_401_whose_body_says_429_is_rate_limited():
    assert get_adapter("coingecko").classify_http_error(401, load("coingecko", "error_429")) == Outcome.RATE_LIMITED
    assert get_adapter("coingecko").classify_http_error(401, load("coingecko", "error_10002")) == Outcome.PERMANENT


def test_coincap_spent_credits_are_rate_limited():
    body = {"error": "You have exceeded your credit limit"}
    assert get_adapter("coincap").classify_http_error(403, body) == Outcome.RATE_LIMITED
    assert get_adapter("coincap").classify_http_error(403, {"error": "Forbidden"}) == Outcome.PERMANENT


# --- errors inside HTTP 200 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "body", "outcome"),
    [
        ("coingecko", load("coingecko", "error_429"), Outcome.RATE_LIMITED),
        ("coingecko", load("coingecko", "error_10002"), Outcome.PERMANENT),
        ("coinpaprika", {"error": "internal error"}, Outcome.BAD_DATA),
        ("coincap", load("coincap", "v2_deprecated"), Outcome.BAD_DATA),
        ("coincap", load("coincap", "error_401"), Outcome.BAD_DATA),
        ("cryptocompare", load("cryptocompare", "error_ratelimit"), Outcome.RATE_LIMITED),
        ("cryptocompare", load("cryptocompare", "error_param"), Outcome.PERMANENT),
        ("cryptocompare", {"Response": "Error", "Message": "Something went wrong", "Type": 1}, Outcome.BAD_DATA),
        ("binance", load("binance", "error_400"), Outcome.NOT_FOUND),  # -1121 Invalid symbol.
        ("binance", {"code": -1100, "msg": "Illegal characters"}, Outcome.BAD_DATA),
        ("kraken", load("kraken", "error_ratelimit"), Outcome.RATE_LIMITED),
        ("kraken", {"error": ["EGeneral:Too many requests"]}, Outcome.RATE_LIMITED),
        ("kraken", load("kraken", "error_unknown_pair"), Outcome.NOT_FOUND),
        ("kraken", {"error": ["EQuery:Invalid asset pair"]}, Outcome.PERMANENT),
        ("kraken", {"error": ["EService:Unavailable"]}, Outcome.TRANSIENT),
        ("kraken", {"error": ["EGeneral:Something new"], "result": {}}, Outcome.BAD_DATA),
        ("coinbase", load("coinbase", "error_400"), Outcome.BAD_DATA),
    ],
)
def test_error_inside_http_200_is_an_error(slug, body, outcome):
    with pytest.raises(AdapterError) as raised:
        parse(slug, ["bitcoin"], body)
    assert raised.value.outcome == outcome


def test_kraken_rate_limit_body_with_429_is_rate_limited():
    assert get_adapter("kraken").classify_http_error(400, load("kraken", "error_ratelimit")) == Outcome.RATE_LIMITED


def test_coinbase_rates_for_another_currency_are_bad_data():
    with pytest.raises(BadData, match="EUR"):
        parse("coinbase", ["bitcoin"], {"data": {"currency": "EUR", "rates": {"BTC": "0.00001"}}})
