"""Backup and restore of the whole configuration as one JSON document.

The document has the shape of fixtures/providers.json, extended: `version`, `providers`, `pools`
(each with its `members`), `notification_channels`, `alert_rules` (their channels by name),
`maintenance_windows`, `periodic_tasks` (each with its schedule inline) and `api_clients`.
Everything refers to everything else by natural key (slugs, names), never by database id, so a
document imports into another database. Secrets stay out: providers and channels name the
environment variable that holds their secret (`api_key_env`, `secret_env`), client keys are their
sha256 (`key_hash`) and prefix. An optional `audit` section (the audit trail) is read-only.

`export_config()` builds the document (healing.backup.export); `import_config()` validates a
document whole, diffs it against the database and applies it in one transaction, or only diffs
it (`dry_run`); what the document does not list is kept unless `prune` (healing.backup.restore).
"""

from .errors import BackupError, EntryError
from .export import dumps, export_config
from .report import ImportPlan
from .restore import import_config

__all__ = ["BackupError", "EntryError", "ImportPlan", "dumps", "export_config", "import_config"]
