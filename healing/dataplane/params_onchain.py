"""Parameters of the on-chain endpoints: /api/data/address?chain=&address= and /api/data/tx?chain=&hash=.

The address or hash is checked with the chain's own rules (providers.chain_addresses) before any
provider is called, and normalized so equal requests share a cache key. A bad value is a 400
naming `address` or `hash`. Nothing here imports healing.dataplane.params, which imports this
module for its route table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from healing.dataplane.param_errors import ParamError
from providers.chain_addresses import CHAINS, AddressError, normalize_address, normalize_tx_hash

ONCHAIN_CHAINS = tuple(CHAINS)
DEFAULT_CHAIN = "ethereum"


def _fail(field: str, detail: str) -> None:
    raise ParamError(field, detail)


def _chain(query: Mapping[str, str]) -> str:
    chain = (query.get("chain") or DEFAULT_CHAIN).strip().lower()
    if chain not in CHAINS:
        _fail("chain", f"chain must be one of {', '.join(ONCHAIN_CHAINS)}, got {chain[:20]!r}")
    return chain


def _required(query: Mapping[str, str], name: str, example: str) -> str:
    value = (query.get(name) or "").strip()
    if not value:
        _fail(name, f"{name} is required, e.g. {name}={example}")
    return value


def address_params(query: Mapping[str, str]) -> dict[str, Any]:
    chain = _chain(query)
    raw = _required(query, "address", "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045")
    try:
        return {"chain": chain, "address": normalize_address(chain, raw)}
    except AddressError as exc:
        _fail("address", f"{raw[:100]!r} is not a {chain} address: {exc}")
        raise  # unreachable: _fail raises


def tx_params(query: Mapping[str, str]) -> dict[str, Any]:
    chain = _chain(query)
    raw = _required(query, "hash", "0x" + "ab" * 32)
    try:
        return {"chain": chain, "hash": normalize_tx_hash(chain, raw)}
    except AddressError as exc:
        _fail("hash", f"{raw[:100]!r} is not a {chain} transaction hash: {exc}")
        raise
