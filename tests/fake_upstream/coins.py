"""The fake providers' coins: ids, ticker symbols and each provider's own names for them.

The fake's own table, written apart from the gateway's asset registry (providers.assets) so the
fake answers as the real providers do whatever the registry believes. Beyond the top coins it
lists Zcash, a coin outside the gateway's old hand-written list, on the aggregators and exchanges.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Coin:
    id: str  # CoinGecko id, the id callers use
    symbol: str  # ticker symbol, upper case
    paprika: str  # CoinPaprika id
    coincap: str  # CoinCap v3 id
    kraken: str | None = None  # Kraken base asset when it differs from the symbol ("" = not listed)


# Top coins by market cap (mid 2025). Kraken calls BTC "XBT" and DOGE "XDG".
COINS: tuple[Coin, ...] = (
    Coin("bitcoin", "BTC", "btc-bitcoin", "bitcoin", "XBT"),
    Coin("ethereum", "ETH", "eth-ethereum", "ethereum"),
    Coin("tether", "USDT", "usdt-tether", "tether"),
    Coin("ripple", "XRP", "xrp-xrp", "xrp"),
    Coin("binancecoin", "BNB", "bnb-binance-coin", "binance-coin", ""),
    Coin("solana", "SOL", "sol-solana", "solana"),
    Coin("usd-coin", "USDC", "usdc-usd-coin", "usd-coin"),
    Coin("dogecoin", "DOGE", "doge-dogecoin", "dogecoin", "XDG"),
    Coin("tron", "TRX", "trx-tron", "tron"),
    Coin("cardano", "ADA", "ada-cardano", "cardano"),
    Coin("chainlink", "LINK", "link-chainlink", "chainlink"),
    Coin("stellar", "XLM", "xlm-stellar", "stellar"),
    Coin("bitcoin-cash", "BCH", "bch-bitcoin-cash", "bitcoin-cash"),
    Coin("avalanche-2", "AVAX", "avax-avalanche", "avalanche"),
    Coin("the-open-network", "TON", "toncoin-the-open-network", "toncoin"),
    Coin("litecoin", "LTC", "ltc-litecoin", "litecoin"),
    Coin("shiba-inu", "SHIB", "shib-shiba-inu", "shiba-inu"),
    Coin("polkadot", "DOT", "dot-polkadot", "polkadot"),
    Coin("monero", "XMR", "xmr-monero", "monero"),
    Coin("dai", "DAI", "dai-dai", "multi-collateral-dai"),
    Coin("uniswap", "UNI", "uni-uniswap", "uniswap"),
    Coin("pepe", "PEPE", "pepe-pepe", "pepe"),
    Coin("aave", "AAVE", "aave-new", "aave"),
    Coin("near", "NEAR", "near-near-protocol", "near-protocol"),
    Coin("aptos", "APT", "apt-aptos", "aptos"),
    Coin("ethereum-classic", "ETC", "etc-ethereum-classic", "ethereum-classic"),
    Coin("internet-computer", "ICP", "icp-internet-computer", "internet-computer"),
    Coin("cosmos", "ATOM", "atom-cosmos", "cosmos"),
    Coin("filecoin", "FIL", "fil-filecoin", "filecoin"),
    Coin("arbitrum", "ARB", "arb-arbitrum", "arbitrum"),
    Coin("optimism", "OP", "op-optimism", "optimism"),
    Coin("sui", "SUI", "sui-sui", "sui"),
    Coin("zcash", "ZEC", "zec-zcash", "zcash"),
)

BY_ID: dict[str, Coin] = {coin.id: coin for coin in COINS}
BY_SYMBOL: dict[str, Coin] = {coin.symbol: coin for coin in COINS}

# Kraken's legacy assets get an X (crypto) or Z (fiat) prefix in result keys: XBTUSD -> XXBTZUSD.
_KRAKEN_LEGACY_CRYPTO = frozenset({"XBT", "ETH", "LTC", "XRP", "XLM", "ETC", "XMR", "ZEC", "MLN", "REP"})
_KRAKEN_LEGACY_FIAT = frozenset({"USD", "EUR", "GBP", "CAD", "JPY"})


def coin(coin_id: str) -> Coin | None:
    return BY_ID.get(coin_id)


def symbol_for(coin_id: str) -> str | None:
    found = BY_ID.get(coin_id)
    return found.symbol if found else None


def id_for_symbol(symbol: str) -> str | None:
    """bitcoin for "BTC" or "btc"; None if the symbol is not in the map."""
    found = BY_SYMBOL.get(symbol.upper())
    return found.id if found else None


def kraken_asset(code: str) -> str:
    """Kraken's name for a coin symbol or fiat code (BTC -> XBT, DOGE -> XDG)."""
    code = code.upper()
    found = BY_SYMBOL.get(code)
    if found is not None and found.kraken:
        return found.kraken
    return code


def kraken_listed(coin_id: str) -> bool:
    found = BY_ID.get(coin_id)
    return found is not None and found.kraken != ""


def kraken_result_key(base: str, quote: str) -> str:
    """The key Kraken's Ticker answer uses for the altname base+quote (XBT, USD -> XXBTZUSD)."""
    if base in _KRAKEN_LEGACY_CRYPTO and (quote in _KRAKEN_LEGACY_FIAT or quote in _KRAKEN_LEGACY_CRYPTO):
        quote_prefix = "Z" if quote in _KRAKEN_LEGACY_FIAT else "X"
        return f"X{base}{quote_prefix}{quote}"
    return base + quote
