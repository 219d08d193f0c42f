"""The catalogue of external APIs: what each provider is and how to talk to it."""

import os

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from limits import parse_many


class Category(models.TextChoices):
    MARKET_DATA = "market_data", "Market data"
    EXCHANGE = "exchange", "Exchange"
    EXPLORER = "explorer", "Block explorer"
    RPC = "rpc", "RPC / on-chain"
    DEFI = "defi", "DeFi"
    NFT = "nft", "NFT"
    NEWS = "news", "News"
    SENTIMENT = "sentiment", "Sentiment"
    ANALYTICS = "analytics", "Analytics"


class Capability(models.TextChoices):
    """Normalized data a pool can serve (the /api/data/<capability> endpoints)."""

    PRICE = "price", "Price"
    MARKETS = "markets", "Markets"
    GLOBAL = "global", "Global"
    FEAR_GREED = "fear_greed", "Fear & greed"
    TRENDING = "trending", "Trending"
    TVL = "tvl", "DeFi TVL"
    GAS = "gas", "Gas / fees"
    NEWS = "news", "News"
    SENTIMENT = "sentiment", "Sentiment"
    ADDRESS = "address", "Address balance"
    TX = "tx", "Transaction status"
    CANDLES = "candles", "Candles (OHLCV)"
    ORDERBOOK = "orderbook", "Order book"
    TICKER = "ticker", "Ticker (24 h)"
    DEX = "dex", "DEX pairs"
    STABLECOINS = "stablecoins", "Stablecoins"
    YIELDS = "yields", "DeFi yields"


class AuthType(models.TextChoices):
    NONE = "none", "None"
    QUERY = "query", "Query parameter"
    HEADER = "header", "Header"


class HttpMethod(models.TextChoices):
    GET = "GET", "GET"
    POST = "POST", "POST"


def validate_rate_limits(value: str) -> None:
    """A `limits` string such as "30/minute;10000/month" (empty means no documented limit)."""
    if not value.strip():
        return
    try:
        parse_many(value)
    except ValueError as exc:
        raise ValidationError(f"not a valid rate limit string ({exc}); use e.g. '30/minute;10000/month'")


def validate_env_name(value: str) -> None:
    if value and not value.replace("_", "").isalnum():
        raise ValidationError("must be the NAME of an environment variable (letters, digits, _), never a key")


class ProviderQuerySet(models.QuerySet):
    def enabled(self) -> "ProviderQuerySet":
        return self.filter(enabled=True)


class Provider(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=32, choices=Category.choices, db_index=True)
    base_url = models.URLField(max_length=300)
    docs_url = models.URLField(max_length=300, blank=True)
    health_path = models.CharField(
        max_length=500, blank=True, help_text="The cheapest call that proves the provider answers."
    )
    health_method = models.CharField(max_length=4, choices=HttpMethod.choices, default=HttpMethod.GET)
    health_body = models.TextField(blank=True, help_text="JSON body for POST health checks (JSON-RPC).")
    auth_type = models.CharField(max_length=8, choices=AuthType.choices, default=AuthType.NONE)
    auth_param = models.CharField(
        max_length=80, blank=True, help_text="Query parameter or header name that carries the key."
    )
    auth_scheme = models.CharField(
        max_length=20, blank=True, help_text='Prefix for a header value, e.g. "Bearer" or "Apikey".'
    )
    api_key_env = models.CharField(
        max_length=80,
        blank=True,
        validators=[validate_env_name],
        help_text="Name of the environment variable that holds the key. The key itself is never stored.",
    )
    key_required = models.BooleanField(
        default=False, help_text="Without its key the provider cannot answer, so routing skips it."
    )
    rate_limits = models.CharField(
        max_length=200, blank=True, validators=[validate_rate_limits], help_text='e.g. "30/minute;10000/month"'
    )
    timeout_s = models.FloatField(default=10.0, validators=[MinValueValidator(0.1), MaxValueValidator(120)])
    allow_post = models.BooleanField(default=False, help_text="The proxy may send POST (JSON-RPC providers).")
    breaker_failure_threshold = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1)], help_text="Consecutive failures that open the breaker."
    )
    breaker_open_s = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(1)], help_text="First open period; doubles on each re-trip."
    )
    is_free = models.BooleanField(default=True)
    enabled = models.BooleanField(default=True, db_index=True)
    notes = models.TextField(blank=True)
    # Fingerprint of the fields as last written from fixtures/providers.json; a provider whose
    # fields no longer match it was edited by an operator, and a plain load leaves it alone.
    catalogue_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def api_key_is_set(self) -> bool:
        """Whether the named variable is set; the value itself never leaves the process."""
        return bool(self.api_key_env and os.environ.get(self.api_key_env))


from providers.asset_models import Asset, MatchKind, ProviderAsset  # noqa: E402,F401  (the app's models)
