"""Parameters of the DeFi data endpoints: /api/data/dex, /api/data/stablecoins, /api/data/yields.

healing.dataplane.params adds these routes to its table (`ROUTES` holds the arguments of each
CapabilityRoute), so nothing here imports params: the shared pieces come from param_errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from healing.dataplane.param_errors import ParamError, whole_number
from providers.defi_records import (
    STABLECOINS_DEFAULT_LIMIT,
    STABLECOINS_MAX_LIMIT,
    YIELDS_DEFAULT_LIMIT,
    YIELDS_MAX_LIMIT,
)
from providers.dex_chains import CHAINS, chain_named, normalized_address

DEX_DEFAULT_CHAIN = "ethereum"
# DefiLlama's chain names ("Ethereum", "BSC", "Arbitrum") and project slugs ("aave-v3", "lido").
_YIELD_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9 ._-]{0,63}$")


def _limit(query: Mapping[str, str], *, default: int, high: int) -> int:
    return whole_number(query, "limit", default=default, low=1, high=high)


def dex_params(query: Mapping[str, str]) -> dict[str, Any]:
    """chain (default ethereum, aliases accepted) and a token address valid on that chain."""
    chain = chain_named(query.get("chain") or DEX_DEFAULT_CHAIN)
    if chain is None:
        raise ParamError("chain", f"chain must be one of {', '.join(CHAINS)}, got {(query.get('chain') or '')[:20]!r}")
    raw = (query.get("token") or "").strip()
    if not raw:
        raise ParamError("token", "token is required: the token's contract address (0x... on EVM chains, "
                              "a base58 mint on solana)")
    token = normalized_address(chain, raw)
    if token is None:
        form = "0x followed by 40 hex digits" if chain.evm else "32-44 base58 characters"
        raise ParamError("token", f"{raw[:50]!r} is not a token address on {chain.name} ({form})")
    return {"chain": chain.name, "token": token}


def stablecoins_params(query: Mapping[str, str]) -> dict[str, Any]:
    return {"limit": _limit(query, default=STABLECOINS_DEFAULT_LIMIT, high=STABLECOINS_MAX_LIMIT)}


def _yield_name(query: Mapping[str, str], name: str, example: str) -> str | None:
    raw = query.get(name)
    if raw is None or not raw.strip():
        return None
    value = " ".join(raw.strip().lower().split())
    if not _YIELD_NAME_RE.match(value):
        raise ParamError(name, f"{raw[:40]!r} is not a {name} name (letters, digits, ' ', '.', '_', '-'), e.g. "
                           f"{name}={example}")
    return value


def yields_params(query: Mapping[str, str]) -> dict[str, Any]:
    return {"chain": _yield_name(query, "chain", "ethereum"), "project": _yield_name(query, "project", "aave-v3"),
            "limit": _limit(query, default=YIELDS_DEFAULT_LIMIT, high=YIELDS_MAX_LIMIT)}


# (name, capability, validator, example, summary, accepts) of each CapabilityRoute.
ROUTES = (
    ("dex", "dex", dex_params, "/api/data/dex?chain=ethereum&token=0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2",
     "DEX pairs of a token on one chain and its price (the most liquid pair's)", ("chain", "token")),
    ("stablecoins", "stablecoins", stablecoins_params, "/api/data/stablecoins?limit=20",
     "Stablecoins: peg, circulating supply, price, deviation from a USD peg, chains", ("limit",)),
    ("yields", "yields", yields_params, "/api/data/yields?chain=ethereum&project=aave-v3&limit=10",
     "DeFi yield pools by TVL, with APY (one provider: DefiLlama; when it fails, a stale copy or a 503)",
     ("chain", "project", "limit")),
)
