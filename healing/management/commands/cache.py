"""manage.py cache clear [--capability C [--param k=v ...]] [--provider P] [--all] [--keep-stale]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from healing import cache_control


class Command(BaseCommand):
    help = "Purge cached answers: a capability, one answer of it, a provider's answers, or all."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        clear = sub.add_parser("clear", help="purge; every process sees it at once")
        clear.add_argument("--capability", default="", help="a data endpoint, e.g. price, fear-greed")
        clear.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                           help="one answer of the capability, as its endpoint takes it (repeatable)")
        clear.add_argument("--provider", default="", help="only the answers this provider produced")
        clear.add_argument("--all", action="store_true", help="everything")
        clear.add_argument("--keep-stale", action="store_true",
                           help="keep the answers as last-resort stale copies (never fresh again)")

    def handle(self, *args, action: str, capability: str, param: list[str], provider: str, keep_stale: bool,
               **options) -> None:
        params = {}
        for item in param:
            name, sep, value = item.partition("=")
            if not sep or not name:
                raise CommandError(f"--param {item!r}: write NAME=VALUE")
            params[name] = value
        try:
            report = cache_control.purge(capability=capability, params=params, provider=provider,
                                         everything=options["all"], keep_stale=keep_stale)
        except cache_control.PurgeError as exc:
            raise CommandError(f"{exc.field}: {exc}") from None
        self.stdout.write(f"cache purged: {report.deleted} deleted, {report.expired} kept as stale only")
