"""Blockchair: /bitcoin/stats and /ethereum/stats ({"data": {...}, "context": {...}}).

Bitcoin gives one suggested fee (sat/vB); Ethereum a ladder in gwei. `context.code` mirrors the
HTTP status and `context.error` explains it; Blockchair uses 402/429/430/434/435 for its limits.

Accounts and transactions on both chains come from the dashboards, one call each:
/{chain}/dashboards/address/{a} (balance, transaction count, recent transaction hashes) and
/{chain}/dashboards/transaction/{h} (block, fee, time; Ethereum also `failed`). `context.state` is
the chain tip, so confirmations are known; a block_id of -1 means the mempool. Amounts are
satoshi (integers) and wei (decimal strings). An unknown transaction comes back as empty `data`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, NotFound, Outcome, PermanentError, ProviderError, RequestSpec
from providers.onchain_records import make_address_balance, make_tx_status
from providers.schemas import check_not_future, epoch_of, iso_from_string, make_gas

ONCHAIN_CAPABILITIES = frozenset({"address", "tx"})
MEMPOOL_BLOCK_ID = -1

# Over the daily/minute limit (402, 429), soft limit under load (435), IP blocked (430, 434).
RATE_LIMIT_CODES = frozenset({402, 429, 430, 434, 435})
UNITS = {"bitcoin": "sat/vB", "ethereum": "gwei"}


class Blockchair(Adapter):
    slug = "blockchair"
    capabilities = frozenset({"gas"}) | ONCHAIN_CAPABILITIES
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
        if capability == "address":
            return RequestSpec(path=f"/{self._chain(params)}/dashboards/address/{params['address']}")
        if capability == "tx":
            return RequestSpec(path=f"/{self._chain(params)}/dashboards/transaction/{params['hash']}")
        if capability != "gas":
            return super().build_request(capability, params)
        return RequestSpec(path=f"/{self._chain(params)}/stats")

    def _dashboard(self, params: Mapping[str, Any], payload: Any, key: str) -> tuple[Any, Mapping, Mapping]:
        """(the entry of `key` in data or None, data, context) of a dashboard answer."""
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        self.raise_for_body_error(payload)
        context = payload.get("context") if isinstance(payload.get("context"), Mapping) else {}
        data = payload.get("data")
        if data == [] or data is None:  # Blockchair's "no such thing"
            return None, {}, context
        if not isinstance(data, Mapping):
            raise BadData(f"{self.slug}: no data block")
        # Ethereum keys are lower case whatever the request's spelling.
        return data.get(key, data.get(key.lower())), data, context

    def _address(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        entry, _, _ = self._dashboard(params, payload, params["address"])
        if not isinstance(entry, Mapping) or not isinstance(entry.get("address"), Mapping):
            raise BadData(f"{self.slug}: no dashboard for {params['address']}")
        if params["chain"] == "bitcoin":
            recent = entry.get("transactions")
        else:
            calls = entry.get("calls")
            recent = None if not isinstance(calls, list) else list(dict.fromkeys(
                c.get("transaction_hash") for c in calls if isinstance(c, Mapping) and c.get("transaction_hash")))
        if recent is not None and not isinstance(recent, list):
            raise BadData(f"{self.slug}: transactions is not a list")
        # An address never seen is all zeros with type null: a valid zero balance.
        return make_address_balance(slug=self.slug, chain=params["chain"], address=params["address"],
                                    balance_raw=entry["address"].get("balance"),
                                    tx_count=entry["address"].get("transaction_count"),
                                    recent_transactions=recent).to_dict()

    def _tx(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        entry, _, context = self._dashboard(params, payload, params["hash"])
        if entry is None:
            raise NotFound(f"{self.slug}: no transaction {params['hash']}", field="hash", values=[params["hash"]])
        tx = entry.get("transaction") if isinstance(entry, Mapping) else None
        if not isinstance(tx, Mapping) or not isinstance(tx.get("block_id"), int):
            raise BadData(f"{self.slug}: no transaction block_id")
        cache = context.get("cache") if isinstance(context.get("cache"), Mapping) else {}
        answered = epoch_of(iso_from_string(cache.get("since"), slug=self.slug))
        pending = tx["block_id"] == MEMPOOL_BLOCK_ID
        tip = context.get("state")
        status = "pending" if pending else ("failed" if tx.get("failed") is True else "confirmed")
        block_time = None if pending else epoch_of(iso_from_string(tx.get("time"), slug=self.slug))
        return make_tx_status(
            slug=self.slug, chain=params["chain"], tx_hash=params["hash"], status=status,
            block=None if pending else tx["block_id"],
            confirmations=None if pending or not isinstance(tip, int) else tip - tx["block_id"] + 1,
            fee_raw=tx.get("fee"), block_epoch_s=block_time, answer_epoch_s=answered,
        ).to_dict()

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability in ONCHAIN_CAPABILITIES:
            self._chain(params)
            return self._address(params, payload) if capability == "address" else self._tx(params, payload)
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
