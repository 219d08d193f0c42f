"""Etherscan API V2 (key required): the gas oracle (/v2/api?chainid=1&module=gastracker&action=gasoracle),
native balances (module=account action=balance) and transaction status (module=proxy
action=eth_getTransactionReceipt) on every EVM chain of CHAIN_IDS through `chainid`.

Every error arrives as HTTP 200 with status "0" and the reason in `result`; gwei values are
decimal strings, often below 1 since 2024, so they are never parsed as integers. The proxy module
answers in JSON-RPC shape instead (`result`, or an `error` object). A receipt has the block, the
outcome and the fee but neither the chain tip nor the block's time, so `confirmations` and
`timestamp` stay null; no receipt means Etherscan does not know the transaction as mined.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, NotFound, Outcome, PermanentError, ProviderError, RequestSpec
from providers.adapters.evm_rpc import read_receipt
from providers.onchain_records import make_address_balance, make_tx_status
from providers.schemas import make_gas

# The free plan serves the gas oracle on selected chains only; Ethereum mainnet is one.
CHAIN_IDS = {"ethereum": 1}
# Etherscan V2's chainid per chain for accounts and transactions (V1's per-chain *scan APIs are retired).
ACCOUNT_CHAIN_IDS = {"ethereum": 1, "optimism": 10, "bsc": 56, "polygon": 137, "base": 8453, "arbitrum": 42161}
ONCHAIN_CAPABILITIES = frozenset({"address", "tx"})


class Etherscan(Adapter):
    slug = "etherscan"
    capabilities = frozenset({"gas"}) | ONCHAIN_CAPABILITIES
    chains = frozenset(CHAIN_IDS)
    # The engine asks a provider only for the chains it lists for that capability.
    capability_chains = dict.fromkeys(ONCHAIN_CAPABILITIES, frozenset(ACCOUNT_CHAIN_IDS))
    error_markers = {
        **dict.fromkeys(("rate limit", "max calls per sec", "too many"), Outcome.RATE_LIMITED),
        **dict.fromkeys(
            ("api key", "deprecated", "invalid chainid", "not supported", "invalid module", "invalid action",
             "invalid address", "invalid argument"),
            Outcome.PERMANENT,
        ),
    }

    def _chain_id(self, params: Mapping[str, Any]) -> int:
        chain = params.get("chain", "ethereum")
        if chain not in CHAIN_IDS:
            raise PermanentError(f"{self.slug}: no gas oracle for chain {chain!r}")
        return CHAIN_IDS[chain]

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability in ONCHAIN_CAPABILITIES:
            chain_id = self._account_chain_id(params)
            if capability == "address":
                return RequestSpec(path="/v2/api", params={"chainid": chain_id, "module": "account",
                                                           "action": "balance", "address": params["address"],
                                                           "tag": "latest"})
            return RequestSpec(path="/v2/api", params={"chainid": chain_id, "module": "proxy",
                                                       "action": "eth_getTransactionReceipt", "txhash": params["hash"]})
        if capability != "gas":
            return super().build_request(capability, params)
        return RequestSpec(
            path="/v2/api",
            params={"chainid": self._chain_id(params), "module": "gastracker", "action": "gasoracle"},
        )

    def _account_chain_id(self, params: Mapping[str, Any]) -> int:
        if params.get("chain") not in ACCOUNT_CHAIN_IDS:
            raise PermanentError(f"{self.slug}: no accounts on chain {params.get('chain')!r}")
        return ACCOUNT_CHAIN_IDS[params["chain"]]

    def _parse_onchain(self, capability: str, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        self._account_chain_id(params)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        self.raise_for_body_error(payload)
        result = payload.get("result")
        if capability == "address":
            # An address never used is a valid zero balance ("0").
            return make_address_balance(slug=self.slug, chain=params["chain"], address=params["address"],
                                        balance_raw=result).to_dict()
        if result is None:
            raise NotFound(f"{self.slug}: no receipt for {params['hash']}", field="hash", values=[params["hash"]])
        # Rollups (OP Stack) charge the L1 data fee on top of the L2 gas: read_receipt adds it.
        mined = read_receipt(result, params["hash"], slug=self.slug)
        return make_tx_status(slug=self.slug, chain=params["chain"], tx_hash=params["hash"], status=mined.status,
                              block=mined.block, fee_raw=mined.fee_raw).to_dict()

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability in ONCHAIN_CAPABILITIES:
            return self._parse_onchain(capability, params, payload)
        if capability != "gas":
            return super().parse(capability, params, payload)
        self._chain_id(params)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        self.raise_for_body_error(payload)
        result = payload.get("result")
        if not isinstance(result, Mapping):
            raise BadData(f"{self.slug}: result is not an object")
        estimate = make_gas(
            slug=self.slug,
            chain=params.get("chain", "ethereum"),
            unit="gwei",
            slow=result.get("SafeGasPrice"),
            standard=result.get("ProposeGasPrice"),
            fast=result.get("FastGasPrice"),
            base_fee=result.get("suggestBaseFee"),
        )
        return estimate.to_dict()

    def body_error(self, payload: Any) -> ProviderError | None:
        if not isinstance(payload, Mapping):
            return None
        if "jsonrpc" in payload:  # the proxy module: a JSON-RPC error object, else a result
            error = payload.get("error")
            if not isinstance(error, Mapping):
                return None
            message = str(error.get("message", ""))
            return ProviderError(f"JSON-RPC error {error.get('code')}: {message[:120]!r}", text=message)
        if str(payload.get("status")) == "1":
            return None
        # The reason is in result (message is just "NOTOK"); an invalid-key reason carries a
        # "|..." suffix that is cut off the summary.
        reason = str(payload.get("result") or payload.get("message") or "")
        return ProviderError(
            f"status {payload.get('status')!r} inside HTTP 200: {reason.split('|')[0][:120]!r}", text=reason
        )
