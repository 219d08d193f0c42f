"""Market-wide answers: CoinGecko's markets, global and trending, CoinPaprika's global, CoinLore
(price, markets, global) and the fear & greed indices of Alternative.me and CoinMarketCap.

Every figure comes from the price table as seen by the answering provider, so a price lie set for
one slug moves that provider's markets rows, trending prices and global totals too.
"""

from __future__ import annotations

from typing import Any

from tests.fake_upstream import coins, market
from tests.fake_upstream.market import MARKET, RANK, STATE, Answer, _csv, _decimal, _q, generic_answer, iso_z, name_of

# The part of the market outside the price table, so totals and dominance look like mid-2025.
REST_OF_MARKET_CAP_USD = 172e9
REST_OF_MARKET_VOLUME_USD = 12e9
ACTIVE_COINS = {"coingecko": 17523, "coinpaprika": 11042, "coinlore": 12873}
# What CoinGecko's /search/trending lists, in order.
TRENDING_IDS = ("pepe", "sui", "solana", "aave", "uniswap", "chainlink", "dogecoin", "near", "aptos", "arbitrum",
                "optimism", "cardano", "the-open-network", "filecoin", "cosmos")
# CoinLore's own ids for the coins it is best known by; the rest get made-up ones.
COINLORE_IDS = {"bitcoin": "90", "ethereum": "80", "tether": "518", "ripple": "58", "binancecoin": "2710",
                "solana": "48543", "dogecoin": "2", "cardano": "257"}
# Daily fear & greed values, cycled by day number so every call on one day agrees.
FEAR_GREED_CYCLE = (72, 66, 48, 55, 61, 38, 24, 80, 51, 44, 69, 58, 33, 77)


def _ranked(slug: str, vs: str = "usd") -> list[tuple[str, dict[str, float]]]:
    rows = [(coin_id, STATE.facts(slug, coin_id, vs)) for coin_id in sorted(MARKET, key=RANK.get)]
    return [(coin_id, facts) for coin_id, facts in rows if facts is not None]


def market_totals(slug: str) -> dict[str, Any]:
    """Total cap and volume in USD, each coin's share of the cap, and the cap-weighted 24 h change."""
    rows = _ranked(slug)
    caps = {coin_id: facts["cap"] for coin_id, facts in rows}
    total_cap = sum(caps.values()) + REST_OF_MARKET_CAP_USD
    total_volume = sum(facts["volume"] for _, facts in rows) + REST_OF_MARKET_VOLUME_USD
    change = sum(facts["change"] * facts["cap"] for _, facts in rows) / sum(caps.values())
    shares = {coin_id: cap / total_cap * 100 for coin_id, cap in caps.items()}
    return {"cap": total_cap, "volume": total_volume, "shares": shares, "change": round(change, 4)}


def _fear_greed_value(day: int) -> int:
    return FEAR_GREED_CYCLE[day % len(FEAR_GREED_CYCLE)]


def classify_fear_greed(value: int) -> str:
    # Alternative.me's bands.
    for ceiling, label in ((24, "Extreme Fear"), (46, "Fear"), (54, "Neutral"), (75, "Greed")):
        if value <= ceiling:
            return label
    return "Extreme Greed"


def _days(now: float, limit: int) -> list[int]:
    today = int(now // 86400)
    return [today - back for back in range(limit)]


# --- CoinGecko ----------------------------------------------------------------------------------


def _gecko_markets(query: dict, now: float) -> Answer:
    vs = _q(query, "vs_currency", "usd").lower()
    per_page = min(int(_q(query, "per_page", "100") or 100), 250)
    page = max(int(_q(query, "page", "1") or 1), 1)
    if STATE.usd_value(vs, "coingecko") is None:
        return 400, {"error": "invalid vs_currency"}, {}
    rows = []
    for coin_id, facts in _ranked("coingecko", vs)[(page - 1) * per_page: page * per_page]:
        price, change = facts["price"], facts["change"]
        coin = coins.coin(coin_id)
        rows.append({
            "id": coin_id, "symbol": coin.symbol.lower() if coin else coin_id, "name": name_of(coin_id),
            "image": f"https://coin-images.coingecko.com/coins/images/{RANK[coin_id]}/large/{coin_id}.png",
            "current_price": price, "market_cap": round(facts["cap"]), "market_cap_rank": RANK[coin_id],
            "fully_diluted_valuation": None, "total_volume": round(facts["volume"]),
            "high_24h": price * 1.01, "low_24h": price * 0.98, "price_change_24h": price * change / (100 + change),
            "price_change_percentage_24h": change, "market_cap_change_24h": facts["cap"] * change / (100 + change),
            "market_cap_change_percentage_24h": change, "circulating_supply": facts["supply"],
            "total_supply": facts["supply"], "max_supply": None, "ath": price * 1.2, "ath_change_percentage": -16.7,
            "ath_date": "2025-05-22T18:41:28.492Z", "atl": price / 100, "atl_change_percentage": 9900.0,
            "atl_date": "2015-10-20T00:00:00.000Z", "roi": None, "last_updated": iso_z(now - 19)[:-1] + ".000Z",
        })
    return 200, rows, {}


def _gecko_global(now: float) -> Answer:
    totals = market_totals("coingecko")
    codes = [*market.FIAT_PER_USD, "btc", "eth"]
    units = {code: STATE.usd_value(code, "coingecko") for code in codes}
    top = sorted(totals["shares"].items(), key=lambda item: item[1], reverse=True)[:10]
    data = {
        "active_cryptocurrencies": ACTIVE_COINS["coingecko"], "upcoming_icos": 0, "ongoing_icos": 49,
        "ended_icos": 3376, "markets": 1297,
        "total_market_cap": {code: totals["cap"] / unit for code, unit in units.items() if unit},
        "total_volume": {code: totals["volume"] / unit for code, unit in units.items() if unit},
        "market_cap_percentage": {coins.symbol_for(coin_id).lower(): round(share, 4) for coin_id, share in top},
        "market_cap_change_percentage_24h_usd": totals["change"], "updated_at": int(now) - 288,
    }
    return 200, {"data": data}, {}


def _gecko_trending() -> Answer:
    btc = STATE.price("coingecko", "bitcoin", "usd")
    listed = []
    for score, coin_id in enumerate(TRENDING_IDS):
        facts = STATE.facts("coingecko", coin_id, "usd")
        coin = coins.coin(coin_id)
        listed.append({"item": {
            "id": coin_id, "coin_id": 1000 + RANK[coin_id], "name": name_of(coin_id), "symbol": coin.symbol,
            "market_cap_rank": RANK[coin_id], "thumb": f"https://coin-images.coingecko.com/{coin_id}/thumb.png",
            "slug": coin_id, "price_btc": facts["price"] / btc, "score": score,
            "data": {"price": facts["price"], "price_btc": f"{facts['price'] / btc:.18f}",
                     "price_change_percentage_24h": {"usd": facts["change"]},
                     "market_cap": f"${facts['cap']:,.0f}", "total_volume": f"${facts['volume']:,.0f}",
                     "sparkline": f"https://www.coingecko.com/coins/{RANK[coin_id]}/sparkline.svg", "content": None},
        }})
    category = {"id": 251, "name": "Meme", "market_cap_1h_change": 0.21, "slug": "meme-token", "coins_count": "612",
                "data": {"market_cap": 72101234567.1, "market_cap_change_percentage_24h": {"usd": 2.91}}}
    return 200, {"coins": listed, "nfts": [], "categories": [category]}, {}


def coingecko(rest: str, query: dict, now: float) -> Answer:
    if rest == "/coins/markets":
        return _gecko_markets(query, now)
    if rest == "/global":
        return _gecko_global(now)
    if rest == "/search/trending":
        return _gecko_trending()
    return market.coingecko(rest, query, now)


# --- CoinPaprika (markets and trending come from /tickers in market.py) ---------------------------


def coinpaprika(rest: str, query: dict, now: float) -> Answer:
    if rest != "/global":
        return market.coinpaprika(rest, query, now)
    totals = market_totals("coinpaprika")
    return 200, {
        "market_cap_usd": round(totals["cap"]), "volume_24h_usd": round(totals["volume"]),
        "bitcoin_dominance_percentage": round(totals["shares"]["bitcoin"], 2),
        "cryptocurrencies_number": ACTIVE_COINS["coinpaprika"], "market_cap_ath_value": 3826372118000,
        "market_cap_ath_date": "2024-12-17T07:15:00Z", "volume_24h_ath_value": 1285431212345,
        "volume_24h_ath_date": "2021-05-19T16:40:00Z", "volume_24h_percent_from_ath": -91.28,
        "volume_24h_percent_to_ath": 1046.71, "market_cap_change_24h": totals["change"],
        "volume_24h_change_24h": -3.05, "last_updated": int(now) - 298,
    }, {}


# --- CoinLore -----------------------------------------------------------------------------------


def _coinlore_id(coin_id: str) -> str:
    return COINLORE_IDS.get(coin_id, str(900000 + RANK[coin_id]))


def _coinlore_row(coin_id: str, facts: dict[str, float]) -> dict[str, Any]:
    btc = STATE.price("coinlore", "bitcoin", "usd")
    return {"id": _coinlore_id(coin_id), "symbol": coins.symbol_for(coin_id), "name": name_of(coin_id),
            "nameid": coin_id, "rank": RANK[coin_id], "price_usd": _decimal(facts["price"]),
            "percent_change_24h": f"{facts['change']:.2f}",
            "percent_change_1h": "0.08", "percent_change_7d": "4.02", "price_btc": f"{facts['price'] / btc:.8f}",
            "market_cap_usd": f"{facts['cap']:.2f}", "volume24": facts["volume"], "volume24a": facts["volume"] * 0.93,
            "csupply": f"{facts['supply']:.2f}", "tsupply": f"{facts['supply']:.0f}", "msupply": ""}


def coinlore(rest: str, query: dict, now: float) -> Answer:
    rows = _ranked("coinlore")
    if rest == "/tickers/":
        start = int(_q(query, "start", "0") or 0)
        limit = min(int(_q(query, "limit", "100") or 100), 100)
        data = [_coinlore_row(coin_id, facts) for coin_id, facts in rows[start: start + limit]]
        return 200, {"data": data, "info": {"coins_num": ACTIVE_COINS["coinlore"], "time": int(now)}}, {}
    if rest == "/ticker/":
        wanted = _csv(_q(query, "id"))
        return 200, [_coinlore_row(coin_id, facts) for coin_id, facts in rows if _coinlore_id(coin_id) in wanted], {}
    if rest == "/global/":
        totals = market_totals("coinlore")
        return 200, [{
            "coins_count": ACTIVE_COINS["coinlore"], "active_markets": 31872, "total_mcap": totals["cap"],
            "total_volume": totals["volume"], "btc_d": f"{totals['shares']['bitcoin']:.2f}",
            "eth_d": f"{totals['shares']['ethereum']:.2f}", "mcap_change": f"{totals['change']:.2f}",
            "volume_change": "-3.12", "avg_change_percent": "0.41", "volume_ath": 3992741953593.4,
            "mcap_ath": 3801500124562.5}], {}
    return generic_answer("coinlore", rest)


# --- Fear & greed -------------------------------------------------------------------------------


def alternative_me(rest: str, query: dict, now: float) -> Answer:
    if rest not in ("/fng/", "/fng"):
        return generic_answer("alternative_me", rest)
    limit = int(_q(query, "limit", "1") or 1)
    # limit=0 is the full history on the real API; a year is plenty here.
    days = _days(now, limit if limit > 0 else 365)
    data = []
    for day in days:
        value = _fear_greed_value(day)
        data.append({"value": str(value), "value_classification": classify_fear_greed(value),
                     "timestamp": str(day * 86400)})
    data[0]["time_until_update"] = str(int((days[0] + 1) * 86400 - now))
    return 200, {"name": "Fear and Greed Index", "data": data, "metadata": {"error": None}}, {}


def coinmarketcap(rest: str, query: dict, now: float) -> Answer:
    status = {"timestamp": iso_z(now)[:-1] + ".115Z", "error_code": "0", "error_message": "", "elapsed": 3,
              "credit_count": 1, "notice": ""}
    # CoinMarketCap's index runs its own model: near Alternative.me's, never the same.
    if rest == "/v3/fear-and-greed/latest":
        value = _fear_greed_value(int(now // 86400)) - 1
        data = {"value": value, "update_time": iso_z(now - 900)[:-1] + ".437Z",
                "value_classification": classify_fear_greed(value)}
        return 200, {"data": data, "status": status}, {}
    if rest == "/v3/fear-and-greed/historical":
        days = _days(now, max(1, min(int(_q(query, "limit", "50") or 50), 500)))
        data = [{"timestamp": str(day * 86400), "value": _fear_greed_value(day) - 1,
                 "value_classification": classify_fear_greed(_fear_greed_value(day) - 1)} for day in days]
        return 200, {"data": data, "status": status}, {}
    return generic_answer("coinmarketcap", rest)


PROVIDERS = {"coingecko": coingecko, "coinpaprika": coinpaprika, "coinlore": coinlore,
             "alternative_me": alternative_me, "coinmarketcap": coinmarketcap}
