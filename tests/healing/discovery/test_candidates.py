"""Candidate input is validated whole, and every error names its entry and field."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from healing.discovery import candidates as inputs
from healing.discovery import service

SHIPPED = Path(settings.BASE_DIR) / "fixtures" / "discovery_candidates.json"


def errors_of(data) -> list[str]:
    with pytest.raises(inputs.CandidateError) as caught:
        inputs.parse_entries(data, source="list.json")
    return caught.value.errors


def test_every_bad_entry_and_field_is_named_at_once():
    errors = errors_of([
        {"name": "Good", "base_url": "https://api.good.example", "sample_path": "/ping"},
        {"name": "Ftp", "base_url": "ftp://files.example", "sample_path": "/"},
        {"base_url": "https://user:pw@api.example.com", "sample_path": "/x"},
        {"name": "NoPath", "base_url": "https://api.nopath.example"},
        {"name": "Cat", "base_url": "https://cat.example", "sample_path": "/", "category": "gas"},
        {"name": "Abs", "base_url": "https://abs.example", "sample_path": "https://evil.example/x"},
        {"name": "Extra", "base_url": "https://extra.example", "sample_path": "/", "auth": "x"},
        {"name": "Query", "base_url": "https://q.example/api?key=1", "sample_path": "/"},
        {"name": 7, "base_url": "https://seven.example", "sample_path": "/"},
        "https://a-string.example",
    ])
    assert errors == [
        "list.json entry 2 ('Ftp'): base_url: must start with http:// or https://",
        "list.json entry 3: base_url: must not carry a user name or password (user@host)",
        "list.json entry 4 ('NoPath'): sample_path: required",
        "list.json entry 5 ('Cat'): category: 'gas' is not a category (one of market_data, exchange, explorer, "
        "rpc, defi, nft, news, sentiment, analytics)",
        "list.json entry 6 ('Abs'): sample_path: must be empty or start with \"/\" or \"?\" (a path under "
        "base_url, e.g. \"/ping\")",
        "list.json entry 7 ('Extra'): auth: unknown field (expected one of name, base_url, sample_path, docs_url, "
        "category, note)",
        "list.json entry 8 ('Query'): base_url: must not have a query string (put it in sample_path)",
        "list.json entry 9: name: must be a string, got int",
        "list.json entry 10: expected an object with base_url and sample_path, got str",
    ]


def test_the_document_itself_and_duplicates():
    assert errors_of({"base_url": "https://x.example"}) == ["list.json: expected a JSON list of candidates, got dict"]
    assert errors_of([]) == ["list.json: the list is empty"]
    too_many = [{"base_url": f"https://a{i}.example", "sample_path": "/"} for i in range(inputs.MAX_CANDIDATES + 1)]
    assert errors_of(too_many) == [f"list.json: {inputs.MAX_CANDIDATES + 1} candidates; at most 200 per run"]
    twice = [{"name": "A", "base_url": "https://API.example.com/v1/", "sample_path": "/a"},
             {"name": "B", "base_url": "https://api.example.com/v1", "sample_path": "/b"}]
    assert errors_of(twice) == ["list.json entry 2 ('B'): base_url: the same base URL as list.json entry 1 ('A')"]
    with pytest.raises(inputs.CandidateError) as caught:
        inputs.parse_json('[{"base_url": "https://x.example",}]', source="f.json")
    assert caught.value.errors == ["f.json: not valid JSON: trailing comma is not allowed at line 1, column 34"]


def test_base_urls_from_the_command_line_share_the_path_and_errors_name_the_url():
    found = inputs.from_urls(["https://api.one.example/v1", "https://two.example/feed/"], path="/ping")
    assert [c.url for c in found] == ["https://api.one.example/v1/ping", "https://two.example/feed/ping"]
    with pytest.raises(inputs.CandidateError) as caught:
        inputs.from_urls(["https://ok.example", "gopher://old.example"])
    assert caught.value.errors == ["URL 2 ('gopher://old.example'): base_url: must start with http:// or https://"]


def test_the_probe_url_is_the_one_the_health_sweep_will_call():
    assert inputs.probe_url("https://dailyhodl.com/feed/", "") == "https://dailyhodl.com/feed/"
    assert inputs.probe_url("https://api.x.example/v1/", "/ping") == "https://api.x.example/v1/ping"
    assert inputs.probe_url("https://news.example/data/news/", "?lang=EN") == "https://news.example/data/news/?lang=EN"


def test_the_shipped_candidates_are_valid_and_none_is_already_in_the_catalogue():
    found = inputs.parse_json(SHIPPED.read_text(), source=str(SHIPPED))
    assert 10 <= len(found) <= 30
    catalogue = json.loads((SHIPPED.parent / "providers.json").read_text())["providers"]
    known = {inputs.match_key(p["base_url"]) for p in catalogue}
    assert not [c.base_url for c in found if inputs.match_key(c.base_url) in known]
    slugs = {p["slug"] for p in catalogue}
    assert not [c.name for c in found if service.base_slug(c) in slugs]
    assert all(c.base_url.startswith("https://") and c.category and c.docs_url for c in found)
