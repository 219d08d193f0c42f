"""The drop-in dialects' plumbing on the data plane: static answers, unknown paths and refusals
in each dialect's own error shape, and the security headers every data plane answer carries."""

import pytest

from healing.dataplane.compat.dialects import dialect_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(("path", "dialect"), [
    ("/compat/coingecko/api/v3/ping", "coingecko"), ("/compat/binance/api/v3/ping", "binance"),
    ("/compat/coingecko/api/v3", "coingecko"), ("/compat/other/api/v3/ping", None), ("/api/data/price", None),
])
def test_a_path_belongs_to_the_dialect_of_its_prefix(path, dialect):
    found = dialect_for(path)
    assert (found.name if found else None) == dialect


async def test_ping_answers_each_providers_own_body(data_client):
    gecko = await data_client.get("/compat/coingecko/api/v3/ping")
    binance = await data_client.get("/compat/binance/api/v3/ping")
    assert (gecko.status_code, gecko.json()) == (200, {"gecko_says": "(V3) To the Moon!"})
    assert (binance.status_code, binance.json()) == (200, {})
    assert gecko.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in gecko.headers


async def test_binance_time_is_the_servers_clock_in_milliseconds(data_client):
    import time

    before = int(time.time() * 1000)
    body = (await data_client.get("/compat/binance/api/v3/time")).json()
    assert before <= body["serverTime"] <= int(time.time() * 1000)


async def test_unknown_paths_are_404_in_each_dialects_shape(data_client):
    gecko = await data_client.get("/compat/coingecko/api/v3/no/such/thing")
    binance = await data_client.get("/compat/binance/api/v3/noSuchThing")
    assert gecko.status_code == 404 and set(gecko.json()) == {"error"}
    assert binance.status_code == 404 and set(binance.json()) == {"code", "msg"}
