"""The admin's Cache and Activity log pages: counts and purges through the same service as the API,
the log filtered like GET /api/logs, bad filters shown, not raised."""

import pytest
import redis
from django.conf import settings

from healing import activity
from healing.engine import cache

pytestmark = pytest.mark.django_db


def test_the_cache_page_counts_answers_and_purges(admin_client):
    r = redis.Redis.from_url(settings.REDIS_URL)
    for coin in ("bitcoin", "ethereum"):
        r.set(cache.data_key("price", {"ids": [coin], "vs": "usd"}), cache.Entry({}, "coingecko", 1.0).dumps())
    page = admin_client.get("/admin/cache/")
    assert page.status_code == 200
    assert "<tr><td>price</td><td>2</td>" in page.content.decode().replace("\n", "").replace("    ", "")
    done = admin_client.post("/admin/cache/", {"capability": "price", "keep_stale": "1"}, follow=True)
    assert "price: 0 answer(s) deleted, 2 kept as stale only" in done.content.decode().lower()
    admin_client.post("/admin/cache/", {})
    assert not list(r.scan_iter(match="*cache:price:*"))
    assert "Cache" in admin_client.get("/admin/").content.decode()


def test_the_activity_page_filters_and_shows_bad_filters(admin_client):
    activity.record_now([activity.entry("request", "error", "GET /api/data/gas 503", 1_800_000_000.0, client="app"),
                         activity.entry("probe", "warning", "probe of kraken failed", 1_800_000_001.0)])
    page = admin_client.get("/admin/activity-log/", {"level": "error"}).content.decode()
    assert "GET /api/data/gas 503" in page and "probe of kraken" not in page
    bad = admin_client.get("/admin/activity-log/", {"category": "weather"})
    assert bad.status_code == 200 and "category must be one of" in bad.content.decode()
