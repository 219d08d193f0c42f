"""The request half of the audit trail's actor (common/audit.py): the request is known while a
view runs, so an entry written by it names the user DRF or the session authenticated."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from common import audit
from cryptohub.security import client_ip


class AuditActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit.during_request(request, client_ip):
            return self.get_response(request)
