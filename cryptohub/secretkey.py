"""Where SECRET_KEY comes from: the environment, never the source.

`settings_key()` is what cryptohub/settings.py calls. Without SECRET_KEY only two kinds of start
run, each with a throwaway random key of its own: the test settings, and `manage.py` against a
SQLite database in development (migrate, load_providers, createsuperuser...). Every other start
(uvicorn, Celery, manage.py against another database, anything with CRYPTOHUB_ENV=production)
refuses with one line saying what to set.

`make run` (scripts/run-all.sh) keeps a generated key in a git-ignored, owner-only file and
exports it: `python -m cryptohub.secretkey [PATH]` creates the file on first use (0600) and prints
the key for the script to read; later runs print the same key.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from pathlib import Path

# Exit status of a refused start: uvicorn's "startup failure", so a multi-worker uvicorn stops
# instead of restarting workers that can never start.
REFUSED_EXIT_STATUS = 3
DEFAULT_KEY_FILE = ".secret-key"
TEST_SETTINGS_MODULE = "tests.settings"
MESSAGE = (
    "cryptohub: SECRET_KEY is not set. Set SECRET_KEY to a long random value "
    "(python -c 'import secrets; print(secrets.token_urlsafe(50))'); `make run` keeps one in {file}."
)


def key_optional(*, settings_module: str, argv0: str, sqlite: bool, production: bool) -> bool:
    """True for the starts that may run without a key: tests, and manage.py on SQLite outside production."""
    if settings_module == TEST_SETTINGS_MODULE:
        return True
    return not production and sqlite and Path(argv0).name == "manage.py"


def refuse(key_file: str = DEFAULT_KEY_FILE) -> None:
    sys.stderr.write(MESSAGE.format(file=key_file) + "\n")
    raise SystemExit(REFUSED_EXIT_STATUS)


def settings_key(environ_key: str, *, sqlite: bool, production: bool) -> str:
    if environ_key:
        return environ_key
    optional = key_optional(settings_module=os.environ.get("DJANGO_SETTINGS_MODULE", ""),
                            argv0=sys.argv[0] if sys.argv else "", sqlite=sqlite, production=production)
    if not optional:
        refuse(os.environ.get("CRYPTOHUB_SECRET_KEY_FILE", DEFAULT_KEY_FILE))
    # Random per process: nothing signed with it outlives the command, and no key is in the source.
    return secrets.token_urlsafe(50)


def ensure_key_file(path: Path) -> tuple[str, bool]:
    """(key, created): the key in `path`, created owner-only (0600) with a random key when missing."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)  # readable by others: tighten it, the key itself stays
        key = path.read_text().strip()
        if not key:
            raise SystemExit(f"cryptohub: {path} is empty; delete it to get a new key") from None
        return key, False
    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key, True


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else os.environ.get("CRYPTOHUB_SECRET_KEY_FILE", DEFAULT_KEY_FILE))
    key, created = ensure_key_file(path)
    if created:
        sys.stderr.write(f"Created a secret key in {path.name} (owner-only). Keep it: sessions and signed "
                         "data depend on it.\n")
    sys.stdout.write(key + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
