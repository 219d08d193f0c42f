"""Cointelegraph news RSS (https://cointelegraph.com/rss). Descriptions are HTML; links carry utm_* parameters
(dropped)."""

from __future__ import annotations

from typing import Any

from providers.adapters.base import Outcome
from providers.adapters.rss import RssAdapter

# Cointelegraph's bot protection answers some non-browser clients 403 for a while.
BOT_WALL_STATUS = 403


class Cointelegraph(RssAdapter):
    slug = "cointelegraph"
    source_name = "Cointelegraph"

    def classify_http_error(self, status: int, payload: Any) -> Outcome:
        # A 403 here is throttling, not a refusal of this request: cool down, then try again.
        if status == BOT_WALL_STATUS:
            return Outcome.RATE_LIMITED
        return super().classify_http_error(status, payload)
