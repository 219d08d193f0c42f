"""The chains the DEX capability knows, each provider's own id for them, and token address forms.

Callers name a chain once, the gateway's way ("ethereum", "bsc", ...; a few common aliases are
accepted); each DEX provider has its own network ids (DexScreener "ethereum", GeckoTerminal "eth").
Addresses are checked here, before any call: an EVM contract is 0x + 40 hex digits (compared in
lower case, as both providers answer), a Solana mint is 32-44 base58 characters (case matters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class DexChain:
    name: str  # the gateway's name, what callers send and answers carry
    dexscreener: str
    geckoterminal: str
    evm: bool = True  # False: Solana-style base58 addresses


CHAINS: dict[str, DexChain] = {chain.name: chain for chain in (
    DexChain("ethereum", "ethereum", "eth"),
    DexChain("bsc", "bsc", "bsc"),
    DexChain("base", "base", "base"),
    DexChain("arbitrum", "arbitrum", "arbitrum"),
    DexChain("polygon", "polygon", "polygon_pos"),
    DexChain("optimism", "optimism", "optimism"),
    DexChain("avalanche", "avalanche", "avax"),
    DexChain("solana", "solana", "solana", evm=False),
)}
# Other spellings callers use for the same chains.
ALIASES = {"eth": "ethereum", "mainnet": "ethereum", "bnb": "bsc", "binance-smart-chain": "bsc",
           "arbitrum-one": "arbitrum", "arb": "arbitrum", "matic": "polygon", "polygon_pos": "polygon",
           "op": "optimism", "avax": "avalanche", "sol": "solana"}

_EVM_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BASE58_ADDRESS = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$")


def chain_named(name: str) -> DexChain | None:
    key = name.strip().lower()
    return CHAINS.get(ALIASES.get(key, key))


def normalized_address(chain: DexChain, address: str) -> str | None:
    """The address in the form providers are asked and answer with, or None if it cannot be one on `chain`."""
    address = address.strip()
    if chain.evm:
        return address.lower() if _EVM_ADDRESS.match(address) else None
    return address if _BASE58_ADDRESS.match(address) else None


def same_address(chain: DexChain, a: object, b: object) -> bool:
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    return a.lower() == b.lower() if chain.evm else a == b
