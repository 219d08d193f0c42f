"""manage.py audit and manage.py logs: the trail and the log from the command line, with their
filters checked like the API's."""

import io

import pytest
from django.core.management import CommandError, call_command

from common import audit
from healing import activity

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_audit_command_shows_the_trail_with_its_diff(make_provider):
    with audit.acting_as("command:test"):
        provider = make_provider(slug="shown", timeout_s=10)
        provider.timeout_s = 5
        provider.save()
    lines = _run("audit", "--model", "provider", "--object", "shown").splitlines()
    assert len(lines) == 2 and "command:test" in lines[0] and "update" in lines[0]
    assert "timeout_s: 10.0 -> 5" in lines[0] and "create" in lines[1]
    with pytest.raises(CommandError, match="--model"):
        _run("audit", "--model", "nothing")
    with pytest.raises(CommandError, match="--limit"):
        _run("audit", "--limit", "0")


def test_the_logs_command_filters_like_the_api(db):
    activity.record_now([activity.entry("request", "error", "GET /api/data/gas 503", 1_800_000_000.0, client="app"),
                         activity.entry("breaker", "warning", "breaker of kraken: closed -> open", 1_800_000_001.0)])
    lines = _run("logs", "--level", "error").splitlines()
    assert len(lines) == 1 and "GET /api/data/gas 503" in lines[0] and "client=app" in lines[0]
    assert "breaker of kraken" in _run("logs", "--category", "breaker")
    for bad in (("--level", "loud"), ("--since", "yesterday"), ("--limit", "0")):
        with pytest.raises(CommandError, match=bad[0]):
            _run("logs", *bad)
