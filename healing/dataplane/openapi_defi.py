"""OpenAPI tables of the DeFi endpoints (dex, stablecoins, yields), merged into
healing.dataplane.openapi's DATACLASSES, DATA_SCHEMAS and ROUTE_PARAMS. Imports nothing of
openapi (which imports this module), so its few schema helpers are spelled out here."""

from __future__ import annotations

from typing import Any

from healing.dataplane import params_defi
from healing.dataplane.openapi_parts import query_param as _query
from healing.dataplane.openapi_parts import ref as _ref
from providers import defi_records
from providers.dex_chains import CHAINS

Schema = dict[str, Any]

# The normalized shapes (components are derived from the dataclasses, nested ones by reference).
DATACLASSES = (defi_records.DexPair, defi_records.DexTokenAnswer, defi_records.Stablecoin, defi_records.YieldPool)


def _limit(default: int, high: int, text: str) -> Schema:
    return _query("limit", text, {"type": "integer", "minimum": 1, "maximum": high, "default": default})


DATA_SCHEMAS: dict[str, Schema] = {
    "dex": _ref("DexTokenAnswer"),
    "stablecoins": {"type": "array", "items": _ref("Stablecoin")},
    "yields": {"type": "array", "items": _ref("YieldPool")},
}

ROUTE_PARAMS: dict[str, list[Schema]] = {
    "dex": [
        _query("chain", "The chain the token lives on (aliases such as eth, matic, sol are accepted).",
               {"type": "string", "enum": list(CHAINS), "default": params_defi.DEX_DEFAULT_CHAIN}),
        _query("token", "The token's contract address: 0x + 40 hex digits on EVM chains, a base58 mint on solana. "
                        "A token without any DEX pair is a 404.",
               {"type": "string", "example": "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"}, required=True),
    ],
    "stablecoins": [_limit(defi_records.STABLECOINS_DEFAULT_LIMIT, defi_records.STABLECOINS_MAX_LIMIT,
                           "How many stablecoins, largest circulating value first.")],
    "yields": [
        _query("chain", "Only pools on this chain (DefiLlama's chain name, case-insensitive).",
               {"type": "string", "example": "ethereum"}),
        _query("project", "Only pools of this project (DefiLlama's project slug).",
               {"type": "string", "example": "aave-v3"}),
        _limit(defi_records.YIELDS_DEFAULT_LIMIT, defi_records.YIELDS_MAX_LIMIT, "How many pools, largest TVL first."),
    ],
}
