"""What every EVM source shares: JSON-RPC call objects and quantities, and the reading of a
transaction receipt (Etherscan's proxy module and the JSON-RPC nodes answer the same receipt).

A receipt says the outcome (`status` 0x1 mined and succeeded, 0x0 mined and reverted), the block,
and the fee: gasUsed × effectiveGasPrice, plus the L1 data fee rollups (OP Stack) add as `l1Fee`.
It has neither the chain tip nor the block's time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from providers.adapters.base import BadData
from providers.onchain_records import raw_amount

RECEIPT_STATUSES = {"0x1": "confirmed", "0x0": "failed"}


@dataclass(frozen=True)
class Receipt:
    status: str  # "confirmed" or "failed"
    block: int | None
    fee_raw: int | None  # wei; None when the receipt lacks gasUsed or effectiveGasPrice


def call(request_id: int, method: str, *args: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(args)}


def hex_quantity(value: Any, slug: str) -> int:
    """A JSON-RPC QUANTITY ("0x" hex); anything else is bad data."""
    if not isinstance(value, str) or not value.startswith("0x"):
        raise BadData(f"{slug}: result is not a hex quantity")
    try:
        return int(value, 16)
    except ValueError:
        raise BadData(f"{slug}: result {value[:20]!r} is not hex") from None


def read_receipt(receipt: Any, tx_hash: str, *, slug: str) -> Receipt:
    """The outcome, block and fee of a receipt for `tx_hash` (lower case); BadData otherwise."""
    if not isinstance(receipt, Mapping):
        raise BadData(f"{slug}: receipt is not an object")
    if str(receipt.get("transactionHash", "")).lower() != tx_hash:
        raise BadData(f"{slug}: receipt for another transaction")
    status = RECEIPT_STATUSES.get(receipt.get("status"))
    if status is None:
        # Pre-Byzantium receipts carry a state root instead: no outcome to report.
        raise BadData(f"{slug}: receipt status {receipt.get('status')!r}")
    gas_used = raw_amount(receipt.get("gasUsed"), "gasUsed", slug=slug)
    price = raw_amount(receipt.get("effectiveGasPrice"), "effectiveGasPrice", slug=slug)
    l1_fee = raw_amount(receipt.get("l1Fee"), "l1Fee", slug=slug) or 0
    fee = None if gas_used is None or price is None else gas_used * price + l1_fee
    return Receipt(status=status, block=raw_amount(receipt.get("blockNumber"), "blockNumber", slug=slug), fee_raw=fee)
