"""Pool admin: pools with their memberships inline, memberships on their own, and the rotation
history (read-only: it is an audit trail)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from .models import Pool, PoolMembership, RotationEvent
from .rotation import RotationError, pool_rotate

ADMIN_ROTATION_REASON = "manual rotation from the admin"


class PoolMembershipInline(admin.TabularInline):
    model = PoolMembership
    extra = 1
    autocomplete_fields = ["provider"]
    fields = ["provider", "priority", "weight", "enabled"]
    ordering = ["-priority", "provider__slug"]


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "capability", "strategy", "enabled", "member_count", "eligible_count", "updated_at"]
    list_display_links = ["slug", "name"]
    list_filter = ["strategy", "enabled", "capability"]
    search_fields = ["slug", "name", "description", "capability"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    inlines = [PoolMembershipInline]
    actions = ["rotate_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Pool]:
        return super().get_queryset(request).annotate(
            member_count=Count("memberships", distinct=True),
            eligible_count=Count(
                "memberships",
                filter=Q(memberships__enabled=True, memberships__provider__enabled=True),
                distinct=True,
            ),
        )

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj: Pool) -> int:
        return getattr(obj, "member_count", 0)

    @admin.display(description="eligible", ordering="eligible_count")
    def eligible_count(self, obj: Pool) -> int:
        return getattr(obj, "eligible_count", 0)

    @admin.action(description="Rotate selected pools now")
    def rotate_now(self, request: HttpRequest, queryset: QuerySet[Pool]) -> None:
        for pool in queryset:
            try:
                event = pool_rotate(pool=pool, reason=ADMIN_ROTATION_REASON, actor=request.user.get_username())
            except RotationError as exc:
                # One pool that cannot rotate must not stop the others.
                self.message_user(request, f"{pool.slug}: not rotated: {exc}", messages.WARNING)
                continue
            if event.from_provider_id == event.to_provider_id:
                self.message_user(request, f"{pool.slug}: {event.to_provider} stays the head, the only eligible "
                                  "member (recorded).", messages.INFO)
                continue
            self.message_user(
                request,
                f"{pool.slug}: rotated from {event.from_provider or '—'} to {event.to_provider or '—'}.",
                messages.SUCCESS,
            )


@admin.register(PoolMembership)
class PoolMembershipAdmin(admin.ModelAdmin):
    list_display = ["pool", "provider", "priority", "weight", "enabled", "provider_enabled"]
    list_editable = ["priority", "weight", "enabled"]
    list_filter = ["enabled", "pool", "provider__category", "provider__enabled"]
    search_fields = ["pool__slug", "pool__name", "provider__slug", "provider__name"]
    autocomplete_fields = ["pool", "provider"]
    list_select_related = ["pool", "provider"]
    ordering = ["pool__slug", "-priority", "provider__slug"]

    @admin.display(description="provider enabled", boolean=True, ordering="provider__enabled")
    def provider_enabled(self, obj: PoolMembership) -> bool:
        return obj.provider.enabled


@admin.register(RotationEvent)
class RotationEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "pool", "from_provider", "to_provider", "actor", "reason"]
    list_filter = ["pool", "actor"]
    search_fields = ["pool__slug", "from_provider__slug", "to_provider__slug", "actor", "reason"]
    list_select_related = ["pool", "from_provider", "to_provider"]
    date_hierarchy = "created_at"
    readonly_fields = ["pool", "from_provider", "to_provider", "reason", "actor", "created_at"]

    # History is written by rotations only; operators read it.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: RotationEvent | None = None) -> bool:
        return False
