"""Normalized on-chain records: an address's native balance (AddressBalance) and a transaction's
status (TxStatus), the same whichever provider answered.

Amounts come twice: as a number in the chain's coin (ETH, BTC, TRX) for people, and as the exact
integer in the smallest unit (wei, satoshi, sun) as a string, since wei do not fit a float. The
make_* builders reject what cannot be true (negative amounts, a confirmed transaction without a
block, confirmations below zero, times in the future of the answer's clock) as bad data, so a
broken provider falls back instead of reaching a caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from providers.adapters.base import BadData, PermanentError
from providers.chain_addresses import coin_of
from providers.values import check_not_future, iso_from_epoch

TX_STATUSES = ("pending", "confirmed", "failed")
# Recent transactions listed per address, newest first (providers that list them send more).
RECENT_TX_LIMIT = 10


@dataclass(frozen=True)
class AddressBalance:
    """An address's native-coin balance. `tx_count` and `recent_transactions` (hashes, newest first)
    are null when the provider that answered does not report them; an unused address is a zero balance."""

    chain: str
    address: str
    symbol: str
    balance: float  # in the coin: ETH, BTC, TRX
    balance_raw: str  # exact integer in the smallest unit (wei, satoshi, sun)
    decimals: int
    tx_count: int | None = None
    recent_transactions: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.recent_transactions is not None:
            data["recent_transactions"] = list(self.recent_transactions)
        return data


@dataclass(frozen=True)
class TxStatus:
    """A transaction: pending (in the mempool), confirmed, or failed (mined but reverted). `block`,
    `confirmations`, `fee` and `timestamp` (the block's time) are null when unknown or pending."""

    chain: str
    hash: str
    status: str
    symbol: str
    block: int | None = None
    confirmations: int | None = None
    fee: float | None = None  # in the coin
    fee_raw: str | None = None  # exact integer in the smallest unit
    timestamp: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def require_chain(slug: str, chains: frozenset[str], params: Mapping[str, Any]) -> None:
    """Refuse, before any call, a chain the source does not serve (the pool's next member may)."""
    if params.get("chain") not in chains:
        served = ", ".join(chain.title() for chain in sorted(chains))
        raise PermanentError(f"{slug}: serves {served} only, not {params.get('chain')!r}")


def raw_amount(value: Any, field: str, *, slug: str) -> int | None:
    """An integer amount in the smallest unit from an int, a decimal string or a 0x hex quantity."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or isinstance(value, float):
        # A float has already lost the low digits of a wei amount (and a fraction is no smallest unit).
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        raise BadData(f"{slug}: {field} is not an integer amount ({value!r})")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text, 16) if text[:2].lower() == "0x" else int(text, 10)
    except ValueError:
        raise BadData(f"{slug}: {field} is not an integer amount ({text[:40]!r})") from None


def _non_negative(value: int | None, field: str, slug: str) -> int | None:
    if value is not None and value < 0:
        raise BadData(f"{slug}: negative {field} {value}")
    return value


def _in_coin(raw: int, decimals: int) -> float:
    return raw / 10**decimals  # int / int is correctly rounded, unlike float(raw) / 1e18


def make_address_balance(
    *, slug: str, chain: str, address: str, balance_raw: Any, tx_count: Any = None,
    recent_transactions: Iterable[str] | None = None,
) -> AddressBalance:
    coin = coin_of(chain)
    raw = _non_negative(raw_amount(balance_raw, "balance", slug=slug), "balance", slug)
    if raw is None:
        raise BadData(f"{slug}: balance is missing")
    count = _non_negative(raw_amount(tx_count, "tx_count", slug=slug), "tx_count", slug)
    recent = None
    if recent_transactions is not None:
        recent = tuple(str(h) for h in recent_transactions)[:RECENT_TX_LIMIT]
        if count is not None and len(recent) > count:
            raise BadData(f"{slug}: more recent transactions ({len(recent)}) than tx_count {count}")
    return AddressBalance(chain=chain, address=address, symbol=coin.symbol, balance=_in_coin(raw, coin.decimals),
                          balance_raw=str(raw), decimals=coin.decimals, tx_count=count, recent_transactions=recent)


def make_tx_status(
    *, slug: str, chain: str, tx_hash: str, status: str, block: Any = None, confirmations: Any = None,
    fee_raw: Any = None, block_epoch_s: float | None = None, answer_epoch_s: float | None = None,
) -> TxStatus:
    """A validated TxStatus; `answer_epoch_s` is the provider's own clock, when its answer has one."""
    if status not in TX_STATUSES:
        raise ValueError(f"unknown transaction status {status!r}")
    coin = coin_of(chain)
    height = _non_negative(raw_amount(block, "block", slug=slug), "block", slug)
    depth = _non_negative(raw_amount(confirmations, "confirmations", slug=slug), "confirmations", slug)
    fee = _non_negative(raw_amount(fee_raw, "fee", slug=slug), "fee", slug)
    if status == "pending":
        if height is not None or depth:
            raise BadData(f"{slug}: a pending transaction with a block or confirmations")
        depth = 0 if depth is None else depth
    else:
        if height is None:
            raise BadData(f"{slug}: a {status} transaction without a block")
        if depth is not None and depth < 1:
            raise BadData(f"{slug}: a {status} transaction with {depth} confirmations")
    timestamp = iso_from_epoch(block_epoch_s, slug=slug)
    check_not_future(timestamp, answer_epoch_s, slug=slug)
    return TxStatus(chain=chain, hash=tx_hash, status=status, symbol=coin.symbol, block=height, confirmations=depth,
                    fee=None if fee is None else _in_coin(fee, coin.decimals),
                    fee_raw=None if fee is None else str(fee), timestamp=timestamp)
