"""Make sure an admin login exists and say how to use it; a second run changes nothing."""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

PASSWORD_FILE = Path(settings.BASE_DIR) / ".admin-password"


class Command(BaseCommand):
    help = "Create the 'admin' superuser (password from CRYPTOHUB_ADMIN_PASSWORD or generated) if missing."

    def handle(self, *args, **options) -> None:
        username = os.environ.get("CRYPTOHUB_ADMIN_USER", "admin")
        user_model = get_user_model()
        if user_model.objects.filter(username=username).exists():
            where = f"in {PASSWORD_FILE.name}" if PASSWORD_FILE.exists() else "as set when it was created"
            self.stdout.write(f"Admin login: user '{username}', password {where}.")
            return
        password = os.environ.get("CRYPTOHUB_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user_model.objects.create_superuser(username=username, email="", password=password)
        if not os.environ.get("CRYPTOHUB_ADMIN_PASSWORD"):
            PASSWORD_FILE.write_text(password + "\n")
            PASSWORD_FILE.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(f"Created admin login: user '{username}', password in {PASSWORD_FILE.name}.")
        )
