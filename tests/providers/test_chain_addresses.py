"""Address and hash checks per chain (the published test vectors of EIP-55, BIP-173 and BIP-350)
and the on-chain record builders' plausibility rules."""

import pytest

from providers.adapters.base import BadData
from providers.chain_addresses import AddressError, normalize_address, normalize_tx_hash
from providers.onchain_records import make_address_balance, make_tx_status

EIP55 = ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
         "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"]


@pytest.mark.parametrize("address", EIP55)
@pytest.mark.parametrize("chain", ["ethereum", "base", "bsc"])
def test_evm_addresses_normalize_to_their_eip55_spelling(chain, address):
    assert normalize_address(chain, address) == address
    assert normalize_address(chain, address.lower()) == address
    assert normalize_address(chain, "0x" + address[2:].upper()) == address


@pytest.mark.parametrize(("address", "reason"), [
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "checksum"),  # one letter's case flipped
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA", "40 hex"),
    ("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00", "40 hex"),
    ("0xZZAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "40 hex"),
])
def test_bad_evm_addresses(address, reason):
    with pytest.raises(AddressError, match=reason):
        normalize_address("ethereum", address)


@pytest.mark.parametrize(("address", "normal"), [
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),  # P2PKH
    ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),  # P2SH
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),  # v0, BIP-173
    ("bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
     "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"),  # v0 P2WSH
    ("bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297",
     "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"),  # v1 taproot, BIP-350
])
def test_bitcoin_addresses(address, normal):
    assert normalize_address("bitcoin", address) == normal


@pytest.mark.parametrize("address", [
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",  # base58check checksum
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7Divf0a",  # 0 is not base58
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # bech32 checksum
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # v0 with bech32m's checksum (BIP-350 invalid)
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # v1 with bech32's checksum
    "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # mixed case
    "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",  # testnet
    "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",  # a Tron address
])
def test_bad_bitcoin_addresses(address):
    with pytest.raises(AddressError):
        normalize_address("bitcoin", address)


def test_tron_addresses():
    assert normalize_address("tron", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t") == "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    for bad in ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "T" * 34, "x" * 500):
        with pytest.raises(AddressError):
            normalize_address("tron", bad)


def test_transaction_hashes():
    assert normalize_tx_hash("ethereum", "0X" + "AB" * 32) == "0x" + "ab" * 32
    assert normalize_tx_hash("bitcoin", "AB" * 32) == normalize_tx_hash("tron", "ab" * 32) == "ab" * 32
    for chain, bad in [("ethereum", "ab" * 32), ("ethereum", "0x" + "ab" * 31), ("bitcoin", "0x" + "ab" * 32),
                       ("tron", "zz" * 32), ("bitcoin", "")]:
        with pytest.raises(AddressError):
            normalize_tx_hash(chain, bad)


# --- record builders --------------------------------------------------------------------------------


def test_wei_beyond_a_float_survive_as_the_raw_string():
    record = make_address_balance(slug="t", chain="ethereum", address="0x", balance_raw="123456789012345678901234567")
    assert record.balance_raw == "123456789012345678901234567" and record.balance == pytest.approx(123456789.0123457)


@pytest.mark.parametrize("kwargs", [
    {"balance_raw": -1}, {"balance_raw": None}, {"balance_raw": 1.5}, {"balance_raw": "1e3"},
    {"balance_raw": 1, "tx_count": -2}, {"balance_raw": 1, "tx_count": 1, "recent_transactions": ["a", "b"]},
])
def test_implausible_balances_are_bad_data(kwargs):
    with pytest.raises(BadData):
        make_address_balance(slug="t", chain="bitcoin", address="1x", **kwargs)


@pytest.mark.parametrize("kwargs", [
    {"status": "confirmed"},  # no block
    {"status": "confirmed", "block": 10, "confirmations": 0},
    {"status": "confirmed", "block": 10, "confirmations": -3},
    {"status": "pending", "block": 10},
    {"status": "failed", "block": 10, "fee_raw": -1},
    {"status": "confirmed", "block": 10, "block_epoch_s": 1_749_600_000, "answer_epoch_s": 1_749_500_000},
    {"status": "confirmed", "block": 10, "block_epoch_s": 1_749_600_000_000},  # milliseconds sent as seconds
])
def test_implausible_transactions_are_bad_data(kwargs):
    with pytest.raises(BadData):
        make_tx_status(slug="t", chain="bitcoin", tx_hash="ab" * 32, **kwargs)
