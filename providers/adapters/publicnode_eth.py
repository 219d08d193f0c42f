"""PublicNode Ethereum JSON-RPC (keyless): POST eth_gasPrice, the node's suggested price in wei.

JSON-RPC reports errors in an `error` object with HTTP 200. Only one level comes back, so the
estimate has `standard` and no slow/fast ladder.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, AdapterError, BadData, Outcome, PermanentError, RequestSpec
from providers.schemas import make_gas

REQUEST_ID = 1
WEI_PER_GWEI = 10**9
# -32005 is the de-facto "limit exceeded" code; -32601 method not found; -32603 internal error.
RATE_LIMIT_CODES = frozenset({-32005, 429})
PERMANENT_CODES = frozenset({-32601, -32602, -32600})
TRANSIENT_CODES = frozenset({-32603, -32000})


def _error_outcome(error: Mapping[str, Any]) -> Outcome:
    code = error.get("code")
    message = str(error.get("message", "")).lower()
    if code in RATE_LIMIT_CODES or "rate limit" in message or "too many" in message:
        return Outcome.RATE_LIMITED
    if code in PERMANENT_CODES:
        return Outcome.PERMANENT
    if code in TRANSIENT_CODES:
        return Outcome.TRANSIENT
    return Outcome.BAD_DATA


class PublicNodeEth(Adapter):
    slug = "publicnode_eth"
    capabilities = frozenset({"gas"})
    chains = frozenset({"ethereum"})

    def _check_chain(self, params: Mapping[str, Any]) -> None:
        if params.get("chain", "ethereum") not in self.chains:
            raise PermanentError(f"{self.slug}: serves Ethereum only, not {params.get('chain')!r}")

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "gas":
            return super().build_request(capability, params)
        self._check_chain(params)
        return RequestSpec(
            path="/",
            method="POST",
            json_body={"jsonrpc": "2.0", "id": REQUEST_ID, "method": "eth_gasPrice", "params": []},
        )

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "gas":
            return super().parse(capability, params, payload)
        self._check_chain(params)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected a JSON-RPC response object")
        error = payload.get("error")
        if isinstance(error, Mapping):
            raise AdapterError(
                f"{self.slug}: JSON-RPC error {error.get('code')}: {str(error.get('message'))[:120]!r}",
                outcome=_error_outcome(error),
            )
        if payload.get("id") != REQUEST_ID:
            raise BadData(f"{self.slug}: answer to another request (id {payload.get('id')!r})")
        result = payload.get("result")
        if not isinstance(result, str) or not result.startswith("0x"):
            raise BadData(f"{self.slug}: result is not a hex quantity")
        try:
            wei = int(result, 16)
        except ValueError as exc:
            raise BadData(f"{self.slug}: result {result[:20]!r} is not hex") from exc
        estimate = make_gas(slug=self.slug, chain="ethereum", unit="gwei", standard=wei / WEI_PER_GWEI)
        return estimate.to_dict()

    def classify_http_error(self, status: int, payload: Any) -> Outcome:
        if isinstance(payload, Mapping) and isinstance(payload.get("error"), Mapping):
            if _error_outcome(payload["error"]) == Outcome.RATE_LIMITED:
                return Outcome.RATE_LIMITED
        return super().classify_http_error(status, payload)
