"""Small shared measures every layer reports in: nearest-rank percentiles and UTC ISO-8601 times.

They live at the bottom of the import order (nothing of ours imported) so that adapters, pools,
the engine and monitoring all format a time and rank a latency the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime


def percentile(sorted_samples: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (`pct` in 0..1) of already sorted samples; None when there are none.

    Nearest rank answers a sample that was actually observed, never an interpolation.
    """
    if not sorted_samples:
        return None
    return sorted_samples[max(0, math.ceil(pct * len(sorted_samples)) - 1)]


def iso_seconds(epoch: float) -> str:
    """Epoch seconds as `2026-11-21T12:00:00Z` (whole seconds: answer metadata, adapters)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_precise(moment: datetime | float | None) -> str | None:
    """A datetime (any zone) or epoch seconds as ISO-8601 in UTC with a `Z`, sub-second kept; None stays None."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
