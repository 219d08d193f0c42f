// Charts for the dashboard pages: line charts over the vendored uPlot, plus a sparkline and a
// gauge drawn as SVG (no library). Data comes from a <script type="application/json"> element
// the view renders (json_script): no inline script, no extra request.
//
//   import { lineChart, sparkline, gauge, readJson } from "/static/dashboard/charts.js";
//   lineChart(el, { labels: [...unix seconds or ISO strings], series: [{ label, values }] }, { height: 220 });
import uPlot from "/static/dashboard/vendor/uplot/uPlot.esm.js";

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["--chart-1", "--chart-2", "--chart-3", "--chart-4"];

export function readJson(id) {
  const el = document.getElementById(id);
  if (!el) return null;
  try {
    return JSON.parse(el.textContent);
  } catch (error) {
    return null;
  }
}

function cssVar(name, fallback) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

export function toSeconds(label) {
  if (typeof label === "number") return label > 1e11 ? label / 1000 : label; // ms -> s
  const parsed = Date.parse(label);
  return Number.isNaN(parsed) ? null : parsed / 1000;
}

function svgElement(name, attrs) {
  const el = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

export function lineChart(el, { labels, series }, opts = {}) {
  const xs = labels.map(toSeconds);
  const keep = xs.map((x) => x !== null);
  const data = [xs.filter((_, i) => keep[i])];
  for (const one of series) data.push(one.values.filter((_, i) => keep[i]).map((v) => (v == null ? null : Number(v))));
  const options = () => ({
    width: Math.max(el.clientWidth, 240),
    height: opts.height ?? 220,
    legend: { show: opts.legend ?? series.length > 1 },
    scales: { x: { time: opts.time ?? true }, y: opts.yRange ? { range: opts.yRange } : {} },
    axes: [
      { stroke: cssVar("--muted", "#666"), grid: { stroke: cssVar("--grid", "#eee") } },
      { stroke: cssVar("--muted", "#666"), grid: { stroke: cssVar("--grid", "#eee") },
        values: opts.yFormat ? (u, ticks) => ticks.map(opts.yFormat) : undefined },
    ],
    series: [{}, ...series.map((one, i) => ({
      label: one.label, stroke: cssVar(PALETTE[i % PALETTE.length], "#3b82f6"), width: 2,
      points: { show: false },
    }))],
  });
  let plot = new uPlot(options(), data, el);
  // A chart whose element left the page (htmx swapped its block) lets go of its listeners.
  const observer = new ResizeObserver(() => {
    if (el.isConnected) plot.setSize({ width: Math.max(el.clientWidth, 240), height: opts.height ?? 220 });
    else release();
  });
  const redraw = () => {
    if (!el.isConnected) return release();
    plot.destroy();
    plot = new uPlot(options(), data, el);
  };
  function release() {
    observer.disconnect();
    document.removeEventListener("cryptohub:theme", redraw);
    plot.destroy();
  }
  observer.observe(el);
  document.addEventListener("cryptohub:theme", redraw);
  return { get plot() { return plot; } };
}

export function sparkline(el, values, { width = 120, height = 28 } = {}) {
  const numbers = values.map(Number).filter((v) => Number.isFinite(v));
  el.replaceChildren();
  const svg = svgElement("svg", { viewBox: `0 0 ${width} ${height}`, class: "spark", role: "img" });
  if (numbers.length >= 2) {
    const low = Math.min(...numbers);
    const span = Math.max(...numbers) - low || 1;
    const step = width / (numbers.length - 1);
    const points = numbers.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - ((v - low) / span) * (height - 4)).toFixed(1)}`);
    const rising = numbers[numbers.length - 1] >= numbers[0];
    svg.appendChild(svgElement("polyline", { points: points.join(" "), class: rising ? "spark-up" : "spark-down" }));
  }
  el.appendChild(svg);
  return svg;
}

export function gauge(el, value, max = 100, label = "") {
  // A half circle from 0 (left) to max (right); the arc's colour band follows the value.
  const share = Math.max(0, Math.min(1, Number(value) / max));
  const radius = 80;
  const angle = Math.PI * (1 - share);
  const x = 100 + radius * Math.cos(angle);
  const y = 100 - radius * Math.sin(angle);
  const band = share < 0.25 ? "low" : share < 0.45 ? "midlow" : share <= 0.55 ? "mid" : share <= 0.75 ? "midhigh" : "high";
  el.replaceChildren();
  const svg = svgElement("svg", { viewBox: "0 0 200 120", class: `gauge gauge-${band}`, role: "img",
    "aria-label": `${label} ${value} of ${max}` });
  svg.appendChild(svgElement("path", { d: "M 20 100 A 80 80 0 0 1 180 100", class: "gauge-track" }));
  if (share > 0) {
    svg.appendChild(svgElement("path", { d: `M 20 100 A 80 80 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`, class: "gauge-value" }));
  }
  const number = svgElement("text", { x: 100, y: 92, class: "gauge-number", "text-anchor": "middle" });
  number.textContent = String(value);
  svg.appendChild(number);
  const caption = svgElement("text", { x: 100, y: 114, class: "gauge-label", "text-anchor": "middle" });
  caption.textContent = label;
  svg.appendChild(caption);
  el.appendChild(svg);
  return svg;
}
