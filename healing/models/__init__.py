"""The healing app's models (Django loads `healing.models`): recovery history and monitoring."""

from .clients import ApiClient
from .monitoring import (
    Alert,
    AlertDelivery,
    AlertRule,
    AlertState,
    ChannelKind,
    HealthCheck,
    MaintenanceWindow,
    NotificationChannel,
    RuleKind,
    Severity,
    StatsRollup,
)
from .recovery import RecoveryAction, RecoveryLog

__all__ = [
    "ApiClient", "Alert", "AlertDelivery", "AlertRule", "AlertState", "ChannelKind", "HealthCheck", "MaintenanceWindow",
    "NotificationChannel", "RecoveryAction", "RecoveryLog", "RuleKind", "Severity", "StatsRollup",
]
