// Monitor, provider pages, Pools and Alerts, live. Without JavaScript the pages refresh themselves.
//   Monitor rows and a provider's "Now" block: `health` and `breakers` snapshots and events. A row's
//     status is derived the way the server derives it (dashboard/operations/monitor.py status_of:
//     the latest sweep check, degraded while its breaker is open or half-open), so a live row and
//     a reloaded one never disagree.
//   Pools: a `pools` or `breakers` event re-reads this page and swaps in each pool's card, so the
//     order shown is still the server's (the engine's) and never guessed here.
//   Alerts: an `alerts` event re-reads this page and swaps in its lists.
// A snapshot after the first one of a channel (a reconnect, a `resync`) means events may have been
// missed: Pools and Alerts then re-read the page too; Monitor simply applies it.
import { feed } from "/static/dashboard/feed.js";
import { lineChart, readJson, sparkline } from "/static/dashboard/charts.js";

const STATUSES = ["up", "down", "degraded", "unknown"];
const BREAKERS = ["closed", "open", "half_open", "unknown"];
const REFETCH_DELAY_MS = 300;
const FLASH_MS = 1500;

// --- Monitor rows ------------------------------------------------------------------------------

export function derivedStatus(check, breaker) {
  if (check === "down") return "down";
  if (check !== "up") return "unknown"; // never checked, or its last check was skipped
  return breaker === "open" || breaker === "half_open" ? "degraded" : "up";
}

// A provider's Monitor row, or the "Now" block of its own page.
function rowsOf(provider) {
  const slug = CSS.escape(provider);
  return document.querySelectorAll(`#monitor-table tr[data-provider="${slug}"], #provider-now[data-provider="${slug}"]`);
}

function setBadge(badge, value, classes) {
  if (!badge || badge.textContent === value) return;
  badge.classList.remove(...classes);
  badge.classList.add(value, "flash");
  badge.textContent = value;
  setTimeout(() => badge.classList.remove("flash"), FLASH_MS);
}

// The state filter the page was rendered with: a row that no longer matches it is marked, not hidden.
function stateFilter() {
  const select = document.querySelector("#monitor-filters select[name=state]");
  return select ? select.value : "";
}

function refreshRow(row) {
  const status = derivedStatus(row.dataset.check, row.dataset.breaker);
  row.dataset.status = status;
  setBadge(row.querySelector(".status-badge"), status, STATUSES);
  const wanted = stateFilter();
  if (wanted && row.tagName === "TR") {
    const matches = wanted === status || wanted === row.dataset.breaker;
    row.dataset.filtered = matches ? "" : "out";
    row.title = matches ? "" : `no longer ${wanted}: reload or change the filter to drop it`;
  }
}

export function applyCheck(provider, check, { at, errorClass } = {}) {
  for (const row of rowsOf(provider)) {
    row.dataset.check = check;
    const cell = row.querySelector(".last-check");
    if (cell && at) {
      cell.replaceChildren(at);
      if (errorClass) {
        const why = document.createElement("span");
        why.className = "muted";
        why.textContent = errorClass;
        cell.append(" ", why);
      }
    }
    refreshRow(row);
  }
}

export function applyBreaker(provider, state, reopensAt) {
  for (const row of rowsOf(provider)) {
    row.dataset.breaker = state;
    const badge = row.querySelector(".breaker-badge");
    if (badge) {
      badge.dataset.breaker = state;
      setBadge(badge, state, BREAKERS);
    }
    const cell = row.querySelector(".breaker-cell");
    if (cell && row.tagName === "TR") {
      cell.querySelector(".reopens")?.remove();
      if (state === "open" && reopensAt) {
        const note = document.createElement("span");
        note.className = "muted reopens";
        note.textContent = `reopens ${reopensAt}`;
        cell.append(" ", note);
      }
    }
    refreshRow(row);
  }
  updateCounts();
}

function updateCounts() {
  const counts = document.getElementById("monitor-counts");
  if (!counts) return;
  const rows = [...document.querySelectorAll("#monitor-table tbody tr[data-provider]")];
  const n = (status) => rows.filter((row) => row.dataset.status === status).length;
  counts.textContent = `${rows.length} provider${rows.length === 1 ? "" : "s"} · up ${n("up")} · down ${n("down")}`
    + ` · degraded ${n("degraded")} · unknown ${n("unknown")}`;
}

// A breakers snapshot carries reopens_at in epoch seconds, an event as an ISO string.
function isoOf(reopensAt) {
  if (typeof reopensAt === "number") return new Date(reopensAt * 1000).toISOString();
  return reopensAt || null;
}

function markLive(id) {
  const el = document.getElementById(id);
  if (el) el.dataset.state = "live";
}

function liveRows() {
  feed.subscribe("health", (kind, data) => {
    if (!data) return; // the store behind the snapshot is down: keep what was rendered
    if (kind === "snapshot") {
      for (const item of data.providers || []) {
        applyCheck(item.provider, item.status === "skipped" ? "unknown" : item.status,
          { at: item.at, errorClass: item.error_class });
      }
    } else if (data.source !== "traffic" && (data.status === "up" || data.status === "down")) {
      // A traffic event only restates a breaker change, which the breakers channel carries.
      applyCheck(data.provider, data.status, { at: data.at, errorClass: data.error_class });
    }
    updateCounts();
    markLive("monitor-live");
  });
  feed.subscribe("breakers", (kind, data) => {
    if (!data) return;
    const items = kind === "snapshot"
      ? (data.providers || []).map((item) => [item.provider, item.state, item.reopens_at])
      : [[data.provider, data.to, data.reopens_at]];
    for (const [provider, state, reopensAt] of items) {
      if (provider && BREAKERS.includes(state)) applyBreaker(provider, state, isoOf(reopensAt));
    }
    markLive("monitor-live");
  });
}

// --- Pools and Alerts: re-read the page ---------------------------------------------------------

// Re-read this very page and swap the elements matching `selector` (by id): same origin, no new
// endpoint. What the operator typed into a form being swapped is carried over.
function refetcher(selector, after) {
  let timer = null;
  async function swap() {
    let response;
    try {
      response = await fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    } catch (error) {
      console.warn("page refresh failed", error);
      return;
    }
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const el of document.querySelectorAll(selector)) {
      const replacement = fresh.getElementById(el.id);
      if (!replacement) continue;
      for (const input of el.querySelectorAll("input[name]:not([type=hidden])")) {
        const twin = replacement.querySelector(`input[name="${CSS.escape(input.name)}"]:not([type=hidden])`);
        if (twin && input.value) twin.value = input.value;
      }
      el.replaceWith(document.importNode(replacement, true));
    }
    document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
    if (after) after();
  }
  return () => {
    clearTimeout(timer);
    timer = setTimeout(swap, REFETCH_DELAY_MS);
  };
}

// A handler that re-reads on every event and on every snapshot but a channel's first one.
function rereadOn(refresh, liveId) {
  let snapshots = 0;
  return (kind) => {
    markLive(liveId);
    if (kind === "event" || snapshots++ > 0) refresh();
  };
}

// --- charts -----------------------------------------------------------------------------------

function drawSparks() {
  for (const holder of document.querySelectorAll(".spark-holder[data-values]")) {
    const values = holder.dataset.values.split(",").filter((v) => v !== "").map(Number);
    if (values.length >= 2) sparkline(holder, values);
  }
}

// Latency (ms) and up/down (0..1) on one scale would flatten the second: one chart each, same times.
function drawHealth() {
  const data = readJson("health-data");
  if (!data || data.labels.length < 2) return;
  const [latency, upDown] = data.series;
  const latencyEl = document.getElementById("health-chart");
  const upDownEl = document.getElementById("updown-chart");
  if (latencyEl) lineChart(latencyEl, { labels: data.labels, series: [latency] }, { height: 180 });
  if (upDownEl) lineChart(upDownEl, { labels: data.labels, series: [upDown] }, { height: 90, yRange: [0, 1] });
}

const page = document.body.dataset.tab;
if (page === "monitor") {
  drawSparks();
  drawHealth();
  liveRows();
} else if (page === "pools") {
  const refresh = refetcher(".pool-card");
  feed.subscribe("pools", rereadOn(refresh, "pools-live"));
  feed.subscribe("breakers", rereadOn(refresh, "pools-live"));
} else if (page === "alerts") {
  const refresh = refetcher("#alerts-open, #alerts-recent, #channels, #maintenance");
  feed.subscribe("alerts", rereadOn(refresh, "alerts-feed"));
}
