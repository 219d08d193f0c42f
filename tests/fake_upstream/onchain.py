"""On-chain answers: DeFi TVL (DefiLlama, Yearn yDaemon) and fees (Etherscan V2, mempool.space,
Blockchair). PublicNode's eth_gasPrice is the JSON-RPC answer in market.py.

Fees come from the fee table (`STATE.gas`, which /_control/gas moves per provider), and prices
inside these answers from the price table, so the providers agree with each other and with
the exchanges. Yearn's TVL on DefiLlama is the sum of yDaemon's vaults, as on the real services.
"""

from __future__ import annotations

from typing import Any

from tests.fake_upstream.market import STATE, Answer, _q, generic_answer, iso_z

# Block heights at the snapshot time (2025-06-10 12:00 UTC) and seconds per block, to move with the clock.
SNAPSHOT_EPOCH = 1749556800
ETH_BLOCK_AT_SNAPSHOT, ETH_BLOCK_S = 22673451, 12
BTC_BLOCK_AT_SNAPSHOT, BTC_BLOCK_S = 901234, 600
YEARN_CHAINS = {1: "Ethereum", 10: "Optimism", 137: "Polygon", 250: "Fantom", 8453: "Base", 42161: "Arbitrum"}
LIDO_STAKED_ETH = 9_412_345.6


def _blockchair_time(epoch: float) -> str:
    # Blockchair's own format: UTC, a space, no zone.
    return iso_z(epoch)[:-1].replace("T", " ")


# --- TVL ----------------------------------------------------------------------------------------


def _yearn_vaults(chain_id: int) -> list[dict[str, Any]]:
    eth = STATE.price("yearn_ydaemon", "ethereum", "usd")

    def vault(address: str, symbol: str, token: str, assets: float, price: float, decimals: int = 18) -> dict:
        return {"address": address, "version": "3.0.2", "type": "Yearn Vault", "kind": "Multi Strategy",
                "symbol": f"yv{symbol}", "name": f"{symbol} yVault", "category": "Volatile", "decimals": decimals,
                "chainID": chain_id, "token": {"address": token, "name": symbol, "symbol": symbol, "description": "",
                                               "decimals": decimals},
                "tvl": {"totalAssets": str(int(assets * 10**decimals)), "tvl": round(assets * price, 2),
                        "price": price}, "apr": {"type": "v3:averaged", "netAPR": 0.042}}

    if chain_id == 1:
        return [vault("0xa258C4606Ca8206D8aA700cE2143D7db854D168c", "WETH",
                      "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", 45_210, eth),
                vault("0xBe53A109B494E5c9f97b9Cd39Fe969BE68BF6204", "USDC",
                      "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", 98_765_432.1, 1.0, 6),
                vault("0x27B5739e22ad9033bcBf192059122d163b60349D", "crvLP",
                      "0x0000000000000000000000000000000000000001", 0, 1.02)]
    usdc = 40_000_000.0 if chain_id == 42161 else 5_000_000.0
    return [vault(f"0x{chain_id:040x}", "USDC", f"0x{chain_id + 1:040x}", usdc, 1.0, 6)]


def _yearn_tvl(chain_id: int) -> float:
    return round(sum(v["tvl"]["tvl"] for v in _yearn_vaults(chain_id)), 2)


def yearn_ydaemon(rest: str, query: dict, now: float) -> Answer:
    parts = rest.strip("/").split("/")
    if len(parts) == 3 and parts[1:] == ["vaults", "all"]:
        if not parts[0].isdigit() or int(parts[0]) not in YEARN_CHAINS:
            return 400, {"error": "invalid chainID"}, {}
        return 200, _yearn_vaults(int(parts[0])), {}
    return generic_answer("yearn_ydaemon", rest)


def _protocols() -> list[dict[str, Any]]:
    eth = STATE.price("defillama", "ethereum", "usd")
    yearn = {"Ethereum": _yearn_tvl(1), "Arbitrum": _yearn_tvl(42161)}

    def protocol(pid, name, slug, symbol, category, chain_tvls, change_1d, **extra) -> dict[str, Any]:
        plain = {k: v for k, v in chain_tvls.items() if "-" not in k and k not in ("staking", "borrowed", "pool2")}
        tvl = extra.pop("tvl", round(sum(plain.values()), 2))
        return {"id": pid, "name": name, "address": None, "symbol": symbol, "url": f"https://{slug}.example",
                "description": f"{name} on DefiLlama", "chain": "Multi-Chain" if len(plain) > 1 else "Ethereum",
                "logo": f"https://icons.llama.fi/{slug}.png", "audits": "2", "audit_note": None, "gecko_id": None,
                "cmcId": None, "category": category, "chains": list(plain), "module": f"{slug}/index.js",
                "twitter": slug, "oracles": [], "listedAt": 1600000000, "slug": slug, "tvl": tvl,
                "chainTvls": chain_tvls, "change_1h": 0.12, "change_1d": change_1d, "change_7d": 2.2, "mcap": None,
                **extra}

    return [
        protocol("182", "Lido", "lido", "LDO", "Liquid Staking", {"Ethereum": round(LIDO_STAKED_ETH * eth, 2)}, 2.9),
        protocol("1599", "Aave V3", "aave-v3", "AAVE", "Lending",
                 {"Ethereum": 21000000000.25, "Ethereum-borrowed": 15000000000, "Arbitrum": 2600000000.25,
                  "Arbitrum-borrowed": 1100000000, "Base": 1800000000, "borrowed": 16100000000}, 1.85),
        protocol("2269", "Binance CEX", "binance-cex", "-", "CEX", {"Bitcoin": 60000000000, "Ethereum": 95000000000},
                 None),
        protocol("2198", "Uniswap V3", "uniswap-v3", "UNI", "Dexs",
                 {"Ethereum": 2900000000, "Arbitrum": 420000000, "Base": 380000000}, -0.4),
        protocol("113", "Yearn Finance", "yearn-finance", "YFI", "Yield Aggregator",
                 {**yearn, "staking": 3100000, "Ethereum-staking": 3100000}, -0.7, gecko_id="yearn-finance"),
        protocol("9999", "Tiny Fork", "tiny-fork", "TFK", "Dexs", {}, None, tvl=None),
    ]


CHAINS = [
    ("ethereum", 65123456789.12, "ETH", "1027", "Ethereum", 1), ("solana", 9123456789.5, "SOL", "5426", "Solana", None),
    ("binancecoin", 6012345678, "BNB", "1839", "BSC", 56), ("tron", 5123456789, "TRX", "1958", "Tron", None),
    ("bitcoin", 6512345678, "BTC", "1", "Bitcoin", None), ("ethereum", 2812345678, "ETH", None, "Arbitrum", 42161),
    ("ethereum", 3012345678, "ETH", None, "Base", 8453), (None, 2123456.7, None, None, "Hyperliquid L1", None),
]


def defillama(rest: str, query: dict, now: float) -> Answer:
    if rest == "/protocols":
        return 200, _protocols(), {}
    if rest == "/v2/chains":
        chains = []
        for gecko_id, tvl, token, cmc, name, chain_id in CHAINS:
            chain = {"gecko_id": gecko_id, "tvl": tvl, "tokenSymbol": token, "cmcId": cmc, "name": name}
            if chain_id is not None:
                chain["chainId"] = chain_id  # absent, not null, on many chains
            chains.append(chain)
        return 200, chains, {}
    return generic_answer("defillama", rest)


# --- fees ---------------------------------------------------------------------------------------


def etherscan(rest: str, query: dict, now: float) -> Answer:
    if rest not in ("/v2/api", "/api"):
        return generic_answer("etherscan", rest)
    if rest == "/api":
        return 200, {"status": "0", "message": "NOTOK", "result": (
            "You are using a deprecated V1 endpoint, switch to Etherscan API V2 using "
            "https://docs.etherscan.io/v2-migration")}, {}
    block = ETH_BLOCK_AT_SNAPSHOT + int(now - SNAPSHOT_EPOCH) // ETH_BLOCK_S
    if (_q(query, "module"), _q(query, "action")) == ("proxy", "eth_blockNumber"):
        # The health check: Etherscan's proxy module answers in JSON-RPC shape.
        return 200, {"jsonrpc": "2.0", "id": 83, "result": hex(block)}, {}
    if (_q(query, "module"), _q(query, "action")) != ("gastracker", "gasoracle"):
        return 200, {"status": "0", "message": "NOTOK", "result": "Error! Missing Or invalid Module name"}, {}
    if _q(query, "chainid") != "1":
        return 200, {"status": "0", "message": "NOTOK", "result": "Missing or unsupported chainid"}, {}
    gas = STATE.gas("etherscan", "ethereum")
    return 200, {"status": "1", "message": "OK", "result": {
        "LastBlock": str(block), "SafeGasPrice": f"{gas['slow']:.6g}", "ProposeGasPrice": f"{gas['standard']:.6g}",
        "FastGasPrice": f"{gas['fast']:.6g}", "suggestBaseFee": f"{gas['base_fee']:.9f}",
        "gasUsedRatio": "0.48114,0.5521,0.40021,0.99822,0.31044"}}, {}


def mempool_space(rest: str, query: dict, now: float) -> Answer:
    if rest != "/v1/fees/recommended":
        return generic_answer("mempool_space", rest)
    gas = {name: max(1, round(value)) for name, value in STATE.gas("mempool_space", "bitcoin").items()}
    return 200, {"fastestFee": gas["fast"], "halfHourFee": gas["standard"], "hourFee": gas["slow"],
                 "economyFee": max(1, gas["slow"] - 1), "minimumFee": 1}, {}


def _blockchair_context(code: int, now: float, state: int | None, price: float | None) -> dict[str, Any]:
    return {"code": code, "source": "D", "state": state, "market_price_usd": price,
            "cache": {"live": False, "duration": 60, "since": _blockchair_time(now - 30),
                      "until": _blockchair_time(now + 30), "time": None},
            "api": {"version": "2.0.95-ie", "last_major_update": "2023-12-05 00:00:00", "next_major_update": None,
                    "documentation": "https://blockchair.com/api/docs", "notice": ":)"},
            "servers": "API4", "time": 0.0123, "render_time": 0.0021, "full_time": 0.0144, "request_cost": 1}


def blockchair(rest: str, query: dict, now: float) -> Answer:
    parts = rest.strip("/").split("/")
    if len(parts) != 2 or parts[1] != "stats":
        return generic_answer("blockchair", rest)
    chain = parts[0]
    if chain == "bitcoin":
        price = STATE.price("blockchair", "bitcoin", "usd")
        height = BTC_BLOCK_AT_SNAPSHOT + int(now - SNAPSHOT_EPOCH) // BTC_BLOCK_S
        fee = max(1, round(STATE.gas("blockchair", "bitcoin")["standard"]))
        data = {"blocks": height + 1, "transactions": 1198765432, "circulation": 1988123456789012, "blocks_24h": 146,
                "mempool_transactions": 23456, "best_block_height": height,
                "best_block_time": _blockchair_time(now - 200),
                "hashrate_24h": "880123456789012345678", "market_price_usd": price, "market_price_btc": 1,
                "market_price_usd_change_24h_percentage": 1.54, "suggested_transaction_fee_per_byte_sat": fee}
    elif chain == "ethereum":
        price = STATE.price("blockchair", "ethereum", "usd")
        height = ETH_BLOCK_AT_SNAPSHOT + int(now - SNAPSHOT_EPOCH) // ETH_BLOCK_S
        gas = STATE.gas("blockchair", "ethereum")
        data = {"blocks": height + 1, "transactions": 2876543210, "best_block_height": height,
                "best_block_time": _blockchair_time(now - 13), "market_price_usd": price,
                "market_price_btc": price / STATE.price("blockchair", "bitcoin", "usd"),
                "mempool_median_gas_price": round(gas["standard"] * 10**9),
                "suggested_transaction_fee_gwei_options": {
                    "sloth": round(gas["slow"] * 0.92, 4), "slow": round(gas["slow"], 4),
                    "normal": round(gas["standard"], 4), "fast": round(gas["fast"], 4),
                    "cheetah": round(gas["fast"] * 1.8, 4)}}
    else:
        return 404, {"data": None, "context": {**_blockchair_context(404, now, None, None),
                                               "error": f"Unknown chain: {chain}"}}, {}
    return 200, {"data": data, "context": _blockchair_context(200, now, height, price)}, {}


PROVIDERS = {"defillama": defillama, "yearn_ydaemon": yearn_ydaemon, "etherscan": etherscan,
             "mempool_space": mempool_space, "blockchair": blockchair}
