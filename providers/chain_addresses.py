"""The chains the on-chain endpoints know, and the checks of an address or a transaction hash on each.

Everything is checked before any provider is called: a mistyped address must be the caller's 400,
never a spent call or a provider's fault. Checks are the chains' own: EVM `0x` + 40 hex with the
EIP-55 checksum when the address is mixed-case; Bitcoin base58check (P2PKH, P2SH) and
bech32/bech32m segwit (BIP-173, BIP-350); Tron base58check with its 0x41 version byte (T...).
Valid values come back normalized (EVM checksummed, bech32 and hashes in lower case) so that
equal requests share one cache key. `AddressError` carries the reason; the data plane names the field.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass

from Crypto.Hash import keccak


@dataclass(frozen=True)
class NativeCoin:
    family: str  # "evm", "bitcoin" or "tron": which address and hash rules apply
    symbol: str
    decimals: int  # smallest unit: wei (18), satoshi (8), sun (6)


CHAINS: dict[str, NativeCoin] = {
    "ethereum": NativeCoin("evm", "ETH", 18),
    "base": NativeCoin("evm", "ETH", 18),
    "arbitrum": NativeCoin("evm", "ETH", 18),
    "optimism": NativeCoin("evm", "ETH", 18),
    "polygon": NativeCoin("evm", "POL", 18),
    "bsc": NativeCoin("evm", "BNB", 18),
    "bitcoin": NativeCoin("bitcoin", "BTC", 8),
    "tron": NativeCoin("tron", "TRX", 6),
}
EVM_CHAINS = tuple(name for name, coin in CHAINS.items() if coin.family == "evm")

_EVM_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {c: i for i, c in enumerate(_BASE58)}
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(_BECH32)}
# BIP-350: segwit v0 uses bech32's constant, v1..v16 bech32m's.
_BECH32_CONST, _BECH32M_CONST = 1, 0x2BC830A3
BITCOIN_VERSIONS = {0x00: "P2PKH", 0x05: "P2SH"}  # mainnet base58check version bytes
TRON_VERSION = 0x41
MAX_ADDRESS_CHARS = 100  # longer is not an address on any chain here; refused before any parsing


class AddressError(ValueError):
    """Not a valid address or hash for the chain; the message says why."""


def coin_of(chain: str) -> NativeCoin:
    return CHAINS[chain]


# --- EVM ------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def evm_checksum(address: str) -> str:
    """The EIP-55 spelling of a 0x address: a letter is upper case where keccak(lowercase hex) nibble >= 8."""
    lower = address[2:].lower()
    digest = keccak.new(digest_bits=256, data=lower.encode()).hexdigest()
    return "0x" + "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(lower))


def _evm_address(address: str) -> str:
    if not _EVM_ADDRESS.match(address):
        raise AddressError("an EVM address is 0x followed by 40 hex digits")
    checksummed = evm_checksum(address)
    body = address[2:]
    # All one case carries no checksum (EIP-55); mixed case must be exactly the checksummed spelling.
    if body != body.lower() and body != body.upper() and address != checksummed:
        raise AddressError(f"EIP-55 checksum mismatch (expected {checksummed})")
    return checksummed


# --- base58check (Bitcoin legacy, Tron) --------------------------------------------------------------


def _base58check(address: str) -> bytes:
    """The payload of a base58check string (version byte first); AddressError if it does not check."""
    number = 0
    for char in address:
        if char not in _BASE58_INDEX:
            raise AddressError(f"{char!r} is not a base58 character")
        number = number * 58 + _BASE58_INDEX[char]
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    raw = b"\x00" * (len(address) - len(address.lstrip("1"))) + raw  # each leading "1" is a zero byte
    if len(raw) != 25:
        raise AddressError("a base58check address decodes to 25 bytes")
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        raise AddressError("base58check checksum mismatch")
    return payload


# --- bech32 / bech32m (BIP-173, BIP-350) -----------------------------------------------------------


def _polymod(values: list[int]) -> int:
    generators = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(generators):
            check ^= generator if (top >> i) & 1 else 0
    return check


def _convert_bits(data: list[int], from_bits: int, to_bits: int) -> bytes | None:
    """5-bit groups to bytes without padding; None when the leftover bits are not zero padding."""
    acc = bits = 0
    out = bytearray()
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & ((1 << to_bits) - 1))
    if bits >= from_bits or (acc << (to_bits - bits)) & ((1 << to_bits) - 1):
        return None
    return bytes(out)


def _segwit(address: str, hrp: str = "bc") -> str:
    if address != address.lower() and address != address.upper():
        raise AddressError("a bech32 address is all lower or all upper case")
    address = address.lower()
    human, _, data_part = address.rpartition("1")
    if human != hrp or len(data_part) < 7 or any(c not in _BECH32_INDEX for c in data_part):
        raise AddressError(f"a segwit address starts with {hrp}1 and uses the bech32 alphabet")
    data = [_BECH32_INDEX[c] for c in data_part]
    expanded = [ord(c) >> 5 for c in human] + [0] + [ord(c) & 31 for c in human]
    constant = _polymod(expanded + data)
    version = data[0]
    if constant != (_BECH32_CONST if version == 0 else _BECH32M_CONST):
        raise AddressError("bech32 checksum mismatch" if version == 0 else "bech32m checksum mismatch")
    program = _convert_bits(data[1:-6], 5, 8)
    if version > 16 or program is None or not 2 <= len(program) <= 40 or \
            (version == 0 and len(program) not in (20, 32)):
        raise AddressError("not a valid segwit program")
    return address


def _bitcoin_address(address: str) -> str:
    if address[:3].lower() == "bc1":
        return _segwit(address)
    if address[:1] not in ("1", "3"):
        raise AddressError("a Bitcoin address starts with 1, 3 or bc1")
    if _base58check(address)[0] not in BITCOIN_VERSIONS:
        raise AddressError("not a mainnet P2PKH or P2SH version byte")
    return address


def _tron_address(address: str) -> str:
    if not address.startswith("T"):
        raise AddressError("a Tron address starts with T")
    if _base58check(address)[0] != TRON_VERSION:
        raise AddressError("not a Tron (0x41) version byte")
    return address


_ADDRESS_CHECKS = {"evm": _evm_address, "bitcoin": _bitcoin_address, "tron": _tron_address}


# A bech32 polymod in pure Python costs ~70 us, close to a whole cache hit: popular addresses are
# asked again and again, so valid ones are remembered (bounded; a refusal is never cached).
@functools.lru_cache(maxsize=4096)
def normalize_address(chain: str, address: str) -> str:
    """The address in its normal spelling, or AddressError saying what is wrong with it."""
    if not address or len(address) > MAX_ADDRESS_CHARS:
        raise AddressError("an address is required" if not address else "far too long for an address")
    return _ADDRESS_CHECKS[CHAINS[chain].family](address)


def normalize_tx_hash(chain: str, tx_hash: str) -> str:
    """A transaction hash in lower case: 0x + 64 hex on EVM chains, 64 hex on Bitcoin and Tron."""
    evm = CHAINS[chain].family == "evm"
    digits = tx_hash[2:] if evm and tx_hash[:2].lower() == "0x" else tx_hash
    if (evm and digits is tx_hash) or not _HEX64.match(digits):
        raise AddressError("an EVM transaction hash is 0x followed by 64 hex digits" if evm
                           else "a transaction hash is 64 hex digits (no 0x)")
    return ("0x" if evm else "") + digits.lower()
