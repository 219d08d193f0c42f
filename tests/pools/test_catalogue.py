"""Loading the provider catalogue: the shipped file, idempotence and operator edits. Invalid files and
the load_providers command: test_catalogue_errors.py."""

import copy
import json
import re

from pools.catalogue import FieldChange, load_catalogue
from pools.models import Pool, PoolMembership
from providers.models import Category, Provider
from tests.pools.catalogue_files import SHIPPED, db_snapshot, entry, shipped, write

CAPABILITY_POOLS = ["price", "markets", "global", "fear_greed", "trending", "tvl", "gas", "news"]
ADAPTER_SLUGS = [
    "coingecko", "coinpaprika", "coincap", "cryptocompare", "binance", "kraken", "coinbase", "kucoin",
    "bitfinex", "okx", "coinlore", "alternative_me", "coinmarketcap", "defillama", "etherscan",
    "mempool_space", "blockchair", "cryptopanic", "coindesk", "cointelegraph", "bitcoinist", "decrypt",
    "blockscout_eth", "publicnode_eth", "tronscan", "cloudflare_eth", "llamarpc_eth", "drpc_eth", "blockchain_info",
    "binance_vision", "binance_us", "dia", "theblock", "blockworks",
    "bitcoinmagazine", "cryptoslate", "newsbtc", "utoday", "beincrypto", "cryptopotato",
    "bitstamp", "gemini", "bybit", "gateio",
]


# --- the shipped file -------------------------------------------------------------------------


def test_shipped_catalogue_has_150_free_providers_in_every_category(db):
    report = load_catalogue(SHIPPED)

    assert len(report.created) == Provider.objects.count() >= 150
    assert Provider.objects.filter(is_free=True).count() >= 150
    categories = set(Provider.objects.values_list("category", flat=True))
    assert categories == {c.value for c in Category}


def test_shipped_catalogue_has_the_slugs_adapters_are_keyed_by(db):
    load_catalogue(SHIPPED)

    assert set(ADAPTER_SLUGS) <= set(Provider.objects.values_list("slug", flat=True))
    assert Provider.objects.get(slug="alternative_me").base_url == "https://api.alternative.me"
    assert Provider.objects.get(slug="defillama").base_url == "https://api.llama.fi"
    assert Provider.objects.get(slug="mempool_space").base_url == "https://mempool.space/api"
    etherscan = Provider.objects.get(slug="etherscan")
    assert (etherscan.base_url, etherscan.api_key_env, etherscan.key_required) == (
        "https://api.etherscan.io", "ETHERSCAN_API_KEY", True
    )
    assert etherscan.health_path.startswith("/v2/api?")
    assert Provider.objects.get(slug="coincap").base_url == "https://rest.coincap.io/v3"


def test_shipped_catalogue_has_no_retired_endpoints(db):
    load_catalogue(SHIPPED)

    urls = [p.base_url + p.health_path for p in Provider.objects.all()]
    assert not [u for u in urls if "api.coincap.io/v2" in u or "bscscan.com" in u]
    assert not [u for u in urls if u.startswith("https://api.etherscan.io/api")]


def test_every_shipped_provider_passes_full_clean(db):
    load_catalogue(SHIPPED)

    for provider in Provider.objects.all():
        provider.full_clean()
    for pool in Pool.objects.all():
        pool.full_clean()


def test_every_capability_pool_is_present_with_members(db):
    load_catalogue(SHIPPED)

    for slug in CAPABILITY_POOLS:
        pool = Pool.objects.get(slug=slug)
        assert pool.capability == slug
        assert pool.memberships.count() >= 2, slug
    price = [m.provider.slug for m in Pool.objects.get(slug="price").memberships.order_by("-priority")]
    assert price == ["coingecko", "coinpaprika", "coincap", "cryptocompare", "binance", "binance_vision", "kraken",
                     "coinbase", "kucoin", "bitfinex", "okx", "binance_us", "coinlore", "dia",
                     "bybit", "gateio", "bitstamp", "gemini"]
    # The four later exchanges follow every earlier member of the exchange pools too.
    for capability, earlier in (("candles", 9), ("orderbook", 8), ("ticker", 8)):
        members = [m.provider.slug for m in Pool.objects.get(slug=capability).memberships.order_by("-priority")]
        assert members[earlier:] == ["bybit", "gateio", "bitstamp", "gemini"], capability
    assert Pool.objects.get(slug="price").strategy == "priority"
    assert set(Pool.objects.get(slug="gas").providers.values_list("slug", flat=True)) == {
        "etherscan", "mempool_space", "blockchair", "publicnode_eth", "llamarpc_eth", "drpc_eth", "cloudflare_eth"
    }
    for capability in ("address", "tx"):
        members = [m.provider.slug for m in Pool.objects.get(slug=capability).memberships.order_by("-priority")]
        # The fallbacks come after every member that was there before them, Cloudflare last of the nodes.
        assert members[-6:] == ["blockscout_eth", "llamarpc_eth", "drpc_eth", "cloudflare_eth", "blockchain_info",
                                "tronscan"], capability
        assert members.index("tronscan") > members.index("trongrid")
    news = [m.provider.slug for m in Pool.objects.get(slug="news").memberships.order_by("-priority")]
    assert news == ["coindesk", "cointelegraph", "bitcoinist", "decrypt", "cryptopanic", "theblock", "blockworks",
                    "bitcoinmagazine", "cryptoslate", "newsbtc", "utoday", "beincrypto", "cryptopotato"]
    for depth_pool in ("candles", "orderbook", "ticker"):
        members = [m.provider.slug for m in Pool.objects.get(slug=depth_pool).memberships.order_by("-priority")]
        assert members[:2] == ["binance", "binance_vision"], depth_pool
        assert members.index("binance_us") == members.index("bitfinex") + 1, depth_pool  # after the first six


def test_every_category_pool_holds_all_providers_of_its_category(db):
    load_catalogue(SHIPPED)

    for category in Category:
        pool = Pool.objects.get(slug=f"category_{category.value}")
        assert pool.capability == category.value
        assert set(pool.providers.values_list("slug", flat=True)) == set(
            Provider.objects.filter(category=category.value).values_list("slug", flat=True)
        )


def test_shipped_catalogue_names_env_variables_and_never_holds_keys(db):
    data = shipped()
    load_catalogue(SHIPPED)

    names = [p.api_key_env for p in Provider.objects.exclude(api_key_env="")]
    assert names
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*_(KEY|TOKEN|ID)", name) for name in names), names
    for provider in Provider.objects.filter(auth_type="query"):
        assert f"{provider.auth_param.lower()}=" not in provider.health_path.lower(), provider.slug
    assert "REDACTED" not in SHIPPED.read_text()
    assert all(p["slug"] == p["slug"].lower() for p in data["providers"])


def test_json_rpc_providers_post_a_json_body(db):
    load_catalogue(SHIPPED)

    rpc = Provider.objects.get(slug="publicnode_eth")
    assert (rpc.health_method, rpc.allow_post) == ("POST", True)
    assert json.loads(rpc.health_body)["method"] == "eth_blockNumber"
    for provider in Provider.objects.filter(health_method="POST"):
        assert provider.allow_post, provider.slug


# --- idempotence and operator edits ------------------------------------------------------------


def test_loading_twice_creates_and_changes_nothing(db):
    load_catalogue(SHIPPED)
    before = db_snapshot()

    report = load_catalogue(SHIPPED)

    assert db_snapshot() == before
    assert report.created == [] and report.updated == {} and report.kept_operator_edits == []
    assert report.pools_created == [] and report.memberships_created == [] and report.memberships_skipped == []
    assert len(report.unchanged) == Provider.objects.count()
    assert not report.changed


def test_operator_edit_survives_a_plain_load_and_update_overwrites_it(db):
    load_catalogue(SHIPPED)
    kraken = Provider.objects.get(slug="kraken")
    kraken.timeout_s = 3.0
    kraken.save()
    Provider.objects.filter(slug="coinlore").update(enabled=False)

    report = load_catalogue(SHIPPED)

    assert sorted(report.kept_operator_edits) == ["coinlore", "kraken"]
    assert Provider.objects.get(slug="kraken").timeout_s == 3.0
    assert Provider.objects.get(slug="coinlore").enabled is False
    assert "kraken: kept (operator-edited)" in "\n".join(report.lines())

    report = load_catalogue(SHIPPED, update=True)

    assert report.updated == {
        "coinlore": [FieldChange("enabled", False, True)],
        "kraken": [FieldChange("timeout_s", 3.0, 10.0)],
    }
    assert "kraken: timeout_s 3.0 → 10.0" in report.lines()
    assert Provider.objects.get(slug="kraken").timeout_s == 10.0
    assert Provider.objects.get(slug="coinlore").enabled is True
    assert not load_catalogue(SHIPPED).changed


def test_operator_edit_survives_a_file_change_to_the_same_provider(db, tmp_path):
    load_catalogue(SHIPPED)
    Provider.objects.filter(slug="kraken").update(timeout_s=3.0)
    data = shipped()
    entry(data, "kraken")["rate_limits"] = "2/second"

    report = load_catalogue(write(tmp_path, data))

    kraken = Provider.objects.get(slug="kraken")
    assert (kraken.timeout_s, kraken.rate_limits) == (3.0, "1/second")
    assert report.kept_operator_edits == ["kraken"]


def test_plain_load_refreshes_an_unedited_provider_when_the_file_changes(db, tmp_path):
    load_catalogue(SHIPPED)
    data = shipped()
    entry(data, "coinlore")["rate_limits"] = "1/second"

    report = load_catalogue(write(tmp_path, data))

    assert report.updated == {"coinlore": [FieldChange("rate_limits", "", "1/second")]}
    assert Provider.objects.get(slug="coinlore").rate_limits == "1/second"
    assert not load_catalogue(write(tmp_path, data)).changed


def test_operator_edit_matching_the_new_file_is_adopted(db, tmp_path):
    load_catalogue(SHIPPED)
    Provider.objects.filter(slug="kraken").update(timeout_s=5.0)
    data = shipped()
    entry(data, "kraken")["timeout_s"] = 5.0
    path = write(tmp_path, data)

    report = load_catalogue(path)
    assert "kraken" in report.unchanged
    entry(data, "kraken")["timeout_s"] = 6.0

    report = load_catalogue(write(tmp_path, data))

    assert report.updated == {"kraken": [FieldChange("timeout_s", 5.0, 6.0)]}


def test_new_provider_in_the_file_is_created_with_its_memberships(db, tmp_path):
    load_catalogue(SHIPPED)
    data = shipped()
    new = copy.deepcopy(entry(data, "coinlore"))
    new.update(slug="coinlore_mirror", name="CoinLore mirror")
    data["providers"].append(new)
    next(p for p in data["pools"] if p["slug"] == "price")["members"].append(
        {"provider": "coinlore_mirror", "priority": 5, "weight": 5, "enabled": True}
    )
    next(p for p in data["pools"] if p["slug"] == "category_market_data")["members"].append(
        {"provider": "coinlore_mirror", "priority": 50, "weight": 100, "enabled": True}
    )

    report = load_catalogue(write(tmp_path, data))

    assert report.created == ["coinlore_mirror"]
    assert sorted(report.memberships_created) == ["category_market_data:coinlore_mirror", "price:coinlore_mirror"]
    assert PoolMembership.objects.get(pool__slug="price", provider__slug="coinlore_mirror").priority == 5


def test_removed_membership_is_not_re_added_by_a_plain_load_but_is_by_update(db):
    load_catalogue(SHIPPED)
    PoolMembership.objects.filter(pool__slug="price", provider__slug="okx").delete()

    report = load_catalogue(SHIPPED)

    assert report.memberships_skipped == ["price:okx"]
    assert not PoolMembership.objects.filter(pool__slug="price", provider__slug="okx").exists()

    report = load_catalogue(SHIPPED, update=True)

    assert report.memberships_created == ["price:okx"]
    assert PoolMembership.objects.get(pool__slug="price", provider__slug="okx").priority == 15


def test_pool_and_membership_edits_are_kept_by_a_plain_load_and_reset_by_update(db):
    load_catalogue(SHIPPED)
    Pool.objects.filter(slug="price").update(strategy="round_robin")
    PoolMembership.objects.filter(pool__slug="price", provider__slug="kraken").update(priority=99, enabled=False)

    report = load_catalogue(SHIPPED)

    assert report.pools_kept == {"price": [FieldChange("strategy", "round_robin", "priority")]}
    assert report.memberships_kept == {
        "price:kraken": [FieldChange("priority", 99, 50), FieldChange("enabled", False, True)]
    }
    assert Pool.objects.get(slug="price").strategy == "round_robin"

    report = load_catalogue(SHIPPED, update=True)

    assert report.pools_updated == {"price": [FieldChange("strategy", "round_robin", "priority")]}
    assert "membership price:kraken: priority 99 → 50" in report.lines()
    membership = PoolMembership.objects.get(pool__slug="price", provider__slug="kraken")
    assert (membership.priority, membership.enabled) == (50, True)


def test_load_never_deletes_rows_missing_from_the_file(db, make_provider, tmp_path):
    load_catalogue(SHIPPED)
    make_provider(slug="operator_added")

    report = load_catalogue(SHIPPED, update=True)

    assert report.not_in_catalogue == ["operator_added"]
    assert Provider.objects.filter(slug="operator_added").exists()


def test_a_load_that_changes_something_bumps_the_config_version_once(
    db, redis_client, django_capture_on_commit_callbacks
):
    from providers.runtime import CONFIG_VERSION_KEY, rkey

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        load_catalogue(SHIPPED)
    assert len(callbacks) == 1
    assert redis_client.get(rkey(CONFIG_VERSION_KEY)) == "1"

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        load_catalogue(SHIPPED)
    assert callbacks == []


def test_catalogue_updates_are_in_the_audit_trail_and_the_first_load_is_not_itemised(db):
    from auditlog.models import LogEntry

    from common import audit

    load_catalogue(SHIPPED)
    assert LogEntry.objects.count() == 0  # the shipped file itself, written with bulk_create
    Pool.objects.filter(slug="price").update(strategy="round_robin")
    PoolMembership.objects.filter(pool__slug="price", provider__slug="kraken").update(priority=99)

    with audit.acting_as("command:load_providers"):
        load_catalogue(SHIPPED, update=True)

    entries = {e.content_type.model: e for e in LogEntry.objects.all()}
    assert set(entries) == {"pool", "poolmembership"}
    assert entries["pool"].changes == {"strategy": ["round_robin", "priority"]}
    assert entries["poolmembership"].changes == {"priority": [99, 50]}
    assert all(e.additional_data == {"via": "catalogue", "actor": "command:load_providers"} for e in entries.values())
