"""GeckoTerminal: /networks/{network}/tokens/{address}/pools lists the pools holding a token ("dex").

JSON:API: `data` is a list of pools whose `attributes` hold decimal strings (base_token_price_usd,
quote_token_price_usd, reserve_in_usd, volume_usd.h24) and pool_created_at (ISO); the tokens and
the dex are `relationships` ids ("eth_0x...", "uniswap_v3"), spelled out in `included` when asked
for. Errors are {"errors": [{"status": "404", "title": "Not Found"}]}: a 404 with that body is an
unknown token; a token with no pools answers an empty `data`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, NotFound, Outcome, ProviderError, RequestSpec
from providers.adapters.dexscreener import dex_chain
from providers.defi_records import DexPair, make_dex_answer, make_dex_pair
from providers.dex_chains import DexChain, same_address
from providers.values import iso_from_string

MAX_POOLS_PAGE = 20  # GeckoTerminal's page size for a token's pools


def _related_id(pool: Mapping, name: str) -> str | None:
    relationships = pool.get("relationships") if isinstance(pool.get("relationships"), Mapping) else {}
    related = relationships.get(name) if isinstance(relationships.get(name), Mapping) else {}
    data = related.get("data") if isinstance(related.get("data"), Mapping) else {}
    return data.get("id") if isinstance(data.get("id"), str) else None


class GeckoTerminal(Adapter):
    slug = "geckoterminal"
    capabilities = frozenset({"dex"})
    error_codes = {"429": Outcome.RATE_LIMITED, "400": Outcome.PERMANENT, "404": Outcome.PERMANENT,
                   **{str(code): Outcome.TRANSIENT for code in range(500, 600)}}
    error_markers = {"rate limit": Outcome.RATE_LIMITED, "too many": Outcome.RATE_LIMITED}

    @staticmethod
    def _unknown_token(error: ProviderError | None) -> bool:
        # With a network id of ours, GeckoTerminal's own {"errors": [{"status": "404"}]} can only
        # mean the token; a 404 without that body (a proxy's page) stays a refusal.
        return error is not None and error.code == "404"

    def classify_http_error(self, status: int, payload: Any) -> Outcome:
        if status == 404 and self._unknown_token(self.body_error(payload)):
            return Outcome.NOT_FOUND
        return super().classify_http_error(status, payload)

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "dex":
            return super().build_request(capability, params)
        network = dex_chain(self.slug, params).geckoterminal
        return RequestSpec(path=f"/networks/{network}/tokens/{params['token']}/pools",
                           params={"include": "base_token,quote_token,dex", "page": 1})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "dex":
            return super().parse(capability, params, payload)
        chain = dex_chain(self.slug, params)
        if self._unknown_token(self.body_error(payload)):
            raise NotFound(f"{self.slug}: unknown token {params['token']}", field="token", values=[params["token"]])
        self.raise_for_body_error(payload)
        pools = payload.get("data") if isinstance(payload, Mapping) else None
        if not isinstance(pools, list):
            raise BadData(f"{self.slug}: expected {{data: [pools]}}")
        if not pools:
            raise NotFound(f"{self.slug}: no pools for {params['token']} on {chain.name}", field="token",
                           values=[params["token"]])
        included = payload.get("included") if isinstance(payload.get("included"), list) else []
        tokens = {item.get("id"): item.get("attributes") for item in included
                  if isinstance(item, Mapping) and item.get("type") == "token" and isinstance(item.get("attributes"),
                                                                                             Mapping)}
        priced = [self._pool(chain, params["token"], pool, tokens) for pool in pools[:MAX_POOLS_PAGE]]
        return make_dex_answer(slug=self.slug, chain=chain, token=params["token"], priced_pairs=priced).to_dict()

    def _token(self, chain: DexChain, pool: Mapping, side: str, tokens: Mapping) -> tuple[str | None, str | None]:
        token_id = _related_id(pool, side)
        attributes = tokens.get(token_id) or {}
        address = attributes.get("address")
        if not address and token_id:
            address = token_id.removeprefix(f"{chain.geckoterminal}_")  # ids are "<network>_<address>"
        return address, attributes.get("symbol")

    def _pool(self, chain: DexChain, token: str, pool: Any, tokens: Mapping) -> tuple[DexPair, Any]:
        if not isinstance(pool, Mapping) or not isinstance(pool.get("attributes"), Mapping):
            raise BadData(f"{self.slug}: a pool without attributes")
        attributes = pool["attributes"]
        base_address, base_symbol = self._token(chain, pool, "base_token", tokens)
        quote_address, quote_symbol = self._token(chain, pool, "quote_token", tokens)
        volume = attributes.get("volume_usd") if isinstance(attributes.get("volume_usd"), Mapping) else {}
        pair = make_dex_pair(
            slug=self.slug, dex=_related_id(pool, "dex"), pair_address=attributes.get("address"),
            base_address=base_address, base_symbol=base_symbol, quote_address=quote_address,
            quote_symbol=quote_symbol, price_usd=attributes.get("base_token_price_usd"),
            liquidity_usd=attributes.get("reserve_in_usd"), volume_24h_usd=volume.get("h24"),
            created_at=iso_from_string(attributes.get("pool_created_at"), slug=self.slug),
        )
        side = "base" if same_address(chain, base_address, token) else "quote"
        return pair, attributes.get(f"{side}_token_price_usd")

    def body_error(self, payload: Any) -> ProviderError | None:
        errors = payload.get("errors") if isinstance(payload, Mapping) else None
        if not isinstance(errors, list) or not errors or not isinstance(errors[0], Mapping):
            return None
        first = errors[0]
        text = str(first.get("title") or first.get("detail") or "")
        return ProviderError(f"error {first.get('status')!r}: {text[:120]!r}", code=str(first.get("status")), text=text)
