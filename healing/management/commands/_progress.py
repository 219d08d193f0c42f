"""A tiny progress bar for commands (stderr, redrawn in place; silent when not a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 30
# Redraw at most this often (seconds): a thousand results must not mean a thousand writes.
REDRAW_S = 0.1


class ProgressBar:
    def __init__(self, label: str, *, stream: TextIO | None = None, enabled: bool | None = None):
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = 0
        self.done = 0
        self._last_draw = 0.0

    def start(self, total: int) -> None:
        self.total = total
        self.done = 0
        self._draw(force=True)

    def advance(self, *_: object) -> None:
        self.done += 1
        self._draw(force=self.done >= self.total)

    def finish(self) -> None:
        if self.enabled and self.total:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last_draw < REDRAW_S):
            return
        self._last_draw = now
        share = self.done / self.total if self.total else 1.0
        filled = int(BAR_WIDTH * share)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
        self.stream.flush()
