"""manage.py ensure_alert_rules: the default alert rules of a fresh deployment (a second run changes nothing)."""

from django.core.management.base import BaseCommand

from healing.monitoring.default_rules import ensure_default_rules


class Command(BaseCommand):
    help = "Create the default alert rules (login lockout, empty pool, provider down) where none of their kind exists."

    def handle(self, *args, **options) -> None:
        created = ensure_default_rules()
        if created:
            self.stdout.write(self.style.SUCCESS(f"Created alert rules: {', '.join(created)}."))
        else:
            self.stdout.write("Alert rules: every default kind already has a rule.")
