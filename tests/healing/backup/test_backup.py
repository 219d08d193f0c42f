"""Backup and restore through the service: the round trip, dry runs, prune, refusals, secrets."""

import copy
import json
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.conf import settings

from healing.backup import BackupError, dumps, export_config, import_config
from healing.models import AlertRule, ApiClient, MaintenanceWindow
from healing.models.clients import hash_key
from pools.catalogue import load_catalogue
from pools.models import PoolMembership
from providers.models import Provider

from .conftest import HOOK_ENV, HOOK_VALUE, KEY_ENV, KEY_VALUE, build_configuration, wipe_configuration

SHIPPED = Path(settings.BASE_DIR) / "fixtures" / "providers.json"


def test_round_trip_export_wipe_import_export_is_identical(configuration):
    load_catalogue(SHIPPED)  # the shipped catalogue on top: 150+ providers through the catalogue's validator
    before = dumps(export_config())
    document = json.loads(before)
    assert {len(document[s]) > 0 for s in ("providers", "pools", "notification_channels", "alert_rules",
                                           "maintenance_windows", "periodic_tasks", "api_clients")} == {True}

    wipe_configuration()
    plan = import_config(json.loads(before))

    assert plan.applied and not plan.sections["providers"].update
    assert dumps(export_config()) == before
    # The parts that reference others came back whole.
    rule = AlertRule.objects.get(name="Gecko down")
    assert rule.provider.slug == "coingecko" and {c.name for c in rule.channels.all()} == {"ops mail", "ops slack"}
    assert PoolMembership.objects.get(pool__slug="price", provider__slug="kraken").enabled is False
    assert MaintenanceWindow.objects.get(pool__slug="price").reason == "pool move"
    client = ApiClient.objects.get(name="mobile app")
    assert client.key_hash == hash_key(configuration["client_key"])  # the old key still works


def test_an_import_is_audited_and_an_unchanged_one_writes_nothing(configuration):
    document = export_config()
    wipe_configuration()
    import_config(copy.deepcopy(document))
    created = LogEntry.objects.filter(action=LogEntry.Action.CREATE, object_repr="coingecko")
    assert created.count() == 2  # the fixture's, then the import's

    entries = LogEntry.objects.count()
    again = import_config(copy.deepcopy(document))
    assert not again.changed and not again.applied
    assert LogEntry.objects.count() == entries


def test_a_dry_run_lists_the_changes_and_writes_nothing(configuration):
    document = export_config()
    before, entries = dumps(document), LogEntry.objects.count()
    document["providers"][0]["timeout_s"] = 3.0  # coingecko
    document["pools"][0]["members"] = []  # exchange: without kraken
    document["alert_rules"].append({"name": "New rule", "kind": "breaker_open", "channels": ["ops mail"]})
    document["api_clients"] = [c for c in document["api_clients"] if c["name"] != "partner"]

    for prune in (False, True):
        plan = import_config(copy.deepcopy(document), dry_run=True, prune=prune)
        assert plan.dry_run and plan.changed and not plan.applied
        assert [str(c) for c in plan.sections["providers"].update["coingecko"]] == ["timeout_s 7.5 → 3.0"]
        assert plan.sections["alert_rules"].create == ["New rule"]
        assert plan.sections["memberships"].absent == ["exchange:kraken"]
        assert plan.sections["api_clients"].absent == ["partner"]
        answer = plan.as_dict()["sections"]["api_clients"]
        assert answer["not_in_document"] == ["partner"] and answer["delete"] == (["partner"] if prune else [])

    assert dumps(export_config()) == before
    assert LogEntry.objects.count() == entries


def test_what_the_document_does_not_list_is_kept_unless_pruned(configuration):
    document = export_config()
    document["api_clients"] = [c for c in document["api_clients"] if c["name"] != "partner"]
    document["maintenance_windows"] = [w for w in document["maintenance_windows"] if w["pool"] is None]

    kept = import_config(copy.deepcopy(document))
    assert not kept.applied and kept.sections["api_clients"].absent == ["partner"]
    assert ApiClient.objects.filter(name="partner").exists()

    pruned = import_config(copy.deepcopy(document), prune=True)
    assert pruned.applied
    assert not ApiClient.objects.filter(name="partner").exists()
    assert not MaintenanceWindow.objects.filter(pool__isnull=False).exists()
    assert dumps(export_config()) == dumps(document)


def _wrong_type(doc):
    doc["providers"][0]["timeout_s"] = "10"


def _unknown_member(doc):
    doc["pools"][1]["members"].append({"provider": "nosuchprovider", "priority": 1})


def _duplicate_slug(doc):
    doc["providers"].append(dict(doc["providers"][1]))


def _bad_value(doc):
    doc["alert_rules"][0]["severity"] = "loud"


def _unknown_channel(doc):
    doc["alert_rules"][0]["channels"] = ["ghost"]


def _bad_schedule(doc):
    doc["periodic_tasks"][0]["schedule"] = {"interval": {"every": 0, "period": "seconds"}}


def _pasted_key(doc):
    doc["api_clients"][0]["key_hash"] = "chk_pasted-a-real-key"


@pytest.mark.parametrize("break_it, key, words", [
    (_wrong_type, "providers[0].timeout_s", 'expected a number, got "10"'),
    (_unknown_member, "pools[1].members[2].provider", 'unknown provider "nosuchprovider"'),
    (_duplicate_slug, "providers[3].slug", "duplicate of providers[1]"),
    (_bad_value, "alert_rules[0].severity", "'loud' is not a valid choice"),
    (_unknown_channel, "alert_rules[0].channels", 'unknown notification channel "ghost"'),
    (_bad_schedule, "periodic_tasks[0].schedule.interval.every", "greater than or equal to 1"),
    (_pasted_key, "api_clients[0].key_hash", "never holds the key itself"),
])
def test_an_invalid_document_is_refused_whole_naming_entry_and_field(configuration, break_it, key, words):
    document = export_config()
    before, entries = dumps(document), LogEntry.objects.count()
    document["providers"][1]["notes"] = "a valid change that must not be written either"
    break_it(document)

    with pytest.raises(BackupError) as refused:
        import_config(document)

    errors = refused.value.by_key()
    assert list(errors) == [key], errors
    assert words in errors[key][0]
    assert dumps(export_config()) == before and LogEntry.objects.count() == entries


def test_a_document_must_list_every_section(configuration):
    document = export_config()
    del document["alert_rules"]
    with pytest.raises(BackupError) as refused:
        import_config(document, prune=True)
    assert list(refused.value.by_key()) == ["alert_rules"]
    assert AlertRule.objects.count() == 3


def test_no_secret_value_in_an_export(configuration, secrets_set):
    load_catalogue(SHIPPED)
    text = dumps(export_config(with_audit=True)).decode()
    assert KEY_VALUE not in text and HOOK_VALUE not in text
    assert configuration["client_key"] not in text
    assert KEY_ENV in text and HOOK_ENV in text  # the names are the configuration
    assert hash_key(configuration["client_key"]) in text


def test_the_audit_section_is_read_only(configuration):
    document = export_config(with_audit=True)
    assert {e["model"] for e in document["audit"]} >= {"providers.provider", "healing.alertrule"}
    Provider.objects.filter(slug="kraken").update(notes="changed after the export")
    plan = import_config(document)
    assert plan.audit_ignored and plan.sections["providers"].update["kraken"]
    assert Provider.objects.get(slug="kraken").notes == ""


def test_a_document_imports_into_another_database_without_ids(db, secrets_set):
    build_configuration()
    document = export_config()
    wipe_configuration()
    build_configuration()  # the same configuration again: every row has a new id (and new client keys)
    plan = import_config(document, dry_run=True)
    changed = {name: {key: [c.field for c in changes] for key, changes in section.update.items()}
               for name, section in plan.sections.items() if section.create or section.update or section.absent}
    assert changed == {"api_clients": {"mobile app": ["key_prefix", "key_hash"], "partner": ["key_prefix", "key_hash"]}}


def test_a_client_key_the_database_keeps_for_another_client_is_refused(configuration):
    document = export_config()
    renamed = next(c for c in document["api_clients"] if c["name"] == "partner")
    renamed["name"] = "partner renamed"  # same key_hash; "partner" itself is not in the document

    with pytest.raises(BackupError) as refused:
        import_config(copy.deepcopy(document))
    assert list(refused.value.by_key()) == ["api_clients[1].key_hash"]
    assert 'same key as client "partner" in the database' in str(refused.value)

    plan = import_config(document, prune=True)  # the old one goes first, then the key is free
    assert plan.sections["api_clients"].create == ["partner renamed"]
    assert set(ApiClient.objects.values_list("name", flat=True)) == {"mobile app", "partner renamed"}
