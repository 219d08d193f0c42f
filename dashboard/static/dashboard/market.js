// The Market tab: the fear & greed gauge and history chart, the hourly candles chart, and live prices in the top-markets
// table. Each listed coin subscribes prices:<coin>: a snapshot carries {coin, tick} (the last tick,
// or null), an event the tick itself {coin, prices: {usd}, source, age_s, stale}.
//
// htmx re-reads #market-grid every minute (market.html); then the charts are drawn again, new
// coins subscribed, and each coin's newest tick shown again when it is newer than the table's data.
import { feed } from "/static/dashboard/feed.js";
import { gauge, lineChart, readJson } from "/static/dashboard/charts.js";

const latest = new Map(); // coin -> { tick, at }: the newest tick and when its price was fetched (ms)
const handlers = new Map(); // coin -> the feed handler of its channel

function formatPrice(value) {
  if (Math.abs(value) >= 1) return value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return Number(value.toPrecision(6)).toString();
}

export function applyTick(row, data) {
  const value = data && data.prices ? Number(data.prices.usd) : NaN;
  if (!Number.isFinite(value)) return false;
  const cell = row.querySelector(".price");
  const previous = Number(cell.dataset.price);
  cell.dataset.price = String(value);
  cell.textContent = formatPrice(value);
  row.classList.toggle("tick-up", value > previous);
  row.classList.toggle("tick-down", value < previous);
  row.classList.toggle("stale", Boolean(data.stale));
  const source = row.querySelector(".tick-source");
  if (source && data.source) source.textContent = data.stale ? `${data.source} (stale)` : data.source;
  return true;
}

function table() {
  return document.getElementById("markets-table");
}

function tableFetchedAt() {
  // When the rendered rows' data was fetched upstream (server time, as the ticks' times are).
  const parsed = Date.parse(table()?.dataset.fetchedAt ?? "");
  return Number.isNaN(parsed) ? -Infinity : parsed;
}

function fetchedAt(tick, message) {
  // The server stamps a message when it sends it; the price itself is age_s older than that.
  const sent = Date.parse(message.at ?? "");
  return (Number.isNaN(sent) ? Date.now() : sent) - (Number(tick.age_s) || 0) * 1000;
}

function show(coin, tick) {
  const row = table()?.querySelector(`tr[data-coin="${CSS.escape(coin)}"]`);
  if (!row || !applyTick(row, tick)) return;
  const status = document.getElementById("prices-live");
  if (status) status.dataset.state = "ticking";
}

function onPrice(coin, kind, data, message) {
  const tick = kind === "snapshot" ? data && data.tick : data;
  if (!tick) return;
  const at = fetchedAt(tick, message);
  if (at < tableFetchedAt()) return; // older than what the page already shows
  latest.set(coin, { tick, at });
  show(coin, tick);
}

function listedCoins() {
  return [...document.querySelectorAll("#markets-table tr[data-coin]")].map((row) => row.dataset.coin);
}

function subscribePrices() {
  const listed = new Set(listedCoins());
  for (const [coin, handler] of handlers) {
    if (listed.has(coin)) continue;
    feed.unsubscribe(`prices:${coin}`, handler);
    handlers.delete(coin);
    latest.delete(coin);
  }
  for (const coin of listed) {
    if (handlers.has(coin)) continue;
    const handler = (kind, data, message) => onPrice(coin, kind, data, message);
    handlers.set(coin, handler);
    feed.subscribe(`prices:${coin}`, handler);
  }
}

function showNewerTicks() {
  const rendered = tableFetchedAt();
  for (const [coin, { tick, at }] of latest) if (at >= rendered) show(coin, tick);
}

function drawFearGreed() {
  const holder = document.getElementById("fear-greed-gauge");
  if (holder) gauge(holder, Number(holder.dataset.value), 100, holder.dataset.label || "");
  const history = readJson("fear-greed-data");
  const chart = document.getElementById("fear-greed-chart");
  if (chart && history && history.labels.length > 1) {
    lineChart(chart, history, { height: 180, yRange: [0, 100] });
  }
}

function drawCandles() {
  // Close, high and low of the hourly candles (the candles pool: exchanges first).
  const candles = readJson("candles-data");
  const chart = document.getElementById("candles-chart");
  if (chart && candles && candles.labels.length > 1) lineChart(chart, candles, { height: 220, legend: true });
}

document.body.addEventListener("htmx:load", (event) => {
  if (event.detail.elt.id !== "market-grid") return;
  drawFearGreed();
  drawCandles();
  subscribePrices();
  showNewerTicks();
});

drawFearGreed();
drawCandles();
subscribePrices();
