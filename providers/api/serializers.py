"""Provider input and output shapes. Output never carries a key: only the variable's NAME
(`api_key_env`) and whether it is set (`api_key_set`)."""

from __future__ import annotations

from rest_framework import serializers

from providers.models import Provider
from providers.services import slug_from_name


class ProviderSerializer(serializers.ModelSerializer):
    api_key_set = serializers.BooleanField(
        source="api_key_is_set", read_only=True, help_text="Whether the variable named by api_key_env is set."
    )
    pools = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="slug", help_text="Slugs of the pools this provider serves in."
    )

    class Meta:
        model = Provider
        fields = [
            "slug", "name", "category", "base_url", "docs_url", "health_path", "health_method",
            "health_body", "auth_type", "auth_param", "auth_scheme", "api_key_env", "api_key_set",
            "key_required", "rate_limits", "timeout_s", "allow_post", "breaker_failure_threshold",
            "breaker_open_s", "is_free", "enabled", "notes", "pools", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            # Uniqueness is answered with 409 by the service, not 400 by a validator here;
            # a missing slug is derived from the name.
            "slug": {"validators": [], "required": False},
        }

    def validate_slug(self, value: str) -> str:
        if self.instance is not None and value != self.instance.slug:
            raise serializers.ValidationError("a provider's slug cannot be changed; create a new provider")
        return value

    def validate(self, attrs: dict) -> dict:
        if self.instance is None and not attrs.get("slug"):
            slug = slug_from_name(attrs.get("name", ""))
            if not slug:
                raise serializers.ValidationError({"slug": ["required (or a name it can be derived from)"]})
            attrs["slug"] = slug
        return attrs
