"""History the healing layer keeps in the database: who recovered which provider, why, and how it went."""

from django.db import models


class RecoveryAction(models.TextChoices):
    RECOVER = "recover", "Recover (reset + probe)"
    RESET_BREAKER = "reset_breaker", "Reset breaker"
    CLEAR_FAILURES = "clear_failures", "Clear all failures"


class RecoveryLog(models.Model):
    # A slug, not a foreign key: the audit trail outlives a deleted provider. "*" means all.
    provider_slug = models.CharField(max_length=64, db_index=True)
    action = models.CharField(max_length=20, choices=RecoveryAction.choices)
    reason = models.CharField(max_length=300, blank=True)
    actor = models.CharField(max_length=150, default="system", help_text="A username, or 'system'.")
    result = models.JSONField(default=dict, blank=True, help_text="Breaker state and probe outcome afterwards.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.provider_slug}: {self.action} by {self.actor}"

