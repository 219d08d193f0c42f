"""DRF token authentication whose failures count towards the login lockout (django-axes).

A wrong token is a failed login from that IP: it is reported to axes with Django's
`user_login_failed` signal, and a locked-out IP is refused before its token is even looked up.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed
from rest_framework import exceptions, status
from rest_framework.authentication import TokenAuthentication, get_authorization_header

from cryptohub.security import cool_off_minutes


class LockedOut(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "locked_out"


class LockoutTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        django_request = request._request
        words = get_authorization_header(request).split()
        sends_token = bool(words) and words[0].lower() == self.keyword.lower().encode()
        if sends_token and AxesProxyHandler.is_locked(django_request, credentials={}):
            raise LockedOut(f"Too many failed logins: locked for {cool_off_minutes()} minutes.")
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            user_login_failed.send(sender=type(self), credentials={}, request=django_request)
            raise
