"""manage.py logs [--level L] [--category C] [--provider P] [--client C] [--q TEXT] [--since 1h] [--limit N]:
the activity log, newest first (the filters of GET /api/logs)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.exceptions import ValidationError

from healing.api.monitoring import parse_since
from healing.monitoring import activity_log

FILTERS = ("level", "category", "provider", "pool", "capability", "client", "q")


class Command(BaseCommand):
    help = "Show the activity log, newest first, with the filters of GET /api/logs."

    def add_arguments(self, parser: CommandParser) -> None:
        for name in FILTERS:
            parser.add_argument(f"--{name}", default="")
        parser.add_argument("--since", default="", help="ISO 8601, or 30m, 24h, 7d")
        parser.add_argument("--limit", type=int, default=50)

    def handle(self, *args, since: str, limit: int, **options) -> None:
        if not 1 <= limit <= activity_log.LIMIT_MAX:
            raise CommandError(f"--limit: give a number from 1 to {activity_log.LIMIT_MAX}")
        try:
            moment = parse_since(since, datetime.now(UTC)) if since else None
            filters = activity_log.parse_filters({k: options[k] for k in FILTERS}, since=moment)
        except ValidationError as exc:
            raise CommandError(f"--since: {exc.detail['since'][0]}") from None
        except activity_log.FilterError as exc:
            raise CommandError(f"--{exc.field}: {exc}") from None
        for item in activity_log.entries(filters, limit=limit):
            row = activity_log.present(item)
            extra = " ".join(f"{k}={row[k]}" for k in ("client", "source", "served", "ms") if row.get(k) is not None)
            self.stdout.write(f"{row['at']}  {row['level']:<7} {row['category']:<8} {row['msg']}  {extra}".rstrip())
