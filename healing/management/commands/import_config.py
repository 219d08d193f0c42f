"""manage.py import_config FILE [--dry-run] [--prune]: restore a configuration document written by
export_config (see healing.backup). All or nothing; every error names its entry and field."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common import json_input
from healing.backup import BackupError, import_config


class Command(BaseCommand):
    help = (
        "Restore the configuration from a document written by export_config. The whole document is checked "
        "first; the diff is printed. --dry-run only prints it; what the document does not list is kept unless "
        "--prune."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the document (- reads standard input)")
        parser.add_argument("--dry-run", action="store_true", help="print the changes, write nothing")
        parser.add_argument("--prune", action="store_true",
                            help="delete providers, pools, rules, ... that the document does not list")

    def handle(self, *args, path: str, dry_run: bool = False, prune: bool = False, **options) -> None:
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        try:
            data = json_input.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}: not valid JSON: {json_input.where(exc)}") from exc
        try:
            plan = import_config(data, dry_run=dry_run, prune=prune)
        except BackupError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        lines = plan.lines()
        self.stdout.write(self.style.SUCCESS(lines[0]) if plan.applied else lines[0])
        for line in lines[1:]:
            self.stdout.write(f"  {line}")
