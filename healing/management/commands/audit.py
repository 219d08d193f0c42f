"""manage.py audit [--model M] [--object O] [--actor A] [--since ISO] [--limit N]: the audit trail, newest first."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from healing import audit


class Command(BaseCommand):
    help = "Show who changed which configuration object, when, and the field diff (newest first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", default="", help="e.g. provider, pools.pool, alertrule")
        parser.add_argument("--object", default="", help="the object's id or text (a slug, a name)")
        parser.add_argument("--actor", default="", help="a user name, user:NAME, command:NAME or system")
        parser.add_argument("--since", default="", help="ISO 8601 with a zone, e.g. 2026-12-01T00:00:00Z")
        parser.add_argument("--limit", type=int, default=50, help="entries shown (default 50)")

    def handle(self, *args, model: str, object: str, actor: str, since: str, limit: int, **options) -> None:
        if not 1 <= limit <= audit.LIST_MAX:
            raise CommandError(f"--limit: give a number from 1 to {audit.LIST_MAX}")
        try:
            entries = audit.audit_entries(model=model, object=object, actor=actor, since=since)[:limit]
        except audit.AuditQueryError as exc:
            raise CommandError(f"--{exc.field}: {exc}") from None
        for entry in map(audit.entry_as_dict, entries):
            changes = ", ".join(f"{name}: {_show(diff)}" for name, diff in sorted(entry["changes"].items()))
            self.stdout.write(f"{entry['at']}  {entry['actor']:<24} {entry['action']:<7} {entry['model']} "
                              f"{entry['object']}" + (f"  ({changes})" if changes else ""))


def _show(diff) -> str:
    if isinstance(diff, list) and len(diff) == 2:
        return f"{diff[0]!r} -> {diff[1]!r}"
    return str(diff)
