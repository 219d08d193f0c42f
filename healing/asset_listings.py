"""The registry sync: every listing provider's own list of assets, fetched concurrently (one call
each, through the engine's HTTP seam: the provider's base URL, auth, timeout and body bound),
matched (providers.asset_sync) and written in one transaction (providers.asset_store).

It runs in the Celery worker (daily) or in `manage.py sync_assets`, never on the data plane: the
data plane sees the result when the config snapshot rebuilds. A provider whose listing fails is
reported and left out — nothing of it is delisted because of a failed call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from healing.catalogue import build_snapshot
from healing.engine.config import Snapshot
from healing.engine.http import Failure, call_provider, classify_status, make_client
from providers import asset_store
from providers.adapters.base import AdapterError
from providers.asset_sync import plan_sync
from providers.assets import Listing
from providers.registry import get_adapter

logger = logging.getLogger(__name__)

# binance_vision is not here: it mirrors Binance and reads Binance's names (its adapter's names_from).
LISTING_PROVIDERS = ("coingecko", "coinpaprika", "coincap", "coinlore", "binance", "kraken", "coinbase",
                     "coinbase_exchange", "kucoin", "okx", "bitfinex", "binance_us")
# CoinGecko's full list with platforms is ~10 MB; Binance's exchangeInfo a few MB.
LISTING_MAX_BYTES = 64 * 1024 * 1024
LISTING_DEADLINE_S = 120.0


@dataclass
class SyncReport:
    fetched: dict[str, int] = field(default_factory=dict)  # slug -> rows
    failed: dict[str, str] = field(default_factory=dict)  # slug -> why
    written: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"fetched": self.fetched, "failed": self.failed, **self.written}


async def fetch_listing(client, snapshot: Snapshot, slug: str) -> list[Listing]:
    cfg = snapshot.providers.get(slug)
    if cfg is None or not cfg.enabled:
        raise Failure("skipped", "not in the catalogue or disabled")
    adapter = get_adapter(slug)
    deadline = asyncio.get_running_loop().time() + LISTING_DEADLINE_S
    response = await call_provider(client, cfg, adapter.listing_request(), deadline=deadline,
                                   max_body_bytes=LISTING_MAX_BYTES)
    if not 200 <= response.status < 300:
        raise classify_status(adapter, response, 0.0)
    try:
        return adapter.parse_listing(adapter.decode(response.body, response.headers.get("content-type", "")))
    except AdapterError:
        raise
    except Exception as exc:  # noqa: BLE001 - an unexpected shape is that provider's failure, not the sync's
        raise Failure("bad_data", f"unparseable listing ({exc.__class__.__name__})") from None


async def fetch_listings(snapshot: Snapshot, slugs: tuple[str, ...],
                         progress: Callable[[str, str], None] | None = None) -> tuple[dict, dict]:
    listings: dict[str, list[Listing]] = {}
    failed: dict[str, str] = {}
    async with make_client() as client:
        async def one(slug: str) -> None:
            try:
                listings[slug] = await fetch_listing(client, snapshot, slug)
                note = f"{len(listings[slug])} rows"
            except (Failure, AdapterError) as exc:
                failed[slug] = str(exc)[:300]
                note = f"failed: {failed[slug][:80]}"
            if progress is not None:
                progress(slug, note)

        await asyncio.gather(*(one(slug) for slug in slugs))
    return listings, failed


def sync_assets(slugs: tuple[str, ...] = LISTING_PROVIDERS,
                progress: Callable[[str, str], None] | None = None) -> SyncReport:
    snapshot = build_snapshot()
    listings, failed = asyncio.run(fetch_listings(snapshot, slugs, progress))
    report = SyncReport(fetched={s: len(rows) for s, rows in listings.items()}, failed=failed)
    if not listings:
        return report
    plan = plan_sync(listings, asset_store.existing_assets(), asset_store.known_matches())
    report.written = asset_store.apply_plan(plan, listings.keys(), timezone.now())
    logger.info("asset sync: %s", report.as_dict())
    return report
