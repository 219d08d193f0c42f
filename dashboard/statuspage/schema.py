"""The OpenAPI description of /api/status/page (documentation only: the view answers the plain
data of healing.monitoring.statuspage as it is)."""

from rest_framework import serializers

STATUSES = ["operational", "degraded", "down", "maintenance", "no_data"]
BANNERS = ["operational", "degraded", "partial_outage", "major_outage", "maintenance", "no_data"]


class StatusDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    uptime_pct = serializers.FloatField(allow_null=True, help_text="null: no counted check that day")
    checks = serializers.IntegerField(help_text="counted checks (not skipped, outside maintenance)")
    ok = serializers.IntegerField(help_text="counted checks that succeeded")
    band = serializers.ChoiceField(choices=["up", "minor", "partial", "major", "nodata"],
                                   help_text="colour band by downtime: 0, up to 1 %, up to 5 %, more")


class StatusUptimeSerializer(serializers.Serializer):
    # The keys ("24h", "7d", ...) are not Python names, so the fields are built here.
    def get_fields(self):
        return {name: serializers.FloatField(allow_null=True) for name in ("24h", "7d", "30d", "90d")}


class StatusMemberSerializer(serializers.Serializer):
    provider = serializers.CharField()
    state = serializers.ChoiceField(choices=["up", "down", "skipped", "unknown", "maintenance"])


class StatusPointSerializer(serializers.Serializer):
    hour = serializers.DateTimeField()
    p50_ms = serializers.FloatField(allow_null=True, help_text="median of the providers' hourly p50 latency")


class StatusComponentSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["pool", "category"])
    slug = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUSES)
    members = StatusMemberSerializer(many=True)
    uptime = StatusUptimeSerializer()
    days = StatusDaySerializer(many=True, help_text="90 UTC days, oldest first")
    response_ms = StatusPointSerializer(many=True, help_text="the last 24 hours, oldest first")


class StatusIncidentUpdateSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    state = serializers.CharField(help_text='"investigating", "identified", "resolved", or empty for a note')
    message = serializers.CharField()


class StatusIncidentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    pool = serializers.CharField()
    pool_name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["no_healthy_member", "head_breaker_open"])
    title = serializers.CharField()
    state = serializers.ChoiceField(choices=["investigating", "identified", "resolved"])
    opened_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    updates = StatusIncidentUpdateSerializer(many=True)


class StatusMaintenanceSerializer(serializers.Serializer):
    subject = serializers.CharField(help_text='"pool <slug>" or "provider <slug>"')
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    reason = serializers.CharField()
    in_progress = serializers.BooleanField()


class StatusBannerSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BANNERS)
    title = serializers.CharField()


class StatusRulesSerializer(serializers.Serializer):
    banner = serializers.CharField()
    uptime = serializers.CharField()


class StatusPageSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    banner = StatusBannerSerializer()
    rules = StatusRulesSerializer(help_text="the rules the page applies, as printed on it")
    history_days = serializers.IntegerField(help_text="days of health-check history kept")
    components = StatusComponentSerializer(many=True)
    incidents = StatusIncidentSerializer(many=True, help_text="unresolved, and resolved within 30 days")
    maintenance = StatusMaintenanceSerializer(many=True, help_text="in progress or scheduled ahead")
