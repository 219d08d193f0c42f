import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from pools.catalogue import CatalogueError, FieldChange, load_catalogue
from pools.models import Pool, PoolMembership
from providers.models import Category, Provider

SHIPPED = Path(settings.BASE_DIR) / "fixtures" / "providers.json"
CAPABILITY_POOLS = ["price", "markets", "global", "fear_greed", "trending", "tvl", "gas", "news"]
ADAPTER_SLUGS = [
    "coingecko", "coinpaprika", "coincap", "cryptocompare", "binance", "kraken", "coinbase", "kucoin",
    "bitfinex", "okx", "coinlore", "alternative_me", "coinmarketcap", "defillama", "etherscan",
    "mempool_space", "blockchair", "cryptopanic", "coindesk", "cointelegraph", "bitcoinist", "decrypt",
    "blockscout_eth", "publicnode_eth",
]


def shipped() -> dict:
    return json.loads(SHIPPED.read_text())


def write(tmp_path: Path, data: dict, name: str = "catalogue.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2))
    return path


def entry(data: dict, slug: str) -> dict:
    return next(p for p in data["providers"] if p["slug"] == slug)


def db_snapshot() -> tuple:
    """Every catalogue row with every column, to prove a failed load wrote nothing."""
    return (
        list(Provider.objects.order_by("slug").values()),
        list(Pool.objects.order_by("slug").values()),
        list(PoolMembership.objects.order_by("pool__slug", "provider__slug").values()),
    )


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
    assert price == ["coingecko", "coinpaprika", "coincap", "cryptocompare", "binance", "kraken", "coinbase",
                     "kucoin", "bitfinex", "okx", "coinlore"]
    assert Pool.objects.get(slug="price").strategy == "priority"
    assert set(Pool.objects.get(slug="gas").providers.values_list("slug", flat=True)) == {
        "etherscan", "mempool_space", "blockchair", "publicnode_eth"
    }
    assert set(Pool.objects.get(slug="news").providers.values_list("slug", flat=True)) == {
        "coindesk", "cointelegraph", "bitcoinist", "decrypt", "cryptopanic"
    }


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


# --- invalid files: nothing written ------------------------------------------------------------


@pytest.fixture(params=["empty", "preloaded"])
def starting_db(request, db):
    """Invalid files must leave an empty database empty and a loaded one exactly as it was."""
    if request.param == "preloaded":
        load_catalogue(SHIPPED)
        Provider.objects.filter(slug="kraken").update(timeout_s=3.0)
    return db_snapshot()


def test_malformed_json_names_line_and_column_and_writes_nothing(starting_db, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"version": 1,\n  "providers": [\n    {"slug": "x",}\n  ]\n}\n')

    with pytest.raises(CatalogueError) as exc:
        load_catalogue(path)

    assert "not valid JSON" in str(exc.value)
    assert "line 3, column 18" in str(exc.value)
    assert db_snapshot() == starting_db


def _break_rate_limits(data):
    entry(data, "okx")["rate_limits"] = "twenty per fortnight"
    index = next(i for i, p in enumerate(data["providers"]) if p["slug"] == "okx")
    return f'providers[{index}] (slug "okx"): rate_limits: not a valid rate limit string'


def _break_category(data):
    entry(data, "decrypt")["category"] = "gossip"
    index = next(i for i, p in enumerate(data["providers"]) if p["slug"] == "decrypt")
    return f"providers[{index}] (slug \"decrypt\"): category: Value 'gossip' is not a valid choice."


def _break_pool_member(data):
    index = next(i for i, p in enumerate(data["pools"]) if p["slug"] == "gas")
    data["pools"][index]["members"].append({"provider": "nope", "priority": 1, "weight": 1, "enabled": True})
    n = len(data["pools"][index]["members"]) - 1
    return f'pools[{index}] (slug "gas"): members[{n}].provider: unknown provider "nope"'


def _break_duplicate_slug(data):
    data["providers"].append(copy.deepcopy(entry(data, "binance")))
    index = next(i for i, p in enumerate(data["providers"]) if p["slug"] == "binance")
    return f'providers[{len(data["providers"]) - 1}] (slug "binance"): slug: duplicate of providers[{index}]'


def _break_key_in_env(data):
    entry(data, "etherscan")["api_key_env"] = "a1b2c3d4e5f6"
    index = next(i for i, p in enumerate(data["providers"]) if p["slug"] == "etherscan")
    return f'providers[{index}] (slug "etherscan"): api_key_env: must be an upper-case environment variable NAME'


def _break_type(data):
    entry(data, "kraken")["enabled"] = "false"
    index = next(i for i, p in enumerate(data["providers"]) if p["slug"] == "kraken")
    return f'providers[{index}] (slug "kraken"): enabled: expected true or false, got "false"'


def _break_strategy(data):
    index = next(i for i, p in enumerate(data["pools"]) if p["slug"] == "price")
    data["pools"][index]["strategy"] = "random"
    return f"pools[{index}] (slug \"price\"): strategy: Value 'random' is not a valid choice."


@pytest.mark.parametrize(
    "break_file",
    [_break_rate_limits, _break_category, _break_pool_member, _break_duplicate_slug, _break_key_in_env,
     _break_type, _break_strategy],
)
def test_invalid_entry_is_named_with_its_field_and_nothing_is_written(starting_db, tmp_path, break_file):
    data = shipped()
    # A valid new provider and a valid change ahead of the error prove the load is all-or-nothing.
    new = copy.deepcopy(entry(data, "coinlore"))
    new.update(slug="aaa_first", name="Would be created first")
    data["providers"].insert(0, new)
    entry(data, "binance")["timeout_s"] = 7.0
    expected = break_file(data)

    with pytest.raises(CatalogueError) as exc:
        load_catalogue(write(tmp_path, data))

    assert expected in str(exc.value)
    assert db_snapshot() == starting_db


def test_a_failure_while_writing_rolls_back_every_write(starting_db, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    # Memberships are written last: by then providers were created (empty database) or kraken's
    # operator edit was overwritten (preloaded), and all of it must roll back.
    monkeypatch.setattr(PoolMembership.objects, "bulk_create", explode)

    with pytest.raises(RuntimeError, match="disk full"):
        load_catalogue(SHIPPED, update=True)

    assert db_snapshot() == starting_db


def test_unreadable_file_is_a_catalogue_error(db, tmp_path):
    with pytest.raises(CatalogueError, match="cannot read the file"):
        load_catalogue(tmp_path / "missing.json")


# --- the command ----------------------------------------------------------------------------------


def test_command_loads_the_shipped_file_by_default_and_prints_a_summary(db, capsys):
    call_command("load_providers")
    first = capsys.readouterr().out
    call_command("load_providers")
    second = capsys.readouterr().out

    count = Provider.objects.count()
    assert first.startswith(f"providers: {count} in catalogue — {count} created, 0 updated")
    assert "created: coingecko, " in first
    assert second.splitlines() == [
        f"providers: {count} in catalogue — 0 created, 0 updated, {count} unchanged, 0 kept (operator-edited); "
        f"pools: 17 — 0 created, 0 updated, 17 unchanged, 0 kept; "
        "memberships: 0 created, 0 updated, 0 kept, 0 skipped"
    ]


def test_command_update_prints_each_change(db, capsys):
    call_command("load_providers", str(SHIPPED))
    Provider.objects.filter(slug="kraken").update(timeout_s=3.0)
    capsys.readouterr()

    call_command("load_providers", str(SHIPPED), update=True)

    assert "  kraken: timeout_s 3.0 → 10.0" in capsys.readouterr().out.splitlines()


def test_command_reports_an_invalid_file_as_an_error(db, tmp_path):
    data = shipped()
    entry(data, "okx")["rate_limits"] = "lots"

    with pytest.raises(CommandError, match=r'providers\[\d+\] \(slug "okx"\): rate_limits'):
        call_command("load_providers", str(write(tmp_path, data)))

    assert Provider.objects.count() == 0


def test_command_exits_non_zero_with_the_message_on_stderr(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1, "providers": [}')
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cryptohub.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "load_providers", str(broken)],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 1
    assert "not valid JSON: Expecting value at line 1, column 30" in result.stderr
    assert result.stdout == ""
