"""manage.py export_config [-o FILE] [--with-audit]: the whole configuration as one JSON document
(see healing.backup)."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from healing.backup import dumps, export_config


class Command(BaseCommand):
    help = (
        "Write providers, pools and members, alert rules, notification channels, maintenance windows, periodic "
        "tasks and client keys as one JSON document (secrets stay variable names, client keys hashes). "
        "Restore it with import_config."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-o", "--output", help="write to this file (default: standard output)")
        parser.add_argument("--with-audit", action="store_true",
                            help="add the audit trail (read-only: import_config ignores it)")

    def handle(self, *args, output: str | None = None, with_audit: bool = False, **options) -> None:
        document = export_config(with_audit=with_audit)
        data = dumps(document)
        if not output:
            self.stdout.write(data.decode(), ending="")
            return
        target = Path(output)
        partial = target.with_name(target.name + ".partial")
        try:
            # Written beside the target and renamed: an interrupted export never leaves half a backup.
            partial.write_bytes(data)
            os.replace(partial, target)
        except OSError as exc:
            raise CommandError(f"cannot write {target}: {exc}") from exc
        counts = ", ".join(f"{len(document[k])} {k}" for k in ("providers", "pools", "alert_rules", "api_clients"))
        self.stdout.write(self.style.SUCCESS(f"wrote {target} ({counts}, ...)"))
