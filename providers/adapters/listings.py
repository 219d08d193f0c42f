"""What the adapters' `parse_listing` share: the listing request contract and the exchanges'
pairs folded into one row per base asset.

Each adapter that lists assets has `listing_request()` (what to fetch) and `parse_listing(payload)`
(its rows as `providers.assets.Listing`); the registry sync (healing.asset_listings) calls them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from providers.adapters.base import BadData
from providers.assets import Listing


def exchange_listing(pairs: Iterable[tuple[str, str]], *, renames: Mapping[str, str] | None = None) -> list[Listing]:
    """One Listing per base asset, with its quote currencies; `renames` turns the exchange's own
    codes into usual symbols (Kraken's XBT is BTC) while the key keeps the exchange's code."""
    quotes: dict[str, set[str]] = {}
    for base, quote in pairs:
        if base and quote:
            quotes.setdefault(base, set()).add(quote)
    renames = renames or {}
    return [Listing(key=base, symbol=renames.get(base, base).upper(), quotes=tuple(sorted(q)))
            for base, q in sorted(quotes.items())]


def rows_of(payload: Any, slug: str, key: str | None = None) -> list[Mapping[str, Any]]:
    """The list of objects in an answer (or in its `key`), as BadData when it is not one."""
    rows = payload.get(key) if key is not None and isinstance(payload, Mapping) else payload
    if not isinstance(rows, list) or not rows:
        raise BadData(f"{slug}: the listing is not a non-empty list")
    return [row for row in rows if isinstance(row, Mapping)]


def rank_of(value: Any) -> int | None:
    try:
        rank = int(value)
    except (TypeError, ValueError):
        return None
    return rank if rank > 0 else None
