"""The healing app's models (Django loads `healing.models`): recovery history and monitoring."""

from .clients import ApiClient
from .incidents import Incident, IncidentKind, IncidentState, IncidentUpdate
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
    "ApiClient", "Alert", "AlertDelivery", "AlertRule", "AlertState", "ChannelKind", "HealthCheck", "Incident",
    "IncidentKind", "IncidentState", "IncidentUpdate", "MaintenanceWindow",
    "NotificationChannel", "RecoveryAction", "RecoveryLog", "RuleKind", "Severity", "StatsRollup",
]
