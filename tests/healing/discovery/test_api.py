"""POST /api/discovery: the same discovery for staff over the REST API (bounded, validated whole)."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from providers.models import Provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_user("ops", is_staff=True))
    return client


def test_candidates_posted_are_probed_and_added_disabled(fake_apis, allow_loopback, staff):
    body = [{"name": "Coins", "base_url": f"{fake_apis.url}/coins", "sample_path": "/api/v1/coins/markets"}]
    dry = staff.post("/api/discovery?dry_run=true", body, format="json").json()
    assert dry["results"][0]["action"] == "would create" and not Provider.objects.exists()
    answer = staff.post("/api/discovery", body, format="json")
    assert answer.status_code == 200
    (result,) = answer.json()["results"]
    assert (result["action"], result["slug"], result["category"]) == ("created", "coins", "market_data")
    assert result["finding"]["status"] == 200 and Provider.objects.get(slug="coins").enabled is False


def test_bad_bodies_and_callers_are_refused(fake_apis, allow_loopback, staff):
    assert APIClient().post("/api/discovery", [], format="json").status_code in (401, 403)
    missing = staff.post("/api/discovery", [{"name": "x", "sample_path": "/"}], format="json")
    assert missing.status_code == 400 and "base_url" in str(missing.json()["body"])
    many = [{"base_url": f"{fake_apis.url}/c{n}", "sample_path": "/"} for n in range(21)]
    assert staff.post("/api/discovery", many, format="json").status_code == 400
    assert staff.post("/api/discovery", {"base_url": "x"}, format="json").status_code == 400
    assert not Provider.objects.exists()
