"""manage.py export_stats --format csv|json -o FILE [--since ISO]: the hourly roll-ups to a file."""

from __future__ import annotations

import csv
import json
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from healing import monitoring

from ._progress import ProgressBar


class Command(BaseCommand):
    help = "Export the hourly stats roll-ups as CSV or JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("-o", "--output", required=True, help="file to write ('-' for stdout)")
        parser.add_argument("--since", help="only hours from this ISO-8601 date/time on")

    def handle(self, *args, format: str, output: str, since: str | None, **options) -> None:
        since_dt = None
        if since:
            since_dt = parse_datetime(since)
            if since_dt is None:
                raise CommandError(f"--since: not an ISO-8601 date/time: {since!r}")
        rows = monitoring.rollup_rows(since=since_dt)
        try:
            out = sys.stdout if output == "-" else open(output, "w", newline="", encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from None
        bar = ProgressBar("exporting", stream=self.stderr._out)
        bar.start(len(rows))
        try:
            if format == "json":
                json.dump(rows, out, indent=1)
                bar.done = len(rows)
            else:
                writer = csv.DictWriter(out, fieldnames=monitoring.ROLLUP_FIELDS)
                writer.writeheader()
                for row in rows:
                    writer.writerow({**row, "outcomes": json.dumps(row["outcomes"], sort_keys=True)})
                    bar.advance()
        finally:
            bar.finish()
            if out is not sys.stdout:
                out.close()
        if output != "-":
            self.stdout.write(f"{len(rows)} rows written to {output}")
