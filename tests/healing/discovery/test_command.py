"""manage.py discover: once as a real process (a candidates file and a URL, against the fake
APIs), and its input errors naming entry and field (nothing probed, nothing written)."""

import json
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from providers.models import Provider
from tests.live_server import REPO_ROOT, server_env


@pytest.mark.django_db(transaction=True)
def test_the_command_adds_candidates_disabled_as_a_real_process(fake_apis, tmp_path, make_provider):
    make_provider(slug="enabled_one", base_url=f"{fake_apis.url}/enabled")
    listing = tmp_path / "candidates.json"
    listing.write_text(json.dumps([
        {"name": "Fake Markets", "base_url": f"{fake_apis.url}/markets", "sample_path": "/api/v1/coins/markets",
         "docs_url": "https://docs.example/markets", "note": "from the test"},
        {"name": "Fake Feed", "base_url": f"{fake_apis.url}/news/feed", "sample_path": "", "category": "news"},
        {"name": "Enabled", "base_url": f"{fake_apis.url}/enabled", "sample_path": "/gas"},
    ]))
    result = subprocess.run(
        [sys.executable, "manage.py", "discover", str(listing), f"{fake_apis.url}/keyed", "--path", "/private/prices",
         "--timeout", "5"], cwd=REPO_ROOT, env=server_env({"CRYPTOHUB_DISCOVERY_ALLOW_PRIVATE": "True"}),
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"created fake_markets - {fake_apis.url}/markets/api/v1/coins/markets -> 200 json, ")
    assert lines[2].startswith("skipped enabled_one: an enabled provider has this base URL: left alone")
    assert lines[3].startswith("created 127_0_0_1 - ") and "needs a key" in lines[3]  # no name: from the host
    assert lines[-1] == "3 probed, 2 usable, 3 created, 1 skipped"
    assert "/enabled/gas" not in fake_apis.paths()  # a skipped candidate is not probed either
    rows = {p.slug: p for p in Provider.objects.filter(enabled=False)}
    assert sorted(rows) == ["127_0_0_1", "fake_feed", "fake_markets"]
    assert "docs: https://docs.example/markets" in rows["fake_markets"].notes
    assert "candidate note: from the test" in rows["fake_markets"].notes
    assert rows["fake_feed"].category == "news" and rows["127_0_0_1"].key_required
    assert Provider.objects.get(slug="enabled_one").enabled


@pytest.mark.django_db
def test_input_errors_name_entry_and_field_and_nothing_is_probed(fake_apis, tmp_path, allow_loopback):
    listing = tmp_path / "bad.json"
    listing.write_text(json.dumps([{"name": "X", "base_url": "file:///etc/passwd", "sample_path": "/"},
                                   {"name": "Y", "base_url": f"{fake_apis.url}/y"}]))
    with pytest.raises(CommandError) as caught:
        call_command("discover", str(listing), "not-a-url-or-file", "http://a@b.example")
    message = str(caught.value)
    assert f"{listing} entry 1 ('X'): base_url: must start with http:// or https://" in message
    assert f"{listing} entry 2 ('Y'): sample_path: required" in message
    assert "not-a-url-or-file: neither a file nor an http(s) URL" in message
    assert "URL 1 ('http://a@b.example'): base_url: must not carry a user name or password" in message
    assert fake_apis.paths() == [] and not Provider.objects.exists()
    with pytest.raises(CommandError, match="--timeout"):
        call_command("discover", f"{fake_apis.url}/z", "--timeout", "0")


@pytest.mark.django_db
def test_a_dry_run_reports_and_writes_nothing(fake_apis, allow_loopback, capsys):
    call_command("discover", f"{fake_apis.url}/dry", "--path", "/tvl", "--dry-run", "-v", "2")
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("would create 127_0_0_1 - ")
    assert "category: defi (by the rules: payload keys tvl, chainTvls" in out
    assert out.splitlines()[-1] == "dry run, nothing written: 1 probed, 1 usable, 1 would create"
    assert not Provider.objects.exists() and fake_apis.paths() == ["/dry/tvl"]
