"""Pools: which providers serve a capability (or category), and in what order."""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from providers.models import Capability, Category, Provider


class Strategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", "Round robin"
    PRIORITY = "priority", "Priority"
    WEIGHTED = "weighted", "Weighted random"
    LEAST_USED = "least_used", "Least used"
    FASTEST_RESPONSE = "fastest_response", "Fastest response"


SERVABLE = {c.value for c in Capability} | {c.value for c in Category}


def validate_servable(value: str) -> None:
    if value not in SERVABLE:
        raise ValidationError(f"{value!r} is neither a capability nor a category; choose from {sorted(SERVABLE)}")


class Pool(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    capability = models.CharField(
        max_length=32, validators=[validate_servable], db_index=True,
        help_text="The capability (price, gas, …) or provider category this pool serves.",
    )
    strategy = models.CharField(max_length=20, choices=Strategy.choices, default=Strategy.PRIORITY)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    providers = models.ManyToManyField(Provider, through="PoolMembership", related_name="pools")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class PoolMembership(models.Model):
    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="memberships")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="memberships")
    # Higher priority is tried first by the priority strategy.
    priority = models.IntegerField(default=0)
    weight = models.PositiveIntegerField(default=100, validators=[MinValueValidator(0)])
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["pool", "-priority", "provider__slug"]
        constraints = [models.UniqueConstraint(fields=["pool", "provider"], name="unique_pool_provider")]

    def __str__(self) -> str:
        return f"{self.pool.slug}:{self.provider.slug}"


class RotationEvent(models.Model):
    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="rotations")
    from_provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300)
    actor = models.CharField(max_length=150, default="system", help_text="A username, or 'system'.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.pool.slug}: {self.from_provider} -> {self.to_provider}"
