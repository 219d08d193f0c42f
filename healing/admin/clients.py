"""Admin for API clients: the key is generated on creation and shown once, in a message.

The list also shows each client's usage as the data plane counted it in Redis (requests and
429s today, last seen), read once per page for all its rows (healing.monitoring.client_usage).
"""

from collections.abc import Callable
from datetime import UTC, datetime

from django.contrib import admin, messages

from healing.models import ApiClient
from healing.monitoring.client_usage import ClientUsage, read_usage

# Shown in a usage column when Redis cannot be read.
UNKNOWN = "?"


class _PageUsage:
    """The usage of one changelist page's clients, read on the first cell that needs it."""

    def __init__(self) -> None:
        self._usage: dict[str, ClientUsage] | None = None
        self._read = False

    def of(self, obj: ApiClient) -> ClientUsage | None:
        if not self._read:
            self._read = True
            # Every client's usage in one Redis round trip, not one per cell.
            self._usage = read_usage(ApiClient.objects.values_list("name", flat=True))
        return None if self._usage is None else self._usage.get(obj.name, ClientUsage())


def _column(page: _PageUsage, name: str, title: str,
            value: Callable[[ClientUsage], object]) -> Callable[[ApiClient], object]:
    def cell(obj: ApiClient) -> object:
        usage = page.of(obj)
        return UNKNOWN if usage is None else value(usage)

    cell.__name__ = name  # the column's CSS class, field-<name>
    cell.short_description = title
    return cell


def _last_seen(usage: ClientUsage) -> object:
    if usage.last_seen is None:
        return "never"
    return datetime.fromtimestamp(usage.last_seen, UTC)  # the admin shows it in the site's time zone


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("name", "key_prefix", "enabled", "limits", "created_at")
    list_filter = ("enabled",)
    readonly_fields = ("key_prefix", "created_at")
    fields = ("name", "enabled", "capabilities", "limits", "key_prefix", "created_at")

    def get_list_display(self, request):  # noqa: ANN001, ANN201 - the admin's signature
        # Built per request: the admin object is shared between threads, the page's usage is not.
        page = _PageUsage()
        return (*self.list_display,
                _column(page, "requests_today", "requests today", lambda u: u.requests_today),
                _column(page, "rejected_today", "rejected today (429)", lambda u: u.limited_today),
                _column(page, "last_seen", "last seen", _last_seen))

    def save_model(self, request, obj, form, change):  # noqa: ANN001, ANN201 - the admin's signature
        key = obj.set_new_key() if not change else None
        super().save_model(request, obj, form, change)
        if key:
            # Only the hash is stored: this message is the one time the key can be copied.
            messages.warning(request, f"API key for {obj.name} (shown once, copy it now): {key}")
