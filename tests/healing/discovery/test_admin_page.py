"""The admin's "Discover providers" page end to end (a staff session with CSRF enforced): linked
from the index, probe only writes nothing, "add" creates disabled providers and shows the
findings, bad input names entry and field; non-staff users never reach it."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from providers.models import Provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser():
    user = get_user_model().objects.create_user("operator", password="pw", is_staff=True, is_superuser=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _csrf(page) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def test_the_page_probes_shows_findings_and_adds_disabled_providers(browser, fake_apis, allow_loopback, make_provider):
    live = make_provider(slug="live", base_url=f"{fake_apis.url}/live")
    assert 'href="/admin/discover-providers/"' in browser.get("/admin/").content.decode()
    page = browser.get("/admin/discover-providers/")
    assert page.status_code == 200 and b"Probe and add disabled" in page.content
    pasted = json.dumps([
        {"name": "Fake Fees", "base_url": f"{fake_apis.url}/fees", "sample_path": "/gas"},
        {"name": "Fake News", "base_url": f"{fake_apis.url}/news", "sample_path": "/feed"},
        {"name": "Live", "base_url": f"{fake_apis.url}/live", "sample_path": "/tvl"},
    ])

    preview = browser.post("/admin/discover-providers/", {
        "csrfmiddlewaretoken": _csrf(page), "candidates": pasted, "path": "/", "category": "", "action": "probe"})
    text = preview.content.decode()
    assert preview.status_code == 200 and "probe only: nothing was written" in text
    assert "would create" in text and "explorer (by the rules: payload keys fastestFee" in text
    assert not Provider.objects.exclude(pk=live.pk).exists()

    added = browser.post("/admin/discover-providers/", {
        "csrfmiddlewaretoken": _csrf(preview), "candidates": pasted, "path": "/", "category": "", "action": "add"})
    text = added.content.decode()
    assert added.status_code == 200 and "2 probed, 2 usable, 2 created, 1 skipped" in text
    assert "skipped: an enabled provider has this base URL: left alone" in text
    rows = {p.slug: p for p in Provider.objects.exclude(pk=live.pk)}
    assert sorted(rows) == ["fake_fees", "fake_news"] and not any(p.enabled for p in rows.values())
    assert rows["fake_news"].category == "news" and "payload: RSS feed 'Fake Crypto News', 2 items" in rows[
        "fake_news"].notes
    assert f'href="/admin/providers/provider/{rows["fake_fees"].pk}/change/"' in text
    assert sorted(set(fake_apis.paths())) == ["/fees/gas", "/news/feed"]


def test_bad_input_names_the_entry_and_field_and_probes_nothing(browser, fake_apis, allow_loopback):
    page = browser.get("/admin/discover-providers/")
    bad = browser.post("/admin/discover-providers/", {
        "csrfmiddlewaretoken": _csrf(page), "action": "add", "path": "/", "category": "",
        "candidates": f"{fake_apis.url}/ok\njavascript:alert(1)"})
    text = bad.content.decode()
    assert "Nothing was probed: 1 error." in text
    assert "URL 2 (&#x27;javascript:alert(1)&#x27;): base_url: must start with http:// or https://" in text
    assert fake_apis.paths() == [] and not Provider.objects.exists()


def test_only_staff_reach_the_page_and_a_post_needs_csrf(fake_apis, allow_loopback):
    plain = Client(enforce_csrf_checks=True)
    plain.force_login(get_user_model().objects.create_user("plain", password="pw"))
    assert plain.get("/admin/discover-providers/").status_code == 302  # to the admin login
    staff = Client(enforce_csrf_checks=True)
    staff.force_login(get_user_model().objects.create_user("staffer", password="pw", is_staff=True))
    forged = staff.post("/admin/discover-providers/", {"candidates": f"{fake_apis.url}/x", "action": "add"})
    assert forged.status_code == 403 and fake_apis.paths() == []
    page = staff.get("/admin/discover-providers/")
    no_perm = staff.post("/admin/discover-providers/", {"csrfmiddlewaretoken": _csrf(page), "action": "add",
                                                        "candidates": f"{fake_apis.url}/x", "path": "/gas"})
    assert "needs the add and change provider permissions" in no_perm.content.decode()
    assert not Provider.objects.exists() and fake_apis.paths() == []
