"""What one attempt on one provider does: call -> classify -> parse -> validate.

These are the chain's `Call`s (healing.engine.chain): `prepare` builds the request once per
candidate (the adapter's pure `build_request`), then each call goes through the one HTTP seam
(healing.engine.http.call_provider) and its answer is classified. `DataCall` turns a 2xx answer
into normalized data and rejects implausible data (timestamps far in the future of the engine
clock are bad data, not news); `RawCall` passes the provider's own answer through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from healing.engine.candidates import Candidate
from healing.engine.deps import Deps
from healing.engine.http import Failure, RawResponse, call_provider, classify_status, parse_answer
from providers.adapters.base import AdapterError, Outcome, RequestSpec
from providers.schemas import check_not_future

# Where each capability's answer carries the provider's own timestamp: one far in the future
# (beyond providers.schemas.MAX_FUTURE_SKEW_S of the engine clock) is bad data, not news.
TIMESTAMP_FIELDS: Mapping[str, str] = MappingProxyType({
    "price": "last_updated", "markets": "last_updated", "global": "updated_at", "gas": "source_time",
    "fear_greed": "timestamp", "tx": "timestamp", "candles": "open_time", "orderbook": "timestamp",
    "ticker": "close_time",
})


def check_plausible(capability: str, data: Any, now: float, slug: str) -> None:
    """BadData when an answer's own timestamps lie far in the future of the engine clock."""
    name = TIMESTAMP_FIELDS.get(capability)
    if name is None:
        return
    for item in data if isinstance(data, list) else [data]:
        if isinstance(item, Mapping) and isinstance(item.get(name), str):
            check_not_future(item[name], now, slug=slug)


async def _send(deps: Deps, cand: Candidate, spec: RequestSpec, deadline: float) -> RawResponse:
    max_body = deps.settings.max_body_bytes
    return await call_provider(deps.http, cand.cfg, spec, deadline=deadline, max_body_bytes=max_body)


@dataclass(frozen=True)
class DataCall:
    """One attempt of a capability request: normalized, validated data, or a classified Failure."""

    deps: Deps
    capability: str
    params: Mapping[str, Any]

    def prepare(self, cand: Candidate) -> RequestSpec:
        return cand.adapter.build_request(self.capability, self.params)

    async def __call__(self, cand: Candidate, spec: RequestSpec, deadline: float) -> tuple[Any, str]:
        response = await _send(self.deps, cand, spec, deadline)
        if not 200 <= response.status < 300:
            raise classify_status(cand.adapter, response, self.deps.clock())
        data = parse_answer(cand.adapter, self.capability, self.params, response)
        try:
            check_plausible(self.capability, data, self.deps.clock(), cand.slug)
        except AdapterError as exc:
            raise Failure(exc.outcome.value, str(exc)) from None
        return data, Outcome.OK.value


@dataclass(frozen=True)
class RawCall:
    """One attempt of a raw call: 2xx and the provider's own 4xx answers come back as they are."""

    deps: Deps
    spec: RequestSpec

    def prepare(self, cand: Candidate) -> RequestSpec:
        return self.spec

    async def __call__(self, cand: Candidate, spec: RequestSpec, deadline: float) -> tuple[RawResponse, str]:
        response = await _send(self.deps, cand, spec, deadline)
        if 200 <= response.status < 300:
            return response, Outcome.OK.value
        failure = classify_status(cand.adapter, response, self.deps.clock())
        if failure.outcome == Outcome.PERMANENT.value:
            return response, Outcome.PERMANENT.value  # the provider's own answer: the caller sees it
        raise failure
