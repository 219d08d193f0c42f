"""manage.py fetch: the same engine and validation as the data plane, over the fake upstream."""

import io
import json

import pytest
from django.core.management import CommandError, call_command


def run(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("fetch", *args, stdout=out, stderr=err)
    return out.getvalue()


# (arguments, source, first header cells of the table)
CASES = {
    "price": (["price", "--ids", "bitcoin,ethereum", "--vs", "usd"], "coingecko", ["ID", "SYMBOL", "VS", "PRICE"]),
    "markets": (["markets", "--limit", "3"], "coingecko", ["RANK", "ID", "SYMBOL", "PRICE"]),
    "global": (["global"], "coingecko", ["FIELD", "VALUE"]),
    "fear-greed": (["fear-greed", "--limit", "2"], "alternative_me", ["TIMESTAMP", "VALUE", "CLASSIFICATION"]),
    "trending": (["trending", "--limit", "3"], "coingecko", ["POSITION", "ID", "SYMBOL"]),
    "tvl": (["tvl", "--protocol", "aave-v3"], "defillama", ["NAME", "SLUG", "TVL"]),
    "gas": (["gas", "--chain", "bitcoin"], "mempool_space", ["FIELD", "VALUE"]),
    "news": (["news", "--limit", "2", "--q", "bitcoin"], "coindesk", ["PUBLISHED_AT", "SOURCE", "TITLE"]),
    "sentiment": (["sentiment", "--ids", "bitcoin,dogecoin", "--provider", "bitcoinist"], "bitcoinist",
                  ["COIN", "SCORE", "LABEL", "HEADLINES"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_capability_prints_a_table(catalogue, case):
    args, source, header = CASES[case]
    lines = run(*args).splitlines()
    assert lines[0].split()[: len(header)] == header
    assert len(lines) >= 3
    assert f"source {source}, served live" in lines[-1]
    assert f"attempts: {source}=ok" in lines[-1]


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_capability_prints_json_with_data_and_meta(catalogue, case):
    args, source, _ = CASES[case]
    body = json.loads(run(*args, "--json"))
    assert set(body) == {"data", "meta"}
    assert body["meta"]["source"] == source
    assert body["data"]


def test_the_table_rows_carry_the_values(catalogue):
    lines = run("price", "--ids", "bitcoin,ethereum").splitlines()
    assert lines[1].split()[:4] == ["bitcoin", "BTC", "usd", "109,600.00"]
    assert lines[2].split()[:4] == ["ethereum", "ETH", "usd", "2,770.00"]


def test_a_second_fetch_is_answered_from_the_shared_cache(catalogue, fake_upstream):
    run("global")
    assert "served cache" in run("global").splitlines()[-1]
    assert fake_upstream.calls("coingecko") == 1


def test_consensus_table_flags_the_outlier(catalogue, fake_upstream):
    fake_upstream.set_price("coincap", "bitcoin", "usd", 90_000.0)
    output = run("price", "--ids", "bitcoin", "--consensus", "3")
    rows = [line.split() for line in output.splitlines()]
    assert ["bitcoin", "median", "109,600.00"] == rows[1][:3]
    assert any(r[:2] == ["coincap", "90,000.00"] and r[-1] == "OUTLIER" for r in rows)
    assert "outliers beyond 2 %: coincap" in output
    assert "served consensus" in output.splitlines()[-1]


def test_scoring_given_texts(catalogue):
    output = run("sentiment", "--text", "Bitcoin soars to a record high", "--text", "Exchange hacked, funds lost")
    rows = output.splitlines()
    assert rows[0].split() == ["SCORE", "LABEL", "TEXT"]
    assert rows[1].split()[1] == "positive" and rows[2].split()[1] == "negative"
    assert "source vader" in rows[-1]


def test_provider_option_asks_that_provider_only(catalogue, fake_upstream):
    assert "source coinlore" in run("markets", "--limit", "2", "--provider", "coinlore")
    assert fake_upstream.calls("coingecko") == 0


@pytest.mark.parametrize("args,message", [
    (["volcano"], "unknown capability 'volcano'"),
    (["price"], "--ids: ids is required"),
    (["markets", "--limit", "0"], "--limit: limit must be between 1 and 250"),
    (["gas", "--chain", "solana"], "--chain:"),
    (["news", "--consensus", "3"], "--consensus:"),
    (["price", "--ids", "bitcoin", "--provider", "nobody"], "--provider:"),
    (["gas", "--text", "hello"], "--text:"),
])
def test_bad_input_is_a_command_error_naming_the_option(catalogue, fake_upstream, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        run(*args)
    assert fake_upstream.calls() == 0


def test_nothing_anywhere_lists_the_attempts(catalogue, fake_upstream):
    fake_upstream.fault("*", "status", status=503)
    with pytest.raises(CommandError, match=r"no provider could answer gas \(mempool_space=transient"):
        run("gas", "--chain", "bitcoin")
