"""The asset registry as the request path sees it: every coin, its symbol, its contracts, and each
provider's own name for it — plain frozen data, no Django, no I/O.

Callers speak CoinGecko-style ids ("bitcoin"). `resolve()` also takes a ticker symbol ("BTC") and a
`chain:contract` address ("eth:0xa0b8..."). Adapters ask `name_on(slug, coin_id)` for the name a
provider knows a coin by (CoinPaprika `btc-bitcoin`, Kraken `XBT`, Binance `BTC`): a coin the
provider does not list is "not found" there, so the engine moves on to the next provider.

One registry per process, swapped whole (`install`) when the catalogue's snapshot is rebuilt from
the ORM (healing.catalogue); until then it is the snapshot shipped in fixtures/assets.json, so a
fresh install offline, a unit test and `manage.py fetch` all know the shipped assets.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

SHIPPED_SNAPSHOT = Path(__file__).resolve().parent.parent / "fixtures" / "assets.json"
# How many close matches an unknown id's 404 suggests.
CLOSE_MATCHES = 5
# Chain names callers use in `chain:contract` -> the platform key CoinGecko lists contracts under.
CHAIN_ALIASES: Mapping[str, str] = MappingProxyType({
    "eth": "ethereum", "ethereum": "ethereum", "erc20": "ethereum",
    "bsc": "binance-smart-chain", "bnb": "binance-smart-chain", "binance-smart-chain": "binance-smart-chain",
    "polygon": "polygon-pos", "matic": "polygon-pos", "polygon-pos": "polygon-pos",
    "arbitrum": "arbitrum-one", "arbitrum-one": "arbitrum-one", "optimism": "optimistic-ethereum",
    "op": "optimistic-ethereum", "optimistic-ethereum": "optimistic-ethereum", "base": "base",
    "avalanche": "avalanche", "avax": "avalanche", "solana": "solana", "sol": "solana",
    "tron": "tron", "trx": "tron",
})
# Platforms whose addresses are hex and case-insensitive (compared lower case); others (Solana,
# Tron: base58) are case-sensitive and kept as written.
HEX_PLATFORMS = frozenset({"ethereum", "binance-smart-chain", "polygon-pos", "arbitrum-one",
                           "optimistic-ethereum", "base", "avalanche"})


def contract_key(platform: str, address: str) -> tuple[str, str]:
    address = address.strip()
    return platform, address.lower() if platform in HEX_PLATFORMS else address


@dataclass(frozen=True)
class Asset:
    id: str  # CoinGecko-style id, the id callers use
    symbol: str  # ticker symbol, upper case
    name: str
    rank: int | None = None  # by market cap, from the aggregators' listings; None: unranked
    platforms: Mapping[str, str] = field(default_factory=dict)  # platform -> contract address
    names: Mapping[str, str] = field(default_factory=dict)  # provider slug -> the provider's name for it
    delisted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "symbol": self.symbol, "name": self.name, "rank": self.rank,
                "platforms": dict(self.platforms), "providers": dict(sorted(self.names.items())),
                "delisted": self.delisted}


class UnknownAsset(LookupError):
    """Nothing in the registry by that id, symbol or contract; `close` suggests ids."""

    def __init__(self, token: str, close: list[str]) -> None:
        super().__init__(f"unknown coin {token!r}")
        self.token, self.close = token, close


class AmbiguousAsset(LookupError):
    """A symbol several coins share; `candidates` lists their ids, best ranked first."""

    def __init__(self, token: str, candidates: list[str]) -> None:
        super().__init__(f"{token!r} is the symbol of several coins: {', '.join(candidates)}")
        self.token, self.candidates = token, candidates


def _rank_order(asset: Asset) -> tuple[bool, int, str]:
    return (asset.rank is None, asset.rank or 0, asset.id)


class Registry:
    """Lookups over a fixed set of assets; built once, read by every request."""

    def __init__(self, assets: Iterable[Asset]) -> None:
        self._by_id: dict[str, Asset] = {}
        by_symbol: dict[str, list[Asset]] = {}
        self._by_contract: dict[tuple[str, str], str] = {}
        self._by_name: dict[tuple[str, str], str] = {}
        for asset in assets:
            self._by_id[asset.id] = asset
            if asset.delisted:
                continue  # still found by id (old links keep working), never by symbol or contract
            by_symbol.setdefault(asset.symbol.upper(), []).append(asset)
            for platform, address in asset.platforms.items():
                if address:
                    self._by_contract.setdefault(contract_key(platform, address), asset.id)
            for slug, name in asset.names.items():
                self._by_name.setdefault((slug, name), asset.id)
        self._by_symbol = {symbol: tuple(a.id for a in sorted(found, key=_rank_order))
                           for symbol, found in by_symbol.items()}

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self):
        return iter(self._by_id.values())

    def get(self, coin_id: str) -> Asset | None:
        return self._by_id.get(coin_id)

    def symbol_for(self, coin_id: str) -> str | None:
        asset = self._by_id.get(coin_id)
        return asset.symbol if asset else None

    def name_on(self, slug: str, coin_id: str) -> str | None:
        """The provider's own name for a coin, or None when the provider does not list it."""
        asset = self._by_id.get(coin_id)
        return asset.names.get(slug) if asset else None

    def id_from(self, slug: str, provider_name: str) -> str | None:
        """The caller's id for a provider's own name (CoinPaprika `btc-bitcoin` -> bitcoin)."""
        return self._by_name.get((slug, provider_name))

    def ids_for_symbol(self, symbol: str) -> tuple[str, ...]:
        return self._by_symbol.get(symbol.upper(), ())

    def id_for_symbol(self, symbol: str) -> str | None:
        """The best-ranked coin with that symbol (for providers that answer in symbols only)."""
        found = self._by_symbol.get(symbol.upper())
        return found[0] if found else None

    def by_contract(self, chain: str, address: str) -> str | None:
        platform = CHAIN_ALIASES.get(chain.lower(), chain.lower())
        return self._by_contract.get(contract_key(platform, address))

    def resolve(self, token: str) -> str:
        """The id a caller means by an id, a symbol or `chain:contract`.

        An exact id wins over a symbol (`ids=tron` is the coin tron, not the symbol TRON); a symbol
        several listed coins share is ambiguous rather than guessed.
        """
        token = token.strip()
        if ":" in token:
            chain, _, address = token.partition(":")
            found = self.by_contract(chain, address)
            if found is None:
                raise UnknownAsset(token, [])
            return found
        lowered = token.lower()
        if lowered in self._by_id:
            return lowered
        found = self._by_symbol.get(token.upper(), ())
        if len(found) == 1:
            return found[0]
        if found:
            raise AmbiguousAsset(token, list(found))
        raise UnknownAsset(token, self.close_matches(lowered))

    def close_matches(self, text: str, limit: int = CLOSE_MATCHES) -> list[str]:
        return difflib.get_close_matches(text, self._by_id.keys(), n=limit, cutoff=0.75)

    def search(self, query: str, limit: int) -> list[Asset]:
        """Assets whose id, symbol or name match `query`: exact symbol or id first, then
        prefixes, then substrings; best ranked first within each group; delisted last."""
        q = query.strip().lower()
        if not q:
            return sorted(self._by_id.values(), key=lambda a: (a.delisted, *_rank_order(a)))[:limit]
        scored = []
        for asset in self._by_id.values():
            keys = (asset.id, asset.symbol.lower(), asset.name.lower())
            if q in keys[:2] or q == keys[2]:
                group = 0
            elif any(k.startswith(q) for k in keys):
                group = 1
            elif any(q in k for k in keys):
                group = 2
            else:
                continue
            scored.append(((asset.delisted, group, *_rank_order(asset)), asset))
        scored.sort(key=lambda pair: pair[0])
        return [asset for _, asset in scored[:limit]]


def asset_from_dict(row: Mapping[str, Any]) -> Asset:
    return Asset(id=row["id"], symbol=row["symbol"].upper(), name=row["name"], rank=row.get("rank"),
                 platforms=MappingProxyType(dict(row.get("platforms") or {})),
                 names=MappingProxyType(dict(row.get("providers") or {})),
                 delisted=bool(row.get("delisted")))


def load_snapshot(path: Path = SHIPPED_SNAPSHOT) -> Registry:
    """The registry in a snapshot file ({"assets": [Asset.to_dict(), ...]})."""
    with open(path, encoding="utf-8") as handle:
        return Registry(asset_from_dict(row) for row in json.load(handle)["assets"])


@functools.cache
def shipped() -> Registry:
    return load_snapshot()


_current: Registry | None = None


def current() -> Registry:
    return _current if _current is not None else shipped()


def install(registry: Registry) -> None:
    """Swap the process's registry (a whole new one: readers never see a half-built registry)."""
    global _current
    _current = registry


def require_name(slug: str, coin_id: str, *, asker: str | None = None) -> str:
    """The provider's own name for a coin; a coin it does not list is "not found" there (the
    caller's coin is fine elsewhere: the engine asks the next provider, no breaker counts it).
    `asker` is the provider asking when it reads another's names (a mirror of that API)."""
    from providers.adapters.base import NotFound  # the adapters' error type; base imports nothing of ours

    name = current().name_on(slug, coin_id)
    if name is None:
        where = slug if asker in (None, slug) else f"{asker} (as on {slug})"
        raise NotFound(f"{where}: {coin_id!r} is not listed there", field="ids", values=[coin_id])
    return name


def symbol_for(coin_id: str) -> str | None:
    return current().symbol_for(coin_id)


@dataclass(frozen=True)
class Listing:
    """One row of a provider's own listing of what it knows (adapters' `parse_listing`)."""

    key: str  # the provider's own name for it: id, symbol or base asset (btc-bitcoin, XBT)
    symbol: str  # the usual ticker symbol, upper case (Kraken's XBT is BTC here)
    name: str = ""  # empty where the provider gives none (exchanges' instrument lists)
    rank: int | None = None
    platforms: Mapping[str, str] = field(default_factory=dict)
    quotes: tuple[str, ...] = ()  # an exchange's quote currencies for it
