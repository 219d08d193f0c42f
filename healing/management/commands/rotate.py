"""manage.py rotate POOL --reason "...": make the pool's next member primary now (audited)."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pools.models import Pool
from pools.rotation import RotationError, pool_rotate


class Command(BaseCommand):
    help = "Rotate a pool by hand: its current primary moves to the back for a while."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pool", help="pool slug")
        parser.add_argument("--reason", required=True, help="why (kept in the rotation history)")
        parser.add_argument("--actor", default="", help="who (default: cli:<login name>)")

    def handle(self, *args, pool: str, reason: str, actor: str, **options) -> None:
        try:
            event = pool_rotate(pool=pool, reason=reason, actor=actor or f"cli:{getpass.getuser()}")
        except Pool.DoesNotExist:
            raise CommandError(f"unknown pool {pool!r}") from None
        except RotationError as exc:
            raise CommandError(str(exc)) from None
        if event.from_provider_id == event.to_provider_id:
            self.stdout.write(f"pool {pool}: {event.to_provider or '-'} stays the head, the only eligible member "
                              f"(recorded: {event.reason})")
            return
        self.stdout.write(f"pool {pool}: {event.from_provider or '-'} -> {event.to_provider or '-'} ({event.reason})")
