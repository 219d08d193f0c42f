"""Drop-in APIs: other providers' request and answer shapes over cryptohub's engine.

An application that already speaks CoinGecko's or Binance's public API points its client at
`/compat/coingecko/api/v3/` or `/compat/binance/api/v3/` and gets the pools, breakers, shared
limits, cache, coalescing and fallback underneath. Each dialect (`coingecko`, `binance`) turns a
request into a plan over the normalized capabilities (`core.OneAnswer`, `core.Composite`) and
shapes the normalized data back into the provider's answer; `serve` runs plans, answers errors in
the dialect's own shape and lets the data plane's fast path answer repeated single-answer hits.
"""
