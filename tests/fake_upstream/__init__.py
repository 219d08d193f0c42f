"""A fake upstream for end-to-end tests and benchmarks: real provider answer shapes, faults on demand.

Runs as its own OS process (`python -m tests.fake_upstream --port N`), so every cryptohub server
process and the test process see the same faults and counters. Routes are `/{slug}/{path}`, and
every endpoint the adapters call answers in that provider's real shape: price, markets, global
and trending (coingecko, coinpaprika, coincap, coinlore, cryptocompare, binance and its mirror
binance_vision, binance_us, kraken, coinbase, kucoin, bitfinex, okx, dia; bitstamp, gemini, bybit
and gateio with their tickers, books and candles in more_exchanges.py), fear & greed
(alternative_me, coinmarketcap), TVL (defillama, yearn_ydaemon), fees (etherscan, mempool_space,
blockchair, and any JSON-RPC POST such as publicnode_eth's eth_gasPrice) and news (the coindesk,
cointelegraph, bitcoinist and decrypt feeds and more_feeds.py's eight, on any path under their
slug; cryptopanic), and on-chain balances and transactions
(chain_accounts.py: Etherscan, JSON-RPC nodes, Blockchair dashboards, mempool.space, Blockstream,
TronGrid; chain_explorers.py: Tronscan, Blockscout, Blockchain.com; all from one ledger). Every
answer is derived from one price table and one fee table, so providers agree until a test makes
one lie. Any other path answers a small
JSON 200. The control API lives under `/_control/` (see `FakeUpstream`).

market.py holds the tables, the state and the first price answers; aggregators.py, exchanges.py,
mirrors.py, onchain.py, feeds.py and more_feeds.py the other answers; depth.py the exchanges' candles and order books;
errors.py each provider's error bodies; server.py the ASGI app, faults and control API; this
module the client that starts the process. The tests' fixtures live in tests/fixtures/fake_upstream.py.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.redis_server import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
START_TIMEOUT_S = 15


class FakeUpstream:
    """Starts the fake in a subprocess and drives its control API."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen | None = None
        self._log = tempfile.TemporaryFile()
        self._client = httpx.Client(base_url=self.url, timeout=5)

    # The server module run as `python -m MODULE --port N` (the benchmark runs a wrapper of it).
    module = "tests.fake_upstream"

    def start(self) -> FakeUpstream:
        self._process = subprocess.Popen([sys.executable, "-m", self.module, "--port", str(self.port)],
                                         cwd=REPO_ROOT, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                self._client.get("/_control/calls").raise_for_status()
                return self
            except httpx.HTTPError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self._log.seek(0)
                    output = self._log.read().decode(errors="replace")[-2000:]
                    self.stop()
                    raise RuntimeError(f"fake upstream did not start on port {self.port}:\n{output}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self._client.close()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process = None
        self._log.close()

    def base_url(self, slug: str) -> str:
        return f"{self.url}/{slug}"

    def _post(self, action: str, body: dict[str, Any]) -> None:
        self._client.post(f"/_control/{action}", json=body).raise_for_status()

    def fault(self, slug: str, kind: str, **options: Any) -> None:
        """Inject a fault into every later call to `slug` ("*" = every provider).

        kinds and their options: latency (ms), hang, reset, status (status, body="html"|"json"),
        rate_limit (retry_after: seconds or HTTP date), teapot (retry_after), error_in_200
        (variant="rate_limit"), malformed, nested (depth: valid JSON that deep), oversized (bytes, chunked),
        ok (clears the fault).
        Any kind takes times=N (cleared after N calls) and path="/simple" (only paths under it).
        """
        self._post("fault", {"slug": slug, "kind": kind, **options})

    def set_price(self, slug: str | None, coin_id: str, vs: str, price: float) -> None:
        """Make one provider (or every provider, slug None) answer this price.

        It moves everything of that provider derived from the price: quotes, markets rows,
        trending prices, global totals and dominance, prices inside Blockchair's stats.
        """
        self._post("price", {"slug": slug, "id": coin_id, "vs": vs, "price": price})

    def set_gas(self, slug: str | None, chain: str, standard: float) -> None:
        """Make one provider (or every provider) answer this standard fee level for "ethereum" (gwei)
        or "bitcoin" (sat/vB); its slow and fast levels scale with it."""
        self._post("gas", {"slug": slug, "chain": chain, "standard": standard})

    def set_clock(self, epoch: float | None) -> None:
        self._post("clock", {"epoch": epoch})

    def reset(self) -> None:
        self._post("reset", {})

    def calls_detail(self) -> dict[str, Any]:
        return self._client.get("/_control/calls").json()

    def requests(self, slug: str | None = None) -> list[dict[str, Any]]:
        """The last requests received (slug, method, path, query, headers), oldest first."""
        recent = self._client.get("/_control/requests").json()
        return [r for r in recent if slug is None or r["slug"] == slug]

    def calls(self, slug: str | None = None) -> int:
        detail = self.calls_detail()
        return detail["total"] if slug is None else detail["by_slug"].get(slug, 0)
