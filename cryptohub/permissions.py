"""One permission rule for the whole control-plane API."""

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission


class StaffWriteReadConfigurable(BasePermission):
    """Reads are open while CRYPTOHUB_PUBLIC_READ is on (else need a login); writes need staff."""

    message = "Writing needs a staff user (session with CSRF, or 'Authorization: Token <token>')."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if request.method in SAFE_METHODS:
            return settings.CRYPTOHUB_PUBLIC_READ or bool(user and user.is_authenticated)
        return bool(user and user.is_authenticated and user.is_staff)
