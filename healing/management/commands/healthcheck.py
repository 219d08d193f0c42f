"""manage.py healthcheck [--provider SLUG ...] [--category C]: one health sweep in the foreground,
the same code path as the beat task (healing.monitoring.sweep.health_sweep), with a summary table."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from healing.monitoring import sweep as monitoring
from healing.tasks import enqueue_notification
from providers.models import Category, Provider

from ._progress import ProgressBar


class Command(BaseCommand):
    help = "Probe providers now (all enabled ones, or a selection), record the results, evaluate alerts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", action="append", dest="providers", metavar="SLUG",
                            help="only this provider (repeatable)")
        parser.add_argument("--category", choices=Category.values, help="only providers of this category")

    def handle(self, *args, providers: list[str] | None = None, category: str | None = None, **options) -> None:
        if providers:
            known = set(Provider.objects.filter(slug__in=providers).values_list("slug", flat=True))
            if unknown := sorted(set(providers) - known):
                raise CommandError(f"unknown provider(s): {', '.join(unknown)}")
        bar = ProgressBar("probing", stream=self.stderr._out)
        report = monitoring.health_sweep(slugs=providers, category=category, notify=enqueue_notification,
                                         on_targets=bar.start, on_result=bar.advance)
        bar.finish()
        if report.locked_out:
            raise CommandError("another health sweep is running; try again in a moment")
        self.stdout.write(self._table(report))
        s = report.summary()
        self.stdout.write(f"{s['probed']} probed: {s['up']} up, {s['down']} down, {s['skipped']} skipped, "
                          f"{s['flips']} changed state, in {s['duration_s']:.2f} s")

    @staticmethod
    def _table(report: monitoring.SweepReport) -> str:
        rows = [("PROVIDER", "STATUS", "CODE", "LATENCY", "ERROR")]
        for r in sorted(report.results, key=lambda r: (r.ok, r.skipped, r.slug)):
            status = "skipped" if r.skipped else ("up" if r.ok else "DOWN")
            latency = f"{r.latency_ms:.0f} ms" if r.latency_ms is not None else "-"
            error = f"{r.error_class}: {r.message}" if r.error_class else ""
            rows.append((r.slug, status, str(r.status_code or "-"), latency, error[:60]))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        return "\n".join("  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)).rstrip()
                         for row in rows)
