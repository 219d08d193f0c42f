"""Provider admin: the catalogue as operators edit it. Keys are never shown, only whether the
named environment variable is set."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from . import services
from .models import Provider


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = [
        "slug", "name", "category", "enabled", "auth_type", "api_key_column", "rate_limits",
        "timeout_s", "pool_count", "is_free", "updated_at",
    ]
    list_display_links = ["slug", "name"]
    list_filter = ["category", "enabled", "auth_type", "key_required", "is_free", "allow_post"]
    search_fields = ["slug", "name", "base_url", "notes", "api_key_env"]
    ordering = ["slug"]
    readonly_fields = ["api_key_column", "created_at", "updated_at"]
    actions = ["enable_providers", "disable_providers"]
    list_per_page = 100
    # Catalogue URLs are HTTPS; also silences Django 6.0's change of the default scheme.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["slug", "name", "category", "enabled", "is_free", "notes"]}),
        (
            "Endpoints",
            {"fields": ["base_url", "docs_url", "health_path", "health_method", "health_body", "allow_post"]},
        ),
        (
            "Authentication",
            {
                "fields": ["auth_type", "auth_param", "auth_scheme", "api_key_env", "api_key_column", "key_required"],
                "description": "Only the NAME of the environment variable is stored; the key stays in the environment.",
            },
        ),
        (
            "Limits and resilience",
            {"fields": ["rate_limits", "timeout_s", "breaker_failure_threshold", "breaker_open_s"]},
        ),
        ("History", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Provider]:
        return super().get_queryset(request).annotate(pool_count=Count("memberships"))

    @admin.display(description="API key")
    def api_key_column(self, obj: Provider) -> str:
        if not obj.api_key_env:
            return "—"
        # The variable's name and a tick or cross: the value never reaches a page.
        return f"{obj.api_key_env} {'✔' if obj.api_key_is_set else '✘'}"

    @admin.display(description="pools", ordering="pool_count")
    def pool_count(self, obj: Provider) -> int:
        return getattr(obj, "pool_count", 0)

    @admin.action(description="Enable selected providers")
    def enable_providers(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        changed = services.providers_set_enabled(providers=queryset, enabled=True)
        self.message_user(request, f"Enabled {changed} provider(s).", messages.SUCCESS)

    @admin.action(description="Disable selected providers")
    def disable_providers(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        changed = services.providers_set_enabled(providers=queryset, enabled=False)
        self.message_user(request, f"Disabled {changed} provider(s).", messages.SUCCESS)
from providers import asset_admin  # noqa: E402,F401  (registers the asset registry's admin)
