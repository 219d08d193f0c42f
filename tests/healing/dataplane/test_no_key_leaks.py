"""A provider's key never leaves the process: not in an answer, a header, an attempt or a log line,
whatever the provider does (fails, resets, hangs, redirects, echoes the key back)."""

import logging

import pytest

from providers.models import Provider

KEY = "leak-canary-5d1e9b7c"
PRICE = "/api/data/price?ids=bitcoin&vs=usd"
FAULTS = [
    ("status", {"status": 503}),
    ("reset", {}),
    ("rate_limit", {"retry_after": "1"}),
    ("error_in_200", {}),
    ("malformed", {}),
    ("nested", {}),
    ("oversized", {}),
]


@pytest.fixture
def keyed_pool(price_pool, monkeypatch):
    """Every price provider sends the key as a query parameter (the form most likely to leak)."""
    monkeypatch.setenv("LEAK_TEST_KEY", KEY)
    Provider.objects.filter(slug__in=list(price_pool)).update(
        auth_type="query", auth_param="apikey", api_key_env="LEAK_TEST_KEY"
    )
    for provider in Provider.objects.filter(slug__in=list(price_pool)):
        provider.save()  # bump the config version so the data plane reloads its snapshot
    return price_pool


def _assert_clean(response, caplog) -> None:
    assert KEY not in response.text
    assert all(KEY not in value for value in response.headers.values())
    for record in caplog.records:
        assert KEY not in record.getMessage()
        if record.exc_info:
            assert KEY not in repr(record.exc_info[1])


@pytest.mark.parametrize(("kind", "options"), FAULTS)
async def test_failing_providers_never_leak_the_key(keyed_pool, fake_upstream, data_client, caplog, kind, options):
    for slug in keyed_pool:
        fake_upstream.fault(slug, kind, **options)
    with caplog.at_level(logging.DEBUG):
        response = await data_client.get(PRICE)
    assert response.status_code == 503
    assert response.json()["attempts"], "the 503 lists what was tried"
    # The key really was sent upstream, so its absence above means something.
    assert any(KEY in str(request) for request in fake_upstream.requests())
    _assert_clean(response, caplog)


async def test_the_proxy_never_leaks_the_key_even_when_the_provider_echoes_it(
    keyed_pool, fake_upstream, data_client, caplog
):
    fake_upstream.fault("coingecko", "status", status=500)
    with caplog.at_level(logging.DEBUG):
        response = await data_client.post(
            "/api/crypto-hub/proxy", json={"provider": "coingecko", "path": "/simple/price", "params": {"ids": "x"}}
        )
    assert response.status_code in (502, 503)
    assert any(KEY in str(request) for request in fake_upstream.requests())
    _assert_clean(response, caplog)
