"""Constants of the status and stats API tests (tests/healing/monitoring/conftest.py builds their catalogue)."""

from datetime import UTC, datetime

SECRET = "sk-live-CRYPTOHUB-STATUS-SECRET-42ab"
KEY_ENV = "CRYPTOHUB_TEST_STATUS_KEY"
SLASHES = ["", "/"]
# A fixed clock for the report functions (on the hour: 2027-01-15 08:00 UTC).
NOW = 1_800_000_000.0
NOW_DT = datetime.fromtimestamp(NOW, UTC)
