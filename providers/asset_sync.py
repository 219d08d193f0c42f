"""Matching providers' listings into one asset registry: pure, no ORM, no I/O.

CoinGecko's list (ids, symbols, names, contracts) defines the assets; every other provider's
listing is tied to them, most certain evidence first:

1. an operator's choice (kept for ever);
2. a contract address the listing shares with an asset;
3. the provider's own id equal to an asset id with the same symbol (CoinCap's `bitcoin`);
4. the same symbol and the same name (CoinPaprika's `btc-bitcoin`, "Bitcoin");
5. what the last sync decided for that key (so a provider renaming a coin keeps its link);
6. the symbol alone when exactly one asset has it, or when exactly one of the assets with it is
   ranked by market cap (exchanges list symbols only).

Anything else is left apart: two listed coins called "PEPE" with no other evidence are
`ambiguous` with their candidates, for review — never merged by symbol alone. An asset missing
from a CoinGecko list that was read is marked delisted (kept: old links and ids keep working).
A provider whose listing could not be read is not in `listings` at all, so nothing of it is
delisted on the strength of a failed call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from providers.assets import Asset, Listing, contract_key

DEFINING_PROVIDER = "coingecko"
# Aggregators with names and market-cap ranks are matched before the exchanges, whose symbol-only
# rows use the ranks the aggregators gave.
RANKING_PROVIDERS = ("coincap", "coinpaprika", "coinlore")


@dataclass(frozen=True)
class Known:
    asset_id: str | None
    match: str


@dataclass(frozen=True)
class Match:
    provider: str
    listing: Listing
    asset_id: str | None
    match: str  # providers.asset_models.MatchKind values
    candidates: tuple[str, ...] = ()


@dataclass
class SyncPlan:
    assets: dict[str, Asset] = field(default_factory=dict)
    matches: list[Match] = field(default_factory=list)

    @property
    def ambiguous(self) -> list[Match]:
        return [m for m in self.matches if m.match == "ambiguous"]


def normalized_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _define_assets(existing: Mapping[str, Asset], rows: list[Listing] | None) -> dict[str, Asset]:
    assets = dict(existing)
    if rows is None:
        return assets
    listed = set()
    for row in rows:
        listed.add(row.key)
        old = assets.get(row.key)
        platforms = {p: a for p, a in row.platforms.items() if a}
        if old is None:
            assets[row.key] = Asset(id=row.key, symbol=row.symbol, name=row.name, platforms=platforms)
        else:  # a rename on CoinGecko keeps the id: symbol and name follow it
            assets[row.key] = replace(old, symbol=row.symbol, name=row.name, platforms=platforms or old.platforms,
                                      delisted=False)
    for asset_id, asset in assets.items():
        if asset_id not in listed and not asset.delisted:
            assets[asset_id] = replace(asset, delisted=True)
    return assets


class _Index:
    def __init__(self, assets: Mapping[str, Asset]) -> None:
        self.assets = assets
        self.by_symbol: dict[str, list[str]] = {}
        self.by_name: dict[tuple[str, str], list[str]] = {}
        self.by_contract: dict[tuple[str, str], str] = {}
        for asset in assets.values():
            if asset.delisted:
                continue
            self.by_symbol.setdefault(asset.symbol.upper(), []).append(asset.id)
            self.by_name.setdefault((asset.symbol.upper(), normalized_name(asset.name)), []).append(asset.id)
            for platform, address in asset.platforms.items():
                self.by_contract.setdefault(contract_key(platform, address), asset.id)

    def live(self, asset_id: str | None) -> bool:
        asset = self.assets.get(asset_id) if asset_id else None
        return asset is not None and not asset.delisted


def _match_one(slug: str, row: Listing, index: _Index, known: Known | None, ranks: Mapping[str, int]) -> Match:
    if known is not None and known.match == "manual":
        return Match(slug, row, known.asset_id, "manual")
    for platform, address in row.platforms.items():
        found = index.by_contract.get(contract_key(platform, address))
        if found:
            return Match(slug, row, found, "contract")
    own = index.assets.get(row.key)
    if own is not None and not own.delisted and own.symbol.upper() == row.symbol.upper():
        return Match(slug, row, own.id, "id")
    if row.name:
        named = index.by_name.get((row.symbol.upper(), normalized_name(row.name)), [])
        if len(named) == 1:
            return Match(slug, row, named[0], "name")
    if known is not None and index.live(known.asset_id):
        return Match(slug, row, known.asset_id, known.match)
    same_symbol = index.by_symbol.get(row.symbol.upper(), [])
    if len(same_symbol) == 1:
        return Match(slug, row, same_symbol[0], "symbol")
    ranked = [asset_id for asset_id in same_symbol if asset_id in ranks]
    if len(ranked) == 1:
        return Match(slug, row, ranked[0], "ranked_symbol")
    if same_symbol:
        order = sorted(same_symbol, key=lambda a: (a not in ranks, ranks.get(a, 0), a))
        return Match(slug, row, None, "ambiguous", tuple(order))
    return Match(slug, row, None, "unmatched")


def plan_sync(listings: Mapping[str, list[Listing]], existing: Mapping[str, Asset],
              known: Mapping[tuple[str, str], Known]) -> SyncPlan:
    """The registry after this sync: assets (with ranks and delistings) and every listing's match."""
    assets = _define_assets(existing, listings.get(DEFINING_PROVIDER))
    index = _Index(assets)
    plan = SyncPlan()
    ranks: dict[str, int] = {}
    if DEFINING_PROVIDER in listings:
        plan.matches.extend(Match(DEFINING_PROVIDER, row, row.key, "id") for row in listings[DEFINING_PROVIDER])
    order = [s for s in RANKING_PROVIDERS if s in listings] + sorted(
        s for s in listings if s not in RANKING_PROVIDERS and s != DEFINING_PROVIDER)
    for slug in order:
        for row in listings[slug]:
            match = _match_one(slug, row, index, known.get((slug, row.key)), ranks)
            plan.matches.append(match)
            if match.asset_id and row.rank and match.asset_id not in ranks:
                ranks[match.asset_id] = row.rank  # the first ranking provider in RANKING_PROVIDERS wins
    ranked_any = any(slug in listings for slug in RANKING_PROVIDERS)
    plan.assets = {asset_id: replace(asset, rank=ranks.get(asset_id) if ranked_any else asset.rank)
                   for asset_id, asset in assets.items()}
    return plan
