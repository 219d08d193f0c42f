"""OpenAPI tables of the on-chain endpoints (address, tx), merged into healing.dataplane.openapi's."""

from __future__ import annotations

from typing import Any

from healing.dataplane.openapi_parts import query_param
from healing.dataplane.params_onchain import DEFAULT_CHAIN, ONCHAIN_CHAINS
from providers import onchain_records

ONCHAIN_DATACLASSES = (onchain_records.AddressBalance, onchain_records.TxStatus)
ONCHAIN_DATA_SCHEMAS: dict[str, Any] = {
    "address": {"$ref": "#/components/schemas/AddressBalance"},
    "tx": {"$ref": "#/components/schemas/TxStatus"},
}


def _query(name: str, text: str, *, required: bool = False, **schema: Any) -> dict[str, Any]:
    return query_param(name, text, {"type": "string", **schema}, required=required)


_CHAIN = _query("chain", "Which chain (EVM chains through Etherscan V2's chainid, Bitcoin, Tron).",
                enum=list(ONCHAIN_CHAINS), default=DEFAULT_CHAIN)
ONCHAIN_ROUTE_PARAMS: dict[str, list[dict[str, Any]]] = {
    "address": [_CHAIN, _query(
        "address", "EVM 0x + 40 hex (a mixed-case spelling must carry a valid EIP-55 checksum); Bitcoin "
        "base58check (1..., 3...) or bech32/bech32m (bc1...); Tron base58check (T...). Checked before any call.",
        required=True, example="0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045")],
    "tx": [_CHAIN, _query(
        "hash", "Transaction hash: 0x + 64 hex on EVM chains, 64 hex on Bitcoin and Tron. Unknown: 404.",
        required=True, pattern="^(0x)?[0-9a-fA-F]{64}$")],
}
