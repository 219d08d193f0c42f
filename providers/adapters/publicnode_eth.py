"""PublicNode Ethereum JSON-RPC (keyless): POST eth_gasPrice, the node's suggested price in wei.

JSON-RPC reports errors in an `error` object with HTTP 200. Only one level comes back, so the
estimate has `standard` and no slow/fast ladder.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, Outcome, PermanentError, ProviderError, RequestSpec
from providers.schemas import make_gas

REQUEST_ID = 1
WEI_PER_GWEI = 10**9


class PublicNodeEth(Adapter):
    slug = "publicnode_eth"
    capabilities = frozenset({"gas"})
    chains = frozenset({"ethereum"})
    # -32005 is the de-facto "limit exceeded" code; -32601 method not found; -32603 internal error.
    error_codes = {
        **dict.fromkeys((-32005, 429), Outcome.RATE_LIMITED),
        **dict.fromkeys((-32601, -32602, -32600), Outcome.PERMANENT),
        **dict.fromkeys((-32603, -32000), Outcome.TRANSIENT),
    }
    error_markers = dict.fromkeys(("rate limit", "too many"), Outcome.RATE_LIMITED)

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
        self.raise_for_body_error(payload)
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

    def body_error(self, payload: Any) -> ProviderError | None:
        error = payload.get("error") if isinstance(payload, Mapping) else None
        if not isinstance(error, Mapping):
            return None
        return ProviderError(
            f"JSON-RPC error {error.get('code')}: {str(error.get('message'))[:120]!r}",
            code=error.get("code"),
            text=str(error.get("message", "")),
        )
