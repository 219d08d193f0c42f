"""The ApiClient admin: the key is shown once and stored hashed; limits strings are validated."""

import hashlib
import re

import pytest
from django.core.exceptions import ValidationError

from healing.models import ApiClient

pytestmark = pytest.mark.django_db


def test_admin_shows_key_once_and_stores_hash(admin_client):
    r = admin_client.post("/admin/healing/apiclient/add/", {"name": "app", "enabled": "on", "capabilities": "[]",
                                                          "limits": "60/minute"}, follow=True)
    key = re.search(r"chk_[A-Za-z0-9_\-]+", r.content.decode()).group(0)
    client = ApiClient.objects.get(name="app")
    assert client.key_hash == hashlib.sha256(key.encode()).hexdigest()
    listing = admin_client.get("/admin/healing/apiclient/").content.decode()
    assert key not in listing and client.key_prefix in listing


def test_bad_limits_string_rejected():
    with pytest.raises(ValidationError):
        ApiClient(name="x", limits="sixty per minute").full_clean(exclude=["key_hash", "key_prefix"])


@pytest.mark.parametrize("name", ["anonymous", "staff-session"])
def test_usage_names_of_keyless_callers_are_not_client_names(name):
    from healing.dataplane import inbound

    with pytest.raises(ValidationError) as caught:
        ApiClient(name=name).full_clean(exclude=["key_hash", "key_prefix"])
    assert "name" in caught.value.message_dict
    assert name in (inbound.ANONYMOUS, inbound.STAFF_SESSION)  # the names the inbound check counts under
