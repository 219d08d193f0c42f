"""Loading the provider catalogue: an invalid file writes nothing and names what is wrong; the
load_providers command."""

import copy
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from pools.catalogue import CatalogueError, load_catalogue
from pools.models import Pool, PoolMembership
from providers.models import Provider
from tests.pools.catalogue_files import SHIPPED, db_snapshot, entry, shipped, write

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

    assert "not valid JSON: trailing comma is not allowed" in str(exc.value)
    assert "line 3, column 17" in str(exc.value)
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
    pools = Pool.objects.count()  # the shipped file's pools: every capability adds one
    assert first.startswith(f"providers: {count} in catalogue — {count} created, 0 updated")
    assert "created: coingecko, " in first
    assert second.splitlines() == [
        f"providers: {count} in catalogue — 0 created, 0 updated, {count} unchanged, 0 kept (operator-edited); "
        f"pools: {pools} — 0 created, 0 updated, {pools} unchanged, 0 kept; "
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
    assert "not valid JSON: unexpected character, expected a JSON value at line 1, column 30" in result.stderr
    assert result.stdout == ""
