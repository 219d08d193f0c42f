"""What `ids=` accepts now that there is a registry: ids, symbols, `chain:contract`; ambiguous
symbols are a 400 listing the candidates, unknown contracts a 404, and an id the registry does not
hold yet goes on to the providers (CoinGecko takes any id) rather than being refused."""

from __future__ import annotations

import pytest

from healing.dataplane.params import ParamError, parse_request
from providers import assets
from providers.assets import Asset, Registry

PEPE_ETH = "0x6982508145454ce325ddbe47a25d4ec3d2311933"


@pytest.fixture
def two_pepes():
    registry = Registry([
        Asset("bitcoin", "BTC", "Bitcoin", rank=1, names={"binance": "BTC"}),
        Asset("pepe", "PEPE", "Pepe", rank=30, platforms={"ethereum": PEPE_ETH}),
        Asset("pepe-bsc", "PEPE", "Pepe (BSC)", platforms={"binance-smart-chain": "0x25d887ce7a35172c62febfd67a1856f20faebb00"}),
        Asset("tron", "TRX", "TRON", rank=9),
        Asset("uniswap", "UNI", "Uniswap", rank=20),
        Asset("unicorn-token", "UNI", "Unicorn"),
        Asset("tronpad", "TRON", "TronPad"),
        Asset("old-coin", "OLD", "Old Coin", delisted=True),
    ])
    before = assets._current
    assets.install(registry)
    yield registry
    assets._current = before


def ids(raw: str) -> list[str]:
    return parse_request("price", {"ids": raw}).params["ids"]


def test_symbols_in_any_case_and_ids_resolve_to_one_id_each(two_pepes):
    assert ids("BTC,btc,bitcoin,Bitcoin") == ["bitcoin"]


def test_an_exact_id_wins_over_a_symbol_of_the_same_spelling(two_pepes):
    assert ids("tron") == ["tron"]  # the coin tron, not TronPad whose symbol is TRON


def test_a_shared_symbol_is_ambiguous_with_its_candidates_best_ranked_first(two_pepes):
    with pytest.raises(ParamError) as caught:
        ids("bitcoin,UNI")
    error = caught.value
    assert (error.status, error.field, error.extra["code"]) == (400, "ids", "ambiguous")
    assert error.extra["candidates"] == ["uniswap", "unicorn-token"]


def test_a_shared_symbol_spelt_like_an_id_is_that_id(two_pepes):
    assert ids("PEPE") == ["pepe"]


@pytest.mark.parametrize("token", [f"eth:{PEPE_ETH}", f"ethereum:{PEPE_ETH.upper().replace('0X', '0x')}",
                                   f"erc20:{PEPE_ETH}"])
def test_a_contract_on_a_chain_resolves_whatever_the_hex_case(two_pepes, token):
    assert ids(token) == ["pepe"]


def test_an_unknown_contract_is_404_before_any_provider_is_asked(two_pepes):
    with pytest.raises(ParamError) as caught:
        ids("bsc:0x0000000000000000000000000000000000000001")
    assert (caught.value.status, caught.value.field) == (404, "ids")


def test_an_id_the_registry_does_not_hold_goes_on_to_the_providers(two_pepes):
    assert ids("some-new-coin") == ["some-new-coin"]


def test_a_delisted_coin_is_found_by_id_but_never_by_symbol(two_pepes):
    assert ids("old-coin") == ["old-coin"]
    assert two_pepes.ids_for_symbol("OLD") == ()


@pytest.mark.parametrize("token", ["bit coin", "<btc>", "eth:0x123", "eth:0x" + "g" * 40, "x" * 101])
def test_malformed_tokens_are_400_naming_ids(two_pepes, token):
    with pytest.raises(ParamError) as caught:
        ids(token)
    assert (caught.value.status, caught.value.field) == (400, "ids")


def test_close_matches_for_a_typo(two_pepes):
    assert two_pepes.close_matches("bitcoun") == ["bitcoin"]


def test_sentiment_of_a_coin_outside_the_registry_is_404_with_close_matches(two_pepes):
    with pytest.raises(ParamError) as caught:
        parse_request("sentiment", {"ids": "bitcoin,bitcoun"})
    assert caught.value.status == 404 and caught.value.extra["close_matches"] == {"bitcoun": ["bitcoin"]}


@pytest.mark.parametrize("endpoint", ["candles", "orderbook"])
def test_one_coin_endpoints_take_a_symbol_or_a_contract_too(two_pepes, endpoint):
    assert parse_request(endpoint, {"id": "BTC"}).params["id"] == "bitcoin"
    assert parse_request(endpoint, {"id": f"eth:{PEPE_ETH}"}).params["id"] == "pepe"
    with pytest.raises(ParamError) as caught:
        parse_request(endpoint, {"id": "UNI"})
    assert (caught.value.field, caught.value.extra["code"]) == ("id", "ambiguous")
