"""DeFi answers: DEX pairs (DexScreener, GeckoTerminal), stablecoins (DefiLlama's stablecoins host,
CoinGecko's stablecoins category of /coins/markets) and yield pools (DefiLlama's yields host).

Every answer comes from the tables below and the shared price table (WETH follows "ethereum",
SOL "solana", USDC "usd-coin", USDT "tether"), so the providers of one capability agree with
each other and a /_control/price lie moves one provider's pairs. Each provider's own error bodies
(RATE_LIMIT_BODY, ERROR_IN_200_BODY) join the tables of errors.py.
"""

from __future__ import annotations

from typing import Any

from tests.fake_upstream import aggregators
from tests.fake_upstream.market import FIAT_PER_USD, MARKET, STATE, Answer, _decimal, _q, generic_answer, iso_z
from tests.fake_upstream.onchain import LIDO_STAKED_ETH

# --- DEX pools -----------------------------------------------------------------------------------

WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"
SOL_MINT = "So11111111111111111111111111111111111111112"
USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
# address -> (symbol, name, coin id in the price table)
TOKENS = {
    WETH: ("WETH", "Wrapped Ether", "ethereum"), USDC: ("USDC", "USD Coin", "usd-coin"),
    USDT: ("USDT", "Tether USD", "tether"), SOL_MINT: ("SOL", "Wrapped SOL", "solana"),
    USDC_MINT: ("USDC", "USD Coin", "usd-coin"),
}
# (chain, dex id on DexScreener, dex id on GeckoTerminal, pool address, base, quote, liquidity USD,
#  24 h volume USD, created epoch). The Uniswap V2 pool lists WETH as its quote token, as the real one does.
POOLS = [
    ("ethereum", "uniswap", "uniswap_v3", "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640", WETH, USDC,
     181_234_567.89, 251_000_000.5, 1620250931),
    ("ethereum", "uniswap", "uniswap_v2", "0xb4e16d0168e52d35cacd2c6185b44281ec28c9dc", USDC, WETH,
     61_000_000.25, 18_500_000.0, 1588610042),
    ("ethereum", "sushiswap", "sushiswap", "0x06da0fd433c1a5d7a4faa01111c044910a184553", WETH, USDT,
     20_400_000.0, 3_100_000.75, 1599265311),
    ("solana", "orca", "orca", "Czfq3xZZDmsdGdUyrNLtRhGc47cXcZtLG4crryfu44zE", SOL_MINT, USDC_MINT,
     30_500_000.0, 95_000_000.0, 1663800000),
    ("solana", "raydium", "raydium", "58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2", SOL_MINT, USDC_MINT,
     12_250_000.5, 41_000_000.0, 1647000000),
]
GECKO_NETWORKS = {"eth": "ethereum", "solana": "solana", "bsc": "bsc", "base": "base", "arbitrum": "arbitrum",
                  "polygon_pos": "polygon", "optimism": "optimism", "avax": "avalanche"}
GECKO_NOT_FOUND = {"errors": [{"status": "404", "title": "Not Found"}]}


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower() if a.startswith("0x") else a == b


def _pools_of(chain: str, token: str) -> list[tuple]:
    return [p for p in POOLS if p[0] == chain and (_same(p[4], token) or _same(p[5], token))]


def _usd(slug: str, address: str) -> float:
    return STATE.price(slug, TOKENS[address][2], "usd")


def _dexscreener_pair(pool: tuple) -> dict[str, Any]:
    chain, dex, _, address, base, quote, liquidity, volume, created = pool
    base_usd, quote_usd = _usd("dexscreener", base), _usd("dexscreener", quote)

    def token(addr: str) -> dict[str, str]:
        return {"address": addr, "name": TOKENS[addr][1], "symbol": TOKENS[addr][0]}

    return {
        "chainId": chain, "dexId": dex, "url": f"https://dexscreener.com/{chain}/{address}", "pairAddress": address,
        "labels": ["v3"] if "88e6" in address else [], "baseToken": token(base), "quoteToken": token(quote),
        "priceNative": _decimal(round(base_usd / quote_usd, 8)), "priceUsd": _decimal(round(base_usd, 6)),
        "txns": {"m5": {"buys": 12, "sells": 9}, "h1": {"buys": 140, "sells": 131}, "h6": {"buys": 801, "sells": 777},
                 "h24": {"buys": 3120, "sells": 2990}},
        "volume": {"h24": volume, "h6": volume / 4, "h1": volume / 24, "m5": volume / 288},
        "priceChange": {"m5": 0.01, "h1": 0.12, "h6": -0.4, "h24": 1.2},
        "liquidity": {"usd": liquidity, "base": round(liquidity / 2 / base_usd, 4),
                      "quote": round(liquidity / 2 / quote_usd, 4)},
        "fdv": 8_300_000_000, "marketCap": 8_300_000_000, "pairCreatedAt": created * 1000,
        "info": {"imageUrl": f"https://dd.dexscreener.com/ds-data/tokens/{chain}/{base}.png", "websites": [],
                 "socials": []},
    }


def dexscreener(rest: str, query: dict, now: float) -> Answer:
    parts = rest.strip("/").split("/")
    if len(parts) == 4 and parts[:2] == ["tokens", "v1"]:
        pairs = [_dexscreener_pair(p) for token in parts[3].split(",") for p in _pools_of(parts[2], token)]
        return 200, pairs, {}
    if len(parts) == 4 and parts[:3] == ["latest", "dex", "tokens"]:
        pairs = [_dexscreener_pair(p) for token in parts[3].split(",") for chain in ("ethereum", "solana")
                 for p in _pools_of(chain, token)]
        return 200, {"schemaVersion": "1.0.0", "pairs": pairs or None}, {}
    if parts[:3] == ["latest", "dex", "search"]:
        return 200, {"schemaVersion": "1.0.0", "pairs": [_dexscreener_pair(p) for p in POOLS]}, {}
    return generic_answer("dexscreener", rest)


def _gecko_pool(network: str, pool: tuple) -> dict[str, Any]:
    _, _, dex, address, base, quote, liquidity, volume, created = pool
    base_usd, quote_usd = _usd("geckoterminal", base), _usd("geckoterminal", quote)
    name = f"{TOKENS[base][0]} / {TOKENS[quote][0]}"
    return {
        "id": f"{network}_{address}", "type": "pool",
        "attributes": {
            "base_token_price_usd": _decimal(round(base_usd, 10)), "base_token_price_native_currency": "1.0",
            "quote_token_price_usd": _decimal(round(quote_usd, 10)),
            "quote_token_price_native_currency": _decimal(round(quote_usd / base_usd, 12)),
            "base_token_price_quote_token": _decimal(round(base_usd / quote_usd, 8)),
            "quote_token_price_base_token": _decimal(round(quote_usd / base_usd, 12)),
            "address": address, "name": name, "pool_created_at": iso_z(created), "fdv_usd": "8300000000",
            "market_cap_usd": None,
            "price_change_percentage": {"m5": "0.01", "h1": "0.12", "h6": "-0.4", "h24": "1.2"},
            "transactions": {"m5": {"buys": 12, "sells": 9, "buyers": 10, "sellers": 8},
                             "h24": {"buys": 3120, "sells": 2990, "buyers": 1500, "sellers": 1400}},
            "volume_usd": {"m5": _decimal(round(volume / 288, 2)), "h1": _decimal(round(volume / 24, 2)),
                           "h6": _decimal(round(volume / 4, 2)), "h24": _decimal(volume)},
            "reserve_in_usd": _decimal(liquidity),
        },
        "relationships": {"base_token": {"data": {"id": f"{network}_{base}", "type": "token"}},
                          "quote_token": {"data": {"id": f"{network}_{quote}", "type": "token"}},
                          "dex": {"data": {"id": dex, "type": "dex"}}},
    }


def _gecko_included(network: str, pools: list[tuple]) -> list[dict[str, Any]]:
    tokens = dict.fromkeys(addr for pool in pools for addr in (pool[4], pool[5]))
    included = [{"id": f"{network}_{addr}", "type": "token", "attributes": {
        "address": addr, "name": TOKENS[addr][1], "symbol": TOKENS[addr][0], "image_url": None,
        "coingecko_coin_id": TOKENS[addr][2]}} for addr in tokens]
    dexes = dict.fromkeys(pool[2] for pool in pools)
    return included + [{"id": dex, "type": "dex", "attributes": {"name": dex.replace("_", " ").title()}}
                       for dex in dexes]


def geckoterminal(rest: str, query: dict, now: float) -> Answer:
    parts = rest.removeprefix("/api/v2").strip("/").split("/")
    if parts == ["networks"]:
        return 200, {"data": [{"id": n, "type": "network", "attributes": {"name": c.title()}}
                              for n, c in GECKO_NETWORKS.items()]}, {}
    if len(parts) == 5 and parts[0] == "networks" and parts[2] == "tokens" and parts[4] == "pools":
        chain = GECKO_NETWORKS.get(parts[1])
        token = parts[3]
        if chain is None or (not _pools_of(chain, token) and token not in TOKENS):
            return 404, GECKO_NOT_FOUND, {}
        pools = _pools_of(chain, token)
        body: dict[str, Any] = {"data": [_gecko_pool(parts[1], p) for p in pools]}
        if "include" in query:
            body["included"] = _gecko_included(parts[1], pools)
        return 200, body, {}
    return generic_answer("geckoterminal", rest)


# --- stablecoins ---------------------------------------------------------------------------------

# (DefiLlama id, name, symbol, coin id (None: priced from the fiat table), peg type, circulating,
#  chains, peg mechanism). PYUSD has no price on DefiLlama, as some real entries do.
STABLECOINS = [
    ("1", "Tether", "USDT", "tether", "peggedUSD", MARKET["tether"][1], ["Tron", "Ethereum", "Solana", "BSC"],
     "fiat-backed"),
    ("2", "USD Coin", "USDC", "usd-coin", "peggedUSD", MARKET["usd-coin"][1], ["Ethereum", "Solana", "Base"],
     "fiat-backed"),
    ("5", "Dai", "DAI", "dai", "peggedUSD", MARKET["dai"][1], ["Ethereum", "Arbitrum"], "crypto-backed"),
    ("50", "EURC", "EURC", None, "peggedEUR", 213_456_789.0, ["Ethereum", "Solana"], "fiat-backed"),
]
UNPRICED = ("120", "PayPal USD", "PYUSD", "paypal-usd", "peggedUSD", 870_000_000.0, ["Ethereum", "Solana"],
            "fiat-backed")


def _stable_price(slug: str, coin_id: str | None, peg_type: str) -> float:
    if coin_id is not None:
        return STATE.price(slug, coin_id, "usd")
    return round(1 / FIAT_PER_USD[peg_type.removeprefix("pegged").lower()], 6)


def defillama_stablecoins(rest: str, query: dict, now: float) -> Answer:
    if rest == "/stablecoinchains":
        return 200, [{"gecko_id": "ethereum", "totalCirculatingUSD": {"peggedUSD": 125e9}, "tokenSymbol": "ETH",
                      "name": "Ethereum"}], {}
    if rest != "/stablecoins":
        return generic_answer("defillama_stablecoins", rest)
    with_prices = _q(query, "includePrices") == "true"
    assets = []
    for sid, name, symbol, coin_id, peg, supply, chains, mechanism in [*STABLECOINS, UNPRICED]:
        asset = {"id": sid, "name": name, "symbol": symbol, "gecko_id": coin_id or "euro-coin", "pegType": peg,
                 "priceSource": "defillama", "pegMechanism": mechanism, "circulating": {peg: supply},
                 "circulatingPrevDay": {peg: supply * 0.999}, "circulatingPrevWeek": {peg: supply * 0.99},
                 "circulatingPrevMonth": {peg: supply * 0.97},
                 "chainCirculating": {c: {"current": {peg: supply / len(chains)}} for c in chains}, "chains": chains}
        if with_prices:
            asset["price"] = None if sid == UNPRICED[0] else _stable_price("defillama_stablecoins", coin_id, peg)
        assets.append(asset)
    return 200, {"peggedAssets": assets}, {}


def coingecko(rest: str, query: dict, now: float) -> Answer:
    if rest != "/coins/markets" or _q(query, "category") != "stablecoins":
        return aggregators.coingecko(rest, query, now)
    rows = []
    for _, name, symbol, coin_id, peg, supply, _, _ in STABLECOINS:
        price = _stable_price("coingecko", coin_id, peg)
        rows.append({"id": coin_id or "euro-coin", "symbol": symbol.lower(), "name": name,
                     "image": f"https://coin-images.coingecko.com/coins/images/{symbol}/large.png",
                     "current_price": price, "market_cap": round(price * supply), "market_cap_rank": None,
                     "total_volume": round(supply * 0.3), "price_change_percentage_24h": 0.01,
                     "circulating_supply": supply, "total_supply": supply, "max_supply": None,
                     "last_updated": iso_z(now - 30)[:-1] + ".000Z"})
    rows.sort(key=lambda row: row["market_cap"], reverse=True)
    return 200, rows[: int(_q(query, "per_page", "100") or 100)], {}


# --- yields --------------------------------------------------------------------------------------

# (pool id, chain, project, symbol, TVL USD (None: from Lido's staked ETH), apyBase, apyReward, stablecoin)
YIELD_POOLS = [
    ("747c1d2a-c668-4682-b9f9-296708a3dd90", "Ethereum", "lido", "STETH", None, 2.71, None, False),
    ("aa70268e-4b52-42bf-a116-608b370f9501", "Ethereum", "aave-v3", "USDC", 3_912_345_678.5, 4.12, 0.35, True),
    ("e880e828-ca59-4ec6-8d4f-27182a4dc23d", "Ethereum", "aave-v3", "WETH", 2_105_000_000.0, 1.95, None, False),
    ("d9fa8e14-0447-4207-9ae8-7810199dfa1f", "Arbitrum", "aave-v3", "USDC", 612_000_000.0, 5.3, 0.8, True),
    ("c5599b3a-ea73-4017-a867-72eb971301d1", "Ethereum", "uniswap-v3", "USDC-WETH", 181_234_567.89, 17.4, None,
     False),
    ("7da72d09-56ca-4ec5-a45f-59114353e487", "Ethereum", "curve-dex", "DAI-USDC-USDT", 172_000_000.0, 1.1, 0.9,
     True),
    ("5ce23e7e-3800-4c9c-ad30-6db3db0515a1", "Base", "aerodrome-v1", "USDC-AERO", 45_000_000.0, 0.0, 38.5, False),
]


def defillama_yields(rest: str, query: dict, now: float) -> Answer:
    if rest != "/pools":
        return generic_answer("defillama_yields", rest)
    eth = STATE.price("defillama_yields", "ethereum", "usd")
    data = []
    for pool, chain, project, symbol, tvl, base, reward, stable in YIELD_POOLS:
        apy = round(base + (reward or 0.0), 4)
        data.append({
            "chain": chain, "project": project, "symbol": symbol,
            "tvlUsd": round(LIDO_STAKED_ETH * eth) if tvl is None else tvl, "apyBase": base, "apyReward": reward,
            "apy": apy, "rewardTokens": None if reward is None else ["0x0000000000000000000000000000000000000002"],
            "pool": pool, "apyPct1D": 0.01, "apyPct7D": -0.1, "apyPct30D": 0.2, "stablecoin": stable,
            "ilRisk": "yes" if "-" in symbol and not stable else "no",
            "exposure": "multi" if "-" in symbol else "single",
            "predictions": {"predictedClass": "Stable/Up", "predictedProbability": 71, "binnedConfidence": 2},
            "poolMeta": None, "mu": apy, "sigma": 0.05, "count": 812, "outlier": False,
            "underlyingTokens": None, "il7d": None, "apyBase7d": None, "apyMean30d": apy, "volumeUsd1d": None,
            "volumeUsd7d": None, "apyBaseInception": None,
        })
    return 200, {"status": "success", "data": data}, {}


PROVIDERS = {"dexscreener": dexscreener, "geckoterminal": geckoterminal,
             "defillama_stablecoins": defillama_stablecoins, "defillama_yields": defillama_yields,
             "coingecko": coingecko}

RATE_LIMIT_BODY: dict[str, Any] = {
    "dexscreener": {"error": "Too Many Requests"},
    "geckoterminal": {"errors": [{"status": "429", "title": "Rate limited: too many requests"}]},
    "defillama_stablecoins": {"message": "Too Many Requests"},
    "defillama_yields": {"message": "Too Many Requests"},
}
ERROR_IN_200_BODY: dict[str, Any] = {
    "dexscreener": {"error": "Something went wrong"},
    "geckoterminal": {"errors": [{"status": "500", "title": "Internal Server Error"}]},
    "defillama_stablecoins": {"message": "Internal server error"},
    "defillama_yields": {"status": "error", "data": []},
}
