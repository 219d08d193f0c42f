"""manage.py breaker show [SLUG] | breaker reset SLUG: the shared breakers in Redis."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from healing.monitoring import selfheal
from providers.models import Provider


class Command(BaseCommand):
    help = "Show breaker states (all providers or one), or reset one provider's breaker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["show", "reset"])
        parser.add_argument("slug", nargs="?", help="provider slug (required for reset)")

    def handle(self, *args, action: str, slug: str | None, **options) -> None:
        if slug and not Provider.objects.filter(slug=slug).exists():
            raise CommandError(f"unknown provider {slug!r}")
        if action == "reset":
            if not slug:
                raise CommandError("reset needs a provider slug")
            selfheal.breaker_reset(slug)
            self.stdout.write(f"breaker for {slug} reset (closed)")
            return
        slugs = [slug] if slug else list(Provider.objects.values_list("slug", flat=True))
        states = selfheal.breaker_states(slugs)
        rows = [("PROVIDER", "STATE", "FAILURES", "WINDOW", "REOPENS AT")]
        for s in slugs:
            st = states[s]
            reopens = (datetime.fromtimestamp(st.reopens_at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
                       if st.reopens_at else "-")
            rows.append((s, st.state, str(st.consecutive_failures), f"{st.window_failures}/{st.window_calls}", reopens))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for r in rows:
            self.stdout.write("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
