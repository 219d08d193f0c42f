"""Number and age formatting shared by every dashboard page: `{% load frame %}`."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


@register.filter
def compact(value: Any) -> str:
    """1234567890 -> "1.23B" (market caps, volumes, TVL)."""
    number = _number(value)
    if number is None:
        return "—"
    for size, unit in _UNITS:
        if abs(number) >= size:
            return f"{number / size:.2f}{unit}"
    return f"{number:,.2f}"


@register.filter
def price(value: Any) -> str:
    """Prices keep their significant digits: 67,012.50 or 0.0000123."""
    number = _number(value)
    if number is None:
        return "—"
    if abs(number) >= 1:
        return f"{number:,.2f}"
    return f"{number:.6g}"


@register.filter
def pct(value: Any, digits: int = 2) -> str:
    number = _number(value)
    return "—" if number is None else f"{number:.{int(digits)}f}%"


@register.filter
def signed_pct(value: Any) -> str:
    number = _number(value)
    return "—" if number is None else f"{number:+.2f}%"


@register.filter
def age(seconds: Any) -> str:
    """0.4 -> "just now", 75 -> "1 min ago", 7200 -> "2 h ago"."""
    number = _number(seconds)
    if number is None:
        return "age unknown"
    if number < 5:
        return "just now"
    if number < 60:
        return f"{number:.0f} s ago"
    if number < 3600:
        return f"{number // 60:.0f} min ago"
    if number < 86400:
        return f"{number // 3600:.0f} h ago"
    return f"{number // 86400:.0f} d ago"
