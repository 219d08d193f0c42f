"""What the status page's templates draw: SVG geometry (uptime bars, response-time chart, badges)
and display strings, computed from the plain data of healing.monitoring.statuspage.

Everything is drawn on the server as SVG, so the page needs no JavaScript; colours come from
classes in status.css (light and dark), never from style attributes (the CSP forbids them).
Text reaches the templates as data and is escaped there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

# Uptime bars: one rect per day in a viewBox of this geometry (the SVG scales to the width).
BAR_W, BAR_GAP, BAR_H = 8, 2, 32
# Response-time chart: viewBox size and the plot's inner margins (room for the axis labels).
CHART_W, CHART_H, CHART_LEFT, CHART_BOTTOM, CHART_TOP = 600, 120, 44, 18, 8
# Badges: width of one character of Verdana 11px (as shields.io estimates it) and padding.
BADGE_CHAR_W, BADGE_PAD, BADGE_H = 7, 10, 20
BADGE_COLOURS = {"operational": "#2e9e44", "degraded": "#c98a00", "down": "#d63b2f",
                 "maintenance": "#2f6fb3", "no_data": "#7a7a7a"}
STATUS_LABELS = {"operational": "operational", "degraded": "degraded", "down": "down",
                 "maintenance": "maintenance", "no_data": "no data"}
MEMBER_LABELS = {"up": "up", "down": "down", "skipped": "not probed", "unknown": "not checked yet",
                 "maintenance": "maintenance"}


def when(iso: str | None) -> str:
    """An ISO-8601 time as the page prints it: "2026-11-21 12:00 UTC"."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")


def percent(value: float | None) -> str:
    return "no data" if value is None else f"{value:.2f} %"


def uptime_bars(days: list[dict[str, Any]]) -> dict[str, Any]:
    bars = []
    for i, day in enumerate(days):
        if day["uptime_pct"] is None:
            title = f"{day['date']}: no data"
        else:
            title = f"{day['date']}: {day['uptime_pct']:.2f} % up ({day['checks']} checks)"
        bars.append({"x": i * (BAR_W + BAR_GAP), "band": day["band"], "title": title})
    return {"width": len(days) * (BAR_W + BAR_GAP) - BAR_GAP, "height": BAR_H, "bar_w": BAR_W, "bars": bars}


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^n at or above `value` (a round top for the y axis)."""
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if factor * step >= value:
            return factor * step
    return 10 * step


def response_chart(points: list[dict[str, Any]]) -> dict[str, Any]:
    """A line per run of hours with data (a gap where an hour has none) and one dot per hour."""
    values = [p["p50_ms"] for p in points if p["p50_ms"] is not None]
    top = _nice_ceiling(max(values)) if values else 1.0
    plot_w, plot_h = CHART_W - CHART_LEFT, CHART_H - CHART_TOP - CHART_BOTTOM
    step = plot_w / max(1, len(points) - 1)
    lines: list[list[str]] = [[]]
    dots = []
    for i, point in enumerate(points):
        if point["p50_ms"] is None:
            if lines[-1]:
                lines.append([])
            continue
        x = round(CHART_LEFT + i * step, 1)
        y = round(CHART_TOP + plot_h * (1 - point["p50_ms"] / top), 1)
        lines[-1].append(f"{x},{y}")
        dots.append({"x": x, "y": y, "title": f"{when(point['hour'])}: {point['p50_ms']:g} ms (median p50)"})
    return {
        "width": CHART_W, "height": CHART_H, "has_data": bool(values),
        "lines": [" ".join(line) for line in lines if len(line) > 1], "dots": dots,
        "top_label": f"{top:g} ms", "axis_x": CHART_LEFT, "axis_y": CHART_H - CHART_BOTTOM,
        "top_y": CHART_TOP, "label_y": CHART_H - 4, "end_x": CHART_W,
        "first_label": when(points[0]["hour"]) if points else "",
        "last_label": when(points[-1]["hour"]) if points else "",
    }


def component_view(component: dict[str, Any]) -> dict[str, Any]:
    return {
        **component,
        "status_label": STATUS_LABELS[component["status"]],
        "bars": uptime_bars(component["days"]),
        "chart": response_chart(component["response_ms"]),
        "uptime_rows": [(name, percent(value)) for name, value in component["uptime"].items()],
        "member_rows": [{"provider": m["provider"], "state": m["state"], "label": MEMBER_LABELS[m["state"]]}
                        for m in component["members"]],
    }


def page_context(page: dict[str, Any]) -> dict[str, Any]:
    components = [component_view(c) for c in page["components"]]
    incidents = [{**i, "opened": when(i["opened_at"]), "resolved": when(i["resolved_at"]),
                  "timeline": [{**u, "when": when(u["at"])} for u in i["updates"]]} for i in page["incidents"]]
    maintenance = [{**w, "starts": when(w["starts_at"]), "ends": when(w["ends_at"])} for w in page["maintenance"]]
    return {
        "page": page, "banner": page["banner"], "rules": page["rules"], "generated": when(page["generated_at"]),
        "pools": [c for c in components if c["kind"] == "pool"],
        "categories": [c for c in components if c["kind"] == "category"],
        "open_incidents": [i for i in incidents if not i["resolved_at"]],
        "past_incidents": [i for i in incidents if i["resolved_at"]],
        "maintenance": maintenance,
        "history_days": page["history_days"],
    }


def badge(label: str, status: str) -> dict[str, Any]:
    """A shields-like two-part badge: "<label> | <status>", coloured by the status."""
    message = STATUS_LABELS[status]
    left = len(label) * BADGE_CHAR_W + 2 * BADGE_PAD
    right = len(message) * BADGE_CHAR_W + 2 * BADGE_PAD
    return {"label": label, "message": message, "colour": BADGE_COLOURS[status], "height": BADGE_H,
            "left": left, "right": right, "width": left + right, "label_x": left / 2, "message_x": left + right / 2}
