from django.contrib import admin

from healing.admin.actions import breaker_summaries, breaker_summary, purge_cache, reset_breaker
from healing.models import RecoveryLog
from providers.admin import ProviderAdmin
from providers.models import Provider


@admin.register(RecoveryLog)
class RecoveryLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "provider_slug", "action", "actor", "reason"]
    list_filter = ["action"]
    search_fields = ["provider_slug", "reason", "actor"]
    # An audit trail: written by the recovery code, never edited by hand.
    readonly_fields = ["provider_slug", "action", "reason", "actor", "result", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ProviderRuntimeAdmin(ProviderAdmin):
    """The catalogue's provider admin plus runtime state from Redis (breaker, cool-down, budgets).

    It lives here because only `healing` knows about breakers; `providers` stays free of it.
    """

    actions = [*ProviderAdmin.actions, reset_breaker, purge_cache]

    def get_list_display(self, request):
        return [*super().get_list_display(request), "breaker_column"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "breaker_column"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return [*fieldsets, ("Runtime (Redis)", {"fields": ["breaker_column"]})]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # One batch of Redis reads for the whole page instead of one per row; the summaries ride
        # on this request's row objects (the admin instance is shared between requests).
        summaries = breaker_summaries([p.slug for p in changelist.result_list])
        for provider in changelist.result_list:
            provider.breaker_summary = summaries.get(provider.slug)
        return changelist

    @admin.display(description="breaker / budgets")
    def breaker_column(self, obj: Provider) -> str:
        return getattr(obj, "breaker_summary", None) or breaker_summary(obj.slug)


admin.site.unregister(Provider)
admin.site.register(Provider, ProviderRuntimeAdmin)
