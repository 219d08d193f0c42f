"""Admin for API clients: the key is generated on creation and shown once, in a message."""

from django.contrib import admin, messages

from healing.models import ApiClient


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("name", "key_prefix", "enabled", "limits", "created_at")
    list_filter = ("enabled",)
    readonly_fields = ("key_prefix", "created_at")
    fields = ("name", "enabled", "capabilities", "limits", "key_prefix", "created_at")

    def save_model(self, request, obj, form, change):  # noqa: ANN001, ANN201 - the admin's signature
        key = obj.set_new_key() if not change else None
        super().save_model(request, obj, form, change)
        if key:
            # Only the hash is stored: this message is the one time the key can be copied.
            messages.warning(request, f"API key for {obj.name} (shown once, copy it now): {key}")
