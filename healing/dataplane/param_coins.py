"""How a data request names coins and currencies, shared by the validators of every endpoint
family (params, params_depth, ...): a module of its own so they use it without importing
healing.dataplane.params, which imports those families for its route table."""

from __future__ import annotations

import re
from collections.abc import Mapping

from healing.dataplane.param_errors import ParamError
from providers import assets

# Longest coin id, in characters (CoinGecko's longest are around 60).
MAX_ID_CHARS = 100
_ID_RE = re.compile(r"^[a-z0-9-]+$")
# What a caller may name a coin by besides its id: a ticker symbol (any case, e.g. BTC, 1INCH) or
# `chain:contract` (a hex or base58 address).
_SYMBOL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,19}$")
_CONTRACT_RE = re.compile(r"^[a-z0-9-]{1,40}:(0x[0-9a-fA-F]{40}|[1-9A-HJ-NP-Za-km-z]{25,50})$")
_VS_RE = re.compile(r"^[a-z]{2,10}$")


def coin_id(token: str, field: str) -> str:
    """The coin id a caller means by an id, a ticker symbol or `chain:contract` (see providers.assets).

    An id the registry does not hold yet is passed on as it is: id-based providers (CoinGecko)
    may still know it, and when none does the answer is a 404 with close matches.
    """
    if len(token) > MAX_ID_CHARS:
        raise ParamError(field, f"a coin id is at most {MAX_ID_CHARS} characters, got {token[:40]!r}...")
    is_contract = _CONTRACT_RE.match(token) is not None
    if not (is_contract or _ID_RE.match(token.lower()) or _SYMBOL_RE.match(token)):
        raise ParamError(field, f"{token[:40]!r} is not a coin id, symbol or chain:contract "
                                "(e.g. bitcoin, BTC, eth:0xdac17f958d2ee523a2206206994597c13d831ec7)")
    try:
        return assets.current().resolve(token)
    except assets.AmbiguousAsset as exc:
        raise ParamError(field, f"{token!r} is the symbol of several coins; name one by its id",
                         code="ambiguous", candidates=exc.candidates) from None
    except assets.UnknownAsset as exc:
        if is_contract:
            raise ParamError(field, f"no coin with the contract {token!r}", status=404, values=[token]) from None
        if not _ID_RE.match(token.lower()):
            raise ParamError(field, f"{token[:40]!r} is not a coin id", status=404, values=[token],
                             close_matches={token: exc.close}) from None
        return token.lower()


def vs_code(query: Mapping[str, str]) -> str:
    vs = (query.get("vs") or "usd").strip().lower()
    if not _VS_RE.match(vs):
        raise ParamError("vs", f"{vs[:20]!r} is not a currency code (2-10 letters, e.g. usd, eur, btc)")
    return vs
