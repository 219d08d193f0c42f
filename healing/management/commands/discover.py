"""manage.py discover FILE|URL...: probe candidate APIs and add them to the catalogue *disabled*,
with the findings in their notes, for an operator to review and enable (healing.discovery).

A FILE is a JSON list of {name?, base_url, sample_path, docs_url?, category?, note?}; a URL is a
base URL probed at --path. Everything given is validated before anything is probed."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from healing.discovery import candidates as inputs
from healing.discovery import probe, service
from providers.models import Category


class Command(BaseCommand):
    help = "Probe candidate APIs (a candidates JSON file or base URLs) and add them as disabled providers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sources", nargs="+", metavar="FILE|URL",
                            help="a candidates JSON file, or an http(s) base URL (repeatable, mixed)")
        parser.add_argument("--path", default="/", help='sample path for base URLs given here (default "/")')
        parser.add_argument("--category", choices=Category.values, help="category for base URLs given here")
        parser.add_argument("--dry-run", action="store_true", help="probe and report; write nothing")
        parser.add_argument("--timeout", type=float, default=probe.DEFAULT_TIMEOUT_S, help="seconds per candidate")
        parser.add_argument("--concurrency", type=int, default=probe.DEFAULT_CONCURRENCY, help="probes at once")

    def handle(self, *args, sources: list[str], path: str, category: str | None, dry_run: bool,
               timeout: float, concurrency: int, **options) -> None:
        if not 0 < timeout <= 120:
            raise CommandError("--timeout: give seconds between 0 and 120")
        if not 1 <= concurrency <= 64:
            raise CommandError("--concurrency: give a number from 1 to 64")
        candidates = self._candidates(sources, path, category or "")
        outcomes = service.discover(candidates, dry_run=dry_run, timeout_s=timeout, concurrency=concurrency)
        for outcome in outcomes:
            self.stdout.write(outcome.line())
            if options["verbosity"] >= 2 and outcome.finding.outcome != service.NOT_PROBED:
                self.stdout.write(service.findings_block(outcome.candidate, outcome.finding,
                                                         outcome.classification.describe()) + "\n")
        counts = ", ".join(f"{n} {action}" for action, n in service.summary(outcomes).items())
        self.stdout.write(("dry run, nothing written: " if dry_run else "") + counts)

    @staticmethod
    def _candidates(sources: list[str], path: str, category: str) -> list[inputs.Candidate]:
        found, urls, errors = [], [], []
        for source in sources:
            if source.startswith(("http://", "https://")):
                urls.append(source)
            elif Path(source).is_file():
                try:
                    found += inputs.parse_json(Path(source).read_text(encoding="utf-8"), source=source)
                except (OSError, UnicodeDecodeError) as exc:
                    errors.append(f"{source}: cannot read it ({exc})")
                except inputs.CandidateError as exc:
                    errors += exc.errors
            else:
                errors.append(f"{source}: neither a file nor an http(s) URL")
        if urls:
            try:
                found += inputs.from_urls(urls, path=path, category=category)
            except inputs.CandidateError as exc:
                errors += exc.errors
        if not errors and len(found) > inputs.MAX_CANDIDATES:
            errors.append(f"{len(found)} candidates; at most {inputs.MAX_CANDIDATES} per run")
        if errors:
            raise CommandError("nothing was probed:\n  " + "\n  ".join(errors))
        return found
