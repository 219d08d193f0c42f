"""A small but complete configuration (every section, every kind of reference) and the wipe of
every configuration table, for the backup tests."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule

from healing.models import AlertRule, ApiClient, MaintenanceWindow, NotificationChannel
from pools.models import Pool, PoolMembership
from providers.models import Provider

KEY_ENV = "CRYPTOHUB_TEST_BACKUP_PROVIDER_KEY"
KEY_VALUE = "sk-live-BACKUP-PROVIDER-SECRET-7f3a9"
HOOK_ENV = "CRYPTOHUB_TEST_BACKUP_SLACK_HOOK"
HOOK_VALUE = "https://hooks.slack.example/services/T0/B0/BACKUP-CHANNEL-SECRET-51c2"
# Deleted children first, so nothing is left to a cascade that a test does not mean.
CONFIG_MODELS = (MaintenanceWindow, AlertRule, NotificationChannel, PoolMembership, Pool, Provider, PeriodicTask,
                 IntervalSchedule, CrontabSchedule, ClockedSchedule, SolarSchedule, ApiClient)


def wipe_configuration() -> None:
    for model in CONFIG_MODELS:
        model.objects.all().delete()
    assert not any(model.objects.exists() for model in CONFIG_MODELS)


def build_configuration() -> dict:
    """Creates the rows; returns the client key (shown once in real life) and a few rows."""
    gecko = Provider.objects.create(
        slug="coingecko", name="CoinGecko", category="market_data", base_url="https://api.coingecko.example/api/v3",
        health_path="/ping", auth_type="header", auth_param="x-cg-demo-api-key", api_key_env=KEY_ENV,
        rate_limits="10/minute", timeout_s=7.5, notes="edited by an operator")
    kraken = Provider.objects.create(slug="kraken", name="Kraken", category="exchange",
                                     base_url="https://api.kraken.example/0/public", health_path="/Time")
    Provider.objects.create(slug="etherscan", name="Etherscan", category="explorer",
                            base_url="https://api.etherscan.example/v2/api", auth_type="query", auth_param="apikey",
                            api_key_env="CRYPTOHUB_TEST_BACKUP_UNSET", key_required=True, enabled=False)
    price = Pool.objects.create(slug="price", name="Price", capability="price", strategy="weighted",
                                description="spot prices")
    exchanges = Pool.objects.create(slug="exchange", name="Exchanges", capability="exchange")
    PoolMembership.objects.create(pool=price, provider=gecko, priority=10, weight=70)
    PoolMembership.objects.create(pool=price, provider=kraken, priority=5, weight=30, enabled=False)
    PoolMembership.objects.create(pool=exchanges, provider=kraken)

    mail = NotificationChannel.objects.create(name="ops mail", kind="email", target="ops@example.com")
    slack = NotificationChannel.objects.create(name="ops slack", kind="slack", secret_env=HOOK_ENV)
    down = AlertRule.objects.create(name="Gecko down", kind="provider_down", provider=gecko, consecutive_checks=4)
    down.channels.set([mail, slack])
    empty = AlertRule.objects.create(name="Price empty", kind="pool_empty", pool=price, severity="critical")
    empty.channels.set([slack])
    AlertRule.objects.create(name="Lockout", kind="admin_login_lockout", enabled=False, repeat_minutes=0)

    start = datetime(2031, 1, 2, 3, 0, tzinfo=UTC)
    MaintenanceWindow.objects.create(provider=kraken, starts_at=start, ends_at=start + timedelta(hours=2),
                                     reason="exchange upgrade", created_by="operator")
    MaintenanceWindow.objects.create(pool=price, starts_at=start, ends_at=start + timedelta(minutes=30),
                                     reason="pool move")

    every_30s = IntervalSchedule.objects.create(every=30, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="sweep", task="healing.tasks.health_sweep_task", interval=every_30s,
                                expire_seconds=25)
    nightly = CrontabSchedule.objects.create(minute="0", hour="4", timezone="Europe/Paris")
    PeriodicTask.objects.create(name="cleanup", task="celery.backend_cleanup", crontab=nightly,
                                kwargs='{"keep": 7}', enabled=False, description="nightly")
    once = ClockedSchedule.objects.create(clocked_time=start)
    PeriodicTask.objects.create(name="one shot", task="healing.tasks.prune_history_task", clocked=once, one_off=True)
    dawn = SolarSchedule.objects.create(event="sunrise", latitude=Decimal("51.507222"), longitude=Decimal("-0.1275"))
    PeriodicTask.objects.create(name="at dawn", task="healing.tasks.rollup_stats_task", solar=dawn, priority=3,
                                queue="slow")

    app = ApiClient(name="mobile app", capabilities=["price", "markets"], limits="60/minute")
    key = app.set_new_key()
    app.save()
    partner = ApiClient(name="partner", enabled=False)
    partner.set_new_key()
    partner.save()
    return {"client_key": key, "gecko": gecko, "price": price}


@pytest.fixture
def secrets_set(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY_VALUE)
    monkeypatch.setenv(HOOK_ENV, HOOK_VALUE)


@pytest.fixture
def configuration(db, secrets_set):
    return build_configuration()
