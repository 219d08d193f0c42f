"""Cointelegraph news RSS (https://cointelegraph.com/rss). Descriptions are HTML; links carry utm_* parameters
(dropped)."""

from __future__ import annotations

from providers.adapters.base import Outcome
from providers.adapters.rss import RssAdapter

# Cointelegraph's bot protection answers some non-browser clients 403 for a while.
BOT_WALL_STATUS = 403


class Cointelegraph(RssAdapter):
    slug = "cointelegraph"
    source_name = "Cointelegraph"
    # A 403 here is throttling, not a refusal of this request: cool down, then try again.
    status_outcomes = {BOT_WALL_STATUS: Outcome.RATE_LIMITED}
