"""Pool, membership and rotation shapes, including the old system's field names
(`rotation_strategy`, `category`, `provider_id`), accepted beside the current ones."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pools.models import Pool, PoolMembership, RotationEvent
from pools.rotation import REASON_MAX_LENGTH
from pools.services import RESERVED_POOL_SLUGS, slug_from_name

# Bounds that keep a priority or weight inside every database's integer column.
PRIORITY_BOUND = 1_000_000
WEIGHT_MAX = 1_000_000
DEFAULT_ROTATION_REASON = "manual rotation via the API"


def with_aliases(data: Any, aliases: Mapping[str, str]) -> tuple[Any, dict[str, str]]:
    """Copy old-system field names onto the current ones; returns the data and the names used.

    Both names given with different values is ambiguous, so it is an error on the old name.
    """
    if not isinstance(data, Mapping):
        return data, {}  # the serializer itself reports "expected a dictionary"
    out = {key: data.get(key) for key in data}
    used = {}
    for old, new in aliases.items():
        if old not in out:
            continue
        value = out.pop(old)
        if new in out and out[new] != value:
            raise serializers.ValidationError({old: [f"conflicts with {new!r}; send only one of them"]})
        out[new] = value
        used[new] = old
    return out, used


class AliasedInputMixin:
    """Accept `ALIASES` (old name -> current name) and report errors under the name the client sent."""

    ALIASES: Mapping[str, str] = {}

    def to_internal_value(self, data: Any) -> Any:
        data, used = with_aliases(data, self.ALIASES)
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if isinstance(exc.detail, dict):
                exc.detail = {used.get(key, key): value for key, value in exc.detail.items()}
            raise


class MemberSerializer(serializers.Serializer):
    """One entry of a pool's current order."""

    provider = serializers.CharField()
    priority = serializers.IntegerField()
    weight = serializers.IntegerField()


class MembershipSerializer(serializers.ModelSerializer):
    provider = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    name = serializers.CharField(source="provider.name", read_only=True)
    category = serializers.CharField(source="provider.category", read_only=True)
    provider_enabled = serializers.BooleanField(source="provider.enabled", read_only=True)

    class Meta:
        model = PoolMembership
        fields = ["provider", "name", "category", "priority", "weight", "enabled", "provider_enabled"]


class MembershipInputSerializer(AliasedInputMixin, serializers.Serializer):
    ALIASES = {"provider_id": "provider"}

    provider = serializers.SlugField(max_length=64, help_text="Provider slug (`provider_id` is accepted too).")
    priority = serializers.IntegerField(default=0, min_value=-PRIORITY_BOUND, max_value=PRIORITY_BOUND)
    weight = serializers.IntegerField(default=100, min_value=0, max_value=WEIGHT_MAX)
    enabled = serializers.BooleanField(default=True)


class MembershipUpdateSerializer(serializers.Serializer):
    priority = serializers.IntegerField(required=False, min_value=-PRIORITY_BOUND, max_value=PRIORITY_BOUND)
    weight = serializers.IntegerField(required=False, min_value=0, max_value=WEIGHT_MAX)
    enabled = serializers.BooleanField(required=False)


class PoolSerializer(AliasedInputMixin, serializers.ModelSerializer):
    ALIASES = {"rotation_strategy": "strategy", "category": "capability"}

    members = MembershipSerializer(source="memberships", many=True, read_only=True)

    class Meta:
        model = Pool
        fields = [
            "slug", "name", "capability", "strategy", "description", "enabled", "members",
            "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            # A taken slug is a 409 from the service, not a 400 from a validator here.
            "slug": {"validators": [], "required": False},
            "capability": {"help_text": "Capability or provider category served (`category` is accepted too)."},
            "strategy": {"help_text": "Rotation strategy (`rotation_strategy` is accepted too)."},
        }

    def validate_slug(self, value: str) -> str:
        if self.instance is not None and value != self.instance.slug:
            raise serializers.ValidationError("a pool's slug cannot be changed; create a new pool")
        if self.instance is None and value in RESERVED_POOL_SLUGS:
            raise serializers.ValidationError(f"{value!r} is reserved; choose another slug")
        return value

    def validate(self, attrs: dict) -> dict:
        if self.instance is None and not attrs.get("slug"):
            slug = slug_from_name(attrs.get("name", ""))
            if not slug:
                raise serializers.ValidationError({"name": ["must contain a letter or digit to derive the slug from"]})
            if slug in RESERVED_POOL_SLUGS:
                raise serializers.ValidationError({"name": [f"gives the reserved slug {slug!r}; give a slug"]})
            attrs["slug"] = slug
        return attrs


class PoolDetailSerializer(PoolSerializer):
    current_order = serializers.SerializerMethodField(
        help_text="The order the next request would use (reading it never rotates the pool); "
        "null when the rotation state (Redis) is unavailable."
    )

    class Meta(PoolSerializer.Meta):
        fields = [*PoolSerializer.Meta.fields, "current_order"]

    @extend_schema_field(MemberSerializer(many=True, allow_null=True))
    def get_current_order(self, pool: Pool) -> list[dict] | None:
        order = self.context.get("current_order")
        return None if order is None else MemberSerializer(order, many=True).data


class RotateInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, default=DEFAULT_ROTATION_REASON)


class RotationEventSerializer(serializers.ModelSerializer):
    pool = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    from_provider = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    to_provider = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    head_changed = serializers.SerializerMethodField(help_text="false when the pool had one eligible member")

    class Meta:
        model = RotationEvent
        fields = ["id", "pool", "from_provider", "to_provider", "head_changed", "reason", "actor", "created_at"]

    def get_head_changed(self, event: RotationEvent) -> bool:
        return event.from_provider_id != event.to_provider_id
