"""feed.js and the live parts of the frame in a real headless Chromium.

The client's behaviour (batched subscribe, re-subscribe after a reconnect and on `resync`,
dispatch, presence, backoff) is checked against a stand-in WebSocket installed in the page, so
every message it sends can be read. Then against the real server: #feed-status goes live, goes
offline when the server stops, and live again when it comes back on the same port; a price
published on `prices:<coin>` ticks the Market table, and so does the gateway's own ticker when the
upstream price moves; htmx's refresh of the Market blocks keeps the charts and the live prices."""

from __future__ import annotations

import pytest

from healing import events
from tests.dashboard.browser import assert_clean, chromium, goto, watch
from tests.dashboard.frame_site import (  # noqa: F401 - the fixtures
    frame_servers_fixture,
    frame_site_fixture,
    publish,
    record_frames,
    wait_for_frame,
)
from tests.fixtures.dataplane import POOLS
from tests.live_server import start_server

pytestmark = pytest.mark.django_db(transaction=True)

# A WebSocket stand-in: records what the page sends; the test opens, feeds and closes it.
FAKE_SOCKET = """
window.__sockets = [];
class FakeSocket extends EventTarget {
  static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
  constructor(url) { super(); this.url = url; this.sent = []; this.readyState = 0; window.__sockets.push(this); }
  send(text) { this.sent.push(JSON.parse(text)); }
  close() { this.readyState = 3; this.dispatchEvent(new Event("close")); }
  serverOpen() { this.readyState = 1; this.dispatchEvent(new Event("open")); }
  serverSend(message) { this.dispatchEvent(new MessageEvent("message", { data: JSON.stringify(message) })); }
}
window.WebSocket = FakeSocket;
"""


def _socket(page, index: int):
    page.wait_for_function("(n) => window.__sockets.length > n", arg=index, timeout=10_000)
    return f"window.__sockets[{index}]"


def test_feed_client_batches_resubscribes_and_dispatches(frame_site):
    with chromium() as browser:
        page = watch(browser.new_context().new_page())
        page.add_init_script(FAKE_SOCKET)
        goto(page, frame_site.url + "/tools")
        first = _socket(page, 0)
        assert page.evaluate(f"{first}.url") == frame_site.url.replace("http", "ws") + "/ws/live/"
        assert page.get_attribute("#feed-status", "data-state") == "connecting"
        page.evaluate(f"{first}.serverOpen()")
        assert page.get_attribute("#feed-status", "data-state") == "live"

        page.evaluate("""async () => {
            const { feed } = await import("/static/dashboard/feed.js");
            window.__got = [];
            const handler = (kind, data, message) => window.__got.push([kind, message.channel, data]);
            feed.subscribe("health", handler);
            feed.subscribe("alerts", handler);
            await Promise.resolve();
        }""")
        assert page.evaluate(f"{first}.sent") == [{"type": "subscribe", "channels": ["health", "alerts"]}]

        page.evaluate(f"""() => {{
            {first}.serverSend({{type: "welcome", client_id: "c1", online: 3}});
            {first}.serverSend({{type: "snapshot", channel: "health", data: {{providers: 2}}}});
            {first}.serverSend({{type: "event", channel: "alerts", data: {{id: 7}}}});
            {first}.serverSend({{type: "event", channel: "pools", data: {{ignored: true}}}});
        }}""")
        got = page.evaluate("window.__got")
        assert got == [["snapshot", "health", {"providers": 2}], ["event", "alerts", {"id": 7}]]
        assert page.inner_text("#feed-online") == "3 online"

        page.evaluate(f"{first}.serverSend({{type: 'resync', channels: ['alerts']}})")
        assert page.evaluate(f"{first}.sent.at(-1)") == {"type": "subscribe", "channels": ["alerts"]}

        # The connection drops: offline, then a new socket after the backoff, every channel again.
        page.evaluate(f"{first}.close()")
        assert page.get_attribute("#feed-status", "data-state") == "offline"
        second = _socket(page, 1)
        page.evaluate(f"{second}.serverOpen()")
        assert page.get_attribute("#feed-status", "data-state") == "live"
        assert page.evaluate(f"{second}.sent") == [{"type": "subscribe", "channels": ["health", "alerts"]}]

        page.evaluate("""async () => {
            const { feed } = await import("/static/dashboard/feed.js");
            feed.unsubscribe("health");
        }""")
        assert page.evaluate(f"{second}.sent.at(-1)") == {"type": "unsubscribe", "channels": ["health"]}
        assert_clean(page)


def test_backoff_starts_at_half_a_second_doubles_and_stops_at_thirty(frame_site):
    with chromium() as browser:
        page = watch(browser.new_context().new_page())
        page.add_init_script(FAKE_SOCKET)
        goto(page, frame_site.url + "/tools")
        bounds = page.evaluate("""async () => {
            const { backoffDelay } = await import("/static/dashboard/feed.js");
            return [...Array(10).keys()].map((n) => [backoffDelay(n, () => 0), backoffDelay(n, () => 0.999999)]);
        }""")
        ceilings = [min(30_000, 500 * 2 ** n) for n in range(10)]
        for (low, high), ceiling in zip(bounds, ceilings, strict=True):
            assert low == ceiling / 2 and high == ceiling  # jitter spreads over the upper half
        assert bounds[-1][1] == 30_000


def test_feed_status_goes_offline_and_live_again_when_the_server_restarts(frame_site):
    with chromium() as browser:
        page = watch(browser.new_context().new_page())
        goto(page, frame_site.url + "/tools")
        page.wait_for_selector("#feed-status[data-state=live]", timeout=15_000)
        port = frame_site.port
        frame_site.stop()
        page.wait_for_selector("#feed-status[data-state=offline]", timeout=15_000)
        restarted = start_server(port=port)
        try:
            # Backoff is capped at 30 s; the first retries come far sooner.
            page.wait_for_selector("#feed-status[data-state=live]", timeout=45_000)
        finally:
            restarted.stop()
        # While the server was down, Chromium logged the refused connections: expected here.
        assert_clean(page, console=False)


BITCOIN = "#markets-table tr[data-coin=bitcoin]"
BITCOIN_PRICES = events.price_channel("bitcoin")
# The server's own ticker would publish the fake's price between the test's ticks: here it waits an hour.
QUIET_TICKER = {"CRYPTOHUB_FEED_PRICE_TICK_S": "3600"}
# Records every price and source the bitcoin row shows, whichever element holds the row by then.
RECORD_SHOWN = """() => {
    window.__shown = [];
    new MutationObserver(() => {
        const row = document.querySelector("#markets-table tr[data-coin=bitcoin]");
        if (row) window.__shown.push([row.querySelector(".price").textContent,
                                      row.querySelector(".tick-source").textContent]);
    }).observe(document.getElementById("content"), { subtree: true, childList: true, characterData: true });
}"""


def _tick(usd: float, source: str = "coinpaprika", age_s: float = 0.2, stale: bool = False) -> dict:
    return {"coin": "bitcoin", "prices": {"usd": usd}, "source": source, "age_s": age_s, "stale": stale}


def _is(kind: str, channel: str = BITCOIN_PRICES):
    return lambda frame: frame.get("type") == kind and frame.get("channel") == channel


def _wait_for_price(page, text: str) -> None:
    page.wait_for_function(
        "(text) => document.querySelector('#markets-table tr[data-coin=bitcoin] .price')?.textContent === text",
        arg=text, timeout=15_000)


def _open_market(browser, url: str):
    """The Market page, once the server has joined it to prices:bitcoin (its snapshot arrived):
    from then on every publish reaches it."""
    page = watch(browser.new_context().new_page())
    frames = record_frames(page)
    goto(page, url + "/")
    wait_for_frame(page, frames, _is("snapshot"))
    return page, frames


def test_a_published_price_ticks_the_market_table(frame_servers):
    server = frame_servers(env=QUIET_TICKER)
    with chromium() as browser:
        page, frames = _open_market(browser, server.url)
        assert page.inner_text(f"{BITCOIN} .price") == "109,600.00"  # the fake's, as rendered
        assert page.get_attribute("#prices-live", "data-state") == "static"
        page.evaluate(RECORD_SHOWN)

        publish(BITCOIN_PRICES, [_tick(123456.78)])
        assert wait_for_frame(page, frames, _is("event"))["data"] == _tick(123456.78)
        _wait_for_price(page, "123,456.78")
        assert page.inner_text(f"{BITCOIN} .tick-source") == "coinpaprika"
        assert page.get_attribute("#prices-live", "data-state") == "ticking"
        assert "tick-up" in page.get_attribute(BITCOIN, "class")

        # A tick older than the table's data is not shown; a stale one is, marked as such.
        publish(BITCOIN_PRICES, [_tick(1.0, age_s=86_400), _tick(100_000.0, source="coincap", stale=True)])
        _wait_for_price(page, "100,000.00")
        assert page.inner_text(f"{BITCOIN} .tick-source") == "coincap (stale)"
        assert {"tick-down", "stale"} <= set(page.get_attribute(BITCOIN, "class").split())
        shown = [price for price, _ in page.evaluate("window.__shown")]
        assert "123,456.78" in shown and "1.00" not in shown
        assert_clean(page)


def test_the_gateways_own_ticker_moves_the_price_when_the_upstream_does(frame_servers):
    server = frame_servers(env={"CRYPTOHUB_FEED_PRICE_TICK_S": "1"})
    with chromium() as browser:
        page, frames = _open_market(browser, server.url)
        server.fake.set_price(None, "bitcoin", "usd", 111222.33)
        # The ticker fetches as GET /api/data/price does: the cached price (10 s fresh) comes first.
        moved = wait_for_frame(page, frames, lambda frame: _is("event")(frame)
                               and frame["data"]["prices"]["usd"] == 111222.33, timeout_ms=45_000)
        assert moved["data"]["source"] in POOLS["price"] and moved["data"]["stale"] is False
        _wait_for_price(page, "111,222.33")
        assert page.inner_text(f"{BITCOIN} .tick-source") == moved["data"]["source"]
        assert_clean(page)


def test_htmx_refreshes_the_market_blocks_and_the_live_prices_carry_on(frame_servers):
    server = frame_servers(env=QUIET_TICKER)
    with chromium() as browser:
        page, frames = _open_market(browser, server.url)
        page.wait_for_selector("#fear-greed-chart canvas")
        publish(BITCOIN_PRICES, [_tick(123456.78)])
        _wait_for_price(page, "123,456.78")

        page.evaluate("document.getElementById('market-grid').dataset.before = 'refresh'")
        with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as refreshed:
            page.evaluate("htmx.trigger('#market-grid', 'refresh')")  # what "every 60s" does
        assert refreshed.value.status == 200 and refreshed.value.url == server.url + "/"
        page.wait_for_function("() => { const grid = document.getElementById('market-grid');"
                               " return grid && !grid.dataset.before; }")
        # The new blocks have their charts again, and the newer live price over the rendered one.
        page.wait_for_selector("#fear-greed-gauge svg.gauge")
        page.wait_for_selector("#fear-greed-chart canvas")
        assert page.locator("#fear-greed-chart canvas").count() == 1
        assert page.inner_text(f"{BITCOIN} .price") == "123,456.78"
        # And the new rows still tick.
        publish(BITCOIN_PRICES, [_tick(124000.5, source="coincap")])
        _wait_for_price(page, "124,000.50")
        assert page.inner_text(f"{BITCOIN} .tick-source") == "coincap"
        assert_clean(page)
