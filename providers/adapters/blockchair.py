"""Blockchair: /bitcoin/stats and /ethereum/stats ({"data": {...}, "context": {...}}).

Bitcoin gives one suggested fee (sat/vB); Ethereum a ladder in gwei. `context.code` mirrors the
HTTP status and `context.error` explains it; Blockchair uses 402/429/430/434/435 for its limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, Outcome, PermanentError, ProviderError, RequestSpec
from providers.schemas import check_not_future, epoch_of, iso_from_string, make_gas

# Over the daily/minute limit (402, 429), soft limit under load (435), IP blocked (430, 434).
RATE_LIMIT_CODES = frozenset({402, 429, 430, 434, 435})
UNITS = {"bitcoin": "sat/vB", "ethereum": "gwei"}


class Blockchair(Adapter):
    slug = "blockchair"
    capabilities = frozenset({"gas"})
    chains = frozenset(UNITS)
    status_outcomes = dict.fromkeys(RATE_LIMIT_CODES, Outcome.RATE_LIMITED)
    # context.code mirrors the HTTP status: server errors pass, other 4xx refuse; the limits last,
    # so they win over the 4xx class they belong to.
    error_codes = {
        **dict.fromkeys(range(400, 500), Outcome.PERMANENT),
        **dict.fromkeys(range(500, 600), Outcome.TRANSIENT),
        **dict.fromkeys(RATE_LIMIT_CODES, Outcome.RATE_LIMITED),
    }

    def _chain(self, params: Mapping[str, Any]) -> str:
        chain = params.get("chain", "bitcoin")
        if chain not in UNITS:
            raise PermanentError(f"{self.slug}: no fee estimate for chain {chain!r}")
        return chain

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "gas":
            return super().build_request(capability, params)
        return RequestSpec(path=f"/{self._chain(params)}/stats")

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "gas":
            return super().parse(capability, params, payload)
        chain = self._chain(params)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        self.raise_for_body_error(payload)
        context = payload.get("context") if isinstance(payload.get("context"), Mapping) else {}
        data = payload.get("data")
        if not isinstance(data, Mapping):
            raise BadData(f"{self.slug}: no data block")
        block_time = iso_from_string(data.get("best_block_time"), slug=self.slug)
        cache = context.get("cache") if isinstance(context.get("cache"), Mapping) else {}
        # The cache stamp is when Blockchair answered: the best block cannot be far after it.
        check_not_future(block_time, epoch_of(iso_from_string(cache.get("since"), slug=self.slug)), slug=self.slug)
        if chain == "bitcoin":
            estimate = make_gas(
                slug=self.slug, chain=chain, unit=UNITS[chain],
                standard=data.get("suggested_transaction_fee_per_byte_sat"), source_time=block_time,
            )
        else:
            options = data.get("suggested_transaction_fee_gwei_options")
            if not isinstance(options, Mapping):
                raise BadData(f"{self.slug}: no suggested_transaction_fee_gwei_options")
            estimate = make_gas(
                slug=self.slug, chain=chain, unit=UNITS[chain],
                slow=options.get("slow"), standard=options.get("normal"), fast=options.get("fast"),
                source_time=block_time,
            )
        return estimate.to_dict()

    def body_error(self, payload: Any) -> ProviderError | None:
        context = payload.get("context") if isinstance(payload, Mapping) else None
        if not isinstance(context, Mapping):
            return None
        code = context.get("code") if isinstance(context.get("code"), int) else None
        if not context.get("error") and code in (None, 200):
            return None
        return ProviderError(f"context code {code}: {str(context.get('error'))[:120]!r}", code=code)
