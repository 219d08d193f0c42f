"""The asset registry in the ORM: every coin (`Asset`) and each provider's own name for it
(`ProviderAsset`), as the sync (providers.asset_store) writes them and operators review them."""

from django.db import models


class MatchKind(models.TextChoices):
    """How a provider's listing was tied to an asset (or why it was not)."""

    ID = "id", "Same id"
    NAME = "name", "Symbol and name"
    CONTRACT = "contract", "Contract address"
    SYMBOL = "symbol", "Only coin with that symbol"
    RANKED_SYMBOL = "ranked_symbol", "Only ranked coin with that symbol"
    MANUAL = "manual", "Set by an operator"
    SNAPSHOT = "snapshot", "Shipped snapshot"
    AMBIGUOUS = "ambiguous", "Ambiguous: needs review"
    UNMATCHED = "unmatched", "No matching asset"


class Asset(models.Model):
    id = models.CharField(max_length=100, primary_key=True, help_text="CoinGecko-style id, the id callers use.")
    symbol = models.CharField(max_length=40, db_index=True)
    name = models.CharField(max_length=200)
    rank = models.PositiveIntegerField(null=True, blank=True, db_index=True, help_text="By market cap.")
    platforms = models.JSONField(default=dict, blank=True, help_text="Platform -> contract address.")
    delisted = models.BooleanField(
        default=False, db_index=True, help_text="Gone from the listings: kept, still found by id, never by symbol.")
    first_seen = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = [models.F("rank").asc(nulls_last=True), "id"]

    def __str__(self) -> str:
        return f"{self.id} ({self.symbol})"


class ProviderAsset(models.Model):
    provider = models.ForeignKey("providers.Provider", to_field="slug", on_delete=models.CASCADE,
                                 related_name="asset_listings")
    key = models.CharField(max_length=100, help_text="The provider's own id, symbol or base asset (btc-bitcoin, XBT).")
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.CASCADE, related_name="listings")
    symbol = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=200, blank=True)
    quotes = models.JSONField(default=list, blank=True, help_text="Quote currencies an exchange pairs it with.")
    match = models.CharField(max_length=16, choices=MatchKind.choices, db_index=True)
    candidates = models.JSONField(default=list, blank=True, help_text="Asset ids an ambiguous listing could be.")
    delisted = models.BooleanField(default=False, db_index=True)
    seen_at = models.DateTimeField(null=True, blank=True, help_text="Last sync that found it in the listing.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider_id", "key"]
        constraints = [models.UniqueConstraint(fields=["provider", "key"], name="provider_asset_unique_key")]

    def __str__(self) -> str:
        return f"{self.provider_id}:{self.key}"

    def save(self, *args, **kwargs) -> None:
        # An operator who picks the asset of a listing decides it: later syncs keep that choice.
        if self.asset_id and self.match in (MatchKind.AMBIGUOUS, MatchKind.UNMATCHED):
            self.match = MatchKind.MANUAL
            self.candidates = []
        super().save(*args, **kwargs)
