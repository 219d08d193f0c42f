"""manage.py sync_assets [--provider SLUG ...] [--snapshot] [--export FILE]: the asset registry
synced from the providers' own listings now (the beat task does it daily), or loaded from the
shipped snapshot file (offline installs: `make catalogue` runs `--snapshot`), or exported to one."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from healing import asset_listings
from healing.management.commands._progress import ProgressBar
from providers import asset_store


class Command(BaseCommand):
    help = "Sync the asset registry from the providers' listings (or load/export the shipped snapshot)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", action="append", choices=asset_listings.LISTING_PROVIDERS,
                            help="sync only these listings (repeatable; default: all)")
        parser.add_argument("--snapshot", action="store_true",
                            help="load fixtures/assets.json where the registry has nothing yet (no network)")
        parser.add_argument("--export", metavar="FILE", help="write the top assets to a snapshot file")
        parser.add_argument("--top", type=int, default=asset_store.EXPORT_TOP, help="assets in an export")

    def handle(self, *args, provider: list[str] | None, snapshot: bool, export: str | None, top: int,
               **options) -> None:
        if snapshot:
            added = asset_store.load_snapshot_file()
            self.stdout.write(f"snapshot: {added} assets added")
            return
        if export:
            if top < 1:
                raise CommandError("--top: give a positive number")
            written = asset_store.export_snapshot(Path(export), top=top)
            self.stdout.write(f"exported {written} assets to {export}")
            return
        slugs = tuple(provider or asset_listings.LISTING_PROVIDERS)
        bar = ProgressBar("listings")
        bar.start(len(slugs))
        report = asset_listings.sync_assets(slugs, progress=bar.advance)
        bar.finish()
        for slug, rows in sorted(report.fetched.items()):
            self.stdout.write(f"{slug:<12} {rows} listed")
        for slug, why in sorted(report.failed.items()):
            self.stdout.write(f"{slug:<12} FAILED: {why}")
        if report.written:
            w = report.written
            self.stdout.write(f"assets {w['assets']} ({w['delisted_assets']} delisted), listings {w['listings']} "
                              f"({w['delisted_listings']} newly delisted), ambiguous {w['ambiguous']} to review")
        if not report.fetched:
            raise CommandError("no listing could be read; the registry is unchanged")
