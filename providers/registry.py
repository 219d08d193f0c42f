"""Adapters by provider slug, as lazy dotted paths: adding a provider means adding files."""

from __future__ import annotations

import functools
from importlib import import_module

from providers.adapters.base import Adapter

ADAPTERS: dict[str, str] = {
    "coingecko": "providers.adapters.coingecko.CoinGecko",
    "coinpaprika": "providers.adapters.coinpaprika.CoinPaprika",
    "coincap": "providers.adapters.coincap.CoinCap",
    "cryptocompare": "providers.adapters.cryptocompare.CryptoCompare",
    "binance": "providers.adapters.binance.Binance",
    # Binance's API elsewhere: its market-data mirror (Binance's names) and Binance.US (its own)
    "binance_vision": "providers.adapters.binance_vision.BinanceVision",
    "binance_us": "providers.adapters.binance_us.BinanceUS",
    "kraken": "providers.adapters.kraken.Kraken",
    "coinbase": "providers.adapters.coinbase.Coinbase",
    # price (and CoinLore's markets and global)
    "kucoin": "providers.adapters.kucoin.KuCoin",
    "bitfinex": "providers.adapters.bitfinex.Bitfinex",
    "okx": "providers.adapters.okx.Okx",
    # price, 24 h tickers, candles and order books (after the exchanges above in every pool)
    "bitstamp": "providers.adapters.bitstamp.Bitstamp",
    "gemini": "providers.adapters.gemini.Gemini",
    "bybit": "providers.adapters.bybit.Bybit",
    "gateio": "providers.adapters.gateio.GateIo",
    # candles and order books (the other exchanges above serve them too)
    "coinbase_exchange": "providers.adapters.coinbase_exchange.CoinbaseExchange",
    "coinlore": "providers.adapters.coinlore.CoinLore",
    "dia": "providers.adapters.dia.Dia",
    # fear & greed
    "alternative_me": "providers.adapters.alternative_me.AlternativeMe",
    "coinmarketcap": "providers.adapters.coinmarketcap.CoinMarketCap",
    # DeFi TVL
    "defillama": "providers.adapters.defillama.DefiLlama",
    "yearn_ydaemon": "providers.adapters.yearn_ydaemon.YearnYDaemon",
    # DeFi: DEX pairs, stablecoins (and CoinGecko's stablecoin category), yields
    "dexscreener": "providers.adapters.dexscreener.DexScreener",
    "geckoterminal": "providers.adapters.geckoterminal.GeckoTerminal",
    "defillama_stablecoins": "providers.adapters.defillama.DefiLlamaStablecoins",
    "defillama_yields": "providers.adapters.defillama.DefiLlamaYields",
    # gas / fees
    "etherscan": "providers.adapters.etherscan.Etherscan",
    "mempool_space": "providers.adapters.mempool_space.MempoolSpace",
    "blockchair": "providers.adapters.blockchair.Blockchair",
    "publicnode_eth": "providers.adapters.publicnode_eth.PublicNodeEth",
    # on-chain: address balances and transaction status (also etherscan, mempool_space, blockchair, publicnode_eth)
    "blockstream": "providers.adapters.blockstream.Blockstream",
    "trongrid": "providers.adapters.trongrid.TronGrid",
    # their fallbacks: Tronscan behind TronGrid, Blockscout and more public nodes for Ethereum (the
    # nodes also answer eth_gasPrice), Blockchain.com for Bitcoin
    "tronscan": "providers.adapters.tronscan.Tronscan",
    "blockscout_eth": "providers.adapters.blockscout_eth.BlockscoutEth",
    "llamarpc_eth": "providers.adapters.llamarpc_eth.LlamaRpcEth",
    "drpc_eth": "providers.adapters.drpc_eth.DrpcEth",
    "cloudflare_eth": "providers.adapters.cloudflare_eth.CloudflareEth",
    "blockchain_info": "providers.adapters.blockchain_info.BlockchainInfo",
    # news
    "coindesk": "providers.adapters.coindesk.CoinDesk",
    "cointelegraph": "providers.adapters.cointelegraph.Cointelegraph",
    "bitcoinist": "providers.adapters.bitcoinist.Bitcoinist",
    "decrypt": "providers.adapters.decrypt.Decrypt",
    "theblock": "providers.adapters.theblock.TheBlock",
    "blockworks": "providers.adapters.blockworks.Blockworks",
    "bitcoinmagazine": "providers.adapters.bitcoinmagazine.BitcoinMagazine",
    "cryptoslate": "providers.adapters.cryptoslate.CryptoSlate",
    "newsbtc": "providers.adapters.newsbtc.NewsBtc",
    "utoday": "providers.adapters.utoday.UToday",
    "beincrypto": "providers.adapters.beincrypto.BeInCrypto",
    "cryptopotato": "providers.adapters.cryptopotato.CryptoPotato",
    "cryptopanic": "providers.adapters.cryptopanic.CryptoPanic",
}


@functools.cache
def get_adapter(slug: str) -> Adapter | None:
    """The adapter instance for a provider slug, or None if the provider has none."""
    dotted = ADAPTERS.get(slug)
    if dotted is None:
        return None
    module_path, _, class_name = dotted.rpartition(".")
    return getattr(import_module(module_path), class_name)()


def slugs_serving(capability: str) -> list[str]:
    return sorted(slug for slug in ADAPTERS if capability in get_adapter(slug).capabilities)
