"""manage.py export_stats --format csv|json -o FILE [--since ISO | --hours N]: the hourly
roll-ups to a file, the same content /api/stats/export downloads (healing.monitoring.reports.export_rollups)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from healing.monitoring import reports as status

from ._progress import ProgressBar


class Command(BaseCommand):
    help = "Export the hourly stats roll-ups as CSV or JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=list(status.EXPORT_FORMATS), default="csv")
        parser.add_argument("-o", "--output", required=True, help="file to write ('-' for stdout)")
        window = parser.add_mutually_exclusive_group()
        window.add_argument("--since", help="only hours from this ISO-8601 date/time on (naive means UTC)")
        window.add_argument("--hours", help="only the last N hours")

    def handle(self, *args, format: str, output: str, since: str | None, hours: str | None, **options) -> None:
        try:
            since_dt = status.parse_window(since=since, hours=hours, now=datetime.now(UTC), default_hours=None)
        except status.BadParameter as exc:
            raise CommandError(f"--{exc.field}: {exc}") from None
        try:
            out = sys.stdout if output == "-" else open(output, "w", newline="", encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from None
        bar = ProgressBar("exporting", stream=self.stderr._out)
        bar.start(status.rollup_count(since=since_dt))
        written = 0

        def advance() -> None:
            nonlocal written
            written += 1
            bar.advance()

        try:
            for chunk in status.export_rollups(format, since=since_dt, on_row=advance):
                out.write(chunk)
        finally:
            bar.finish()
            if out is not sys.stdout:
                out.close()
        if output != "-":
            self.stdout.write(f"{written} rows written to {output}")
