"""manage.py load_providers [PATH] [--update]: load the shipped catalogue (see pools.catalogue)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pools.catalogue import CatalogueError, load_catalogue

DEFAULT_CATALOGUE = Path("fixtures") / "providers.json"


class Command(BaseCommand):
    help = (
        "Load providers and default pools from the catalogue file. A plain load creates what is new and "
        "keeps operator edits; --update applies the file to every provider and pool and lists each change."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help=f"catalogue file (default: BASE_DIR/{DEFAULT_CATALOGUE})")
        parser.add_argument(
            "--update", action="store_true", help="overwrite operator edits with the file's values"
        )

    def handle(self, *args, path: str | None = None, update: bool = False, **options) -> None:
        catalogue = Path(path) if path else Path(settings.BASE_DIR) / DEFAULT_CATALOGUE
        try:
            report = load_catalogue(catalogue, update=update)
        except CatalogueError as exc:
            raise CommandError(str(exc)) from exc
        lines = report.lines()
        self.stdout.write(self.style.SUCCESS(lines[0]) if report.changed else lines[0])
        for line in lines[1:]:
            self.stdout.write(f"  {line}")
