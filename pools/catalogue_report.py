"""What a catalogue load reports: the error that stops it, and the report of what it did."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Errors listed in one CatalogueError message; the rest are counted.
MAX_ERRORS_SHOWN = 25
# Longest value shown in a change line; notes can be paragraphs.
MAX_SHOWN_VALUE = 60


class CatalogueError(Exception):
    """The catalogue file is unreadable or invalid; nothing was written."""

    def __init__(self, errors: list[str], path: str | Path | None = None) -> None:
        self.errors = list(errors)
        where = f"{path}: " if path else ""
        shown = self.errors[:MAX_ERRORS_SHOWN]
        lines = [f"{where}catalogue not loaded, {len(self.errors)} error(s):"] + [f"  {e}" for e in shown]
        if len(self.errors) > len(shown):
            lines.append(f"  ... and {len(self.errors) - len(shown)} more")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.field} {_short(self.old)} → {_short(self.new)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_VALUE else text[: MAX_SHOWN_VALUE - 1] + "…"


@dataclass
class LoadReport:
    """What a load did. Membership keys are "pool:provider"."""

    update: bool = False
    created: list[str] = field(default_factory=list)
    updated: dict[str, list[FieldChange]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    kept_operator_edits: list[str] = field(default_factory=list)
    not_in_catalogue: list[str] = field(default_factory=list)
    pools_created: list[str] = field(default_factory=list)
    pools_updated: dict[str, list[FieldChange]] = field(default_factory=dict)
    pools_unchanged: list[str] = field(default_factory=list)
    pools_kept: dict[str, list[FieldChange]] = field(default_factory=dict)
    memberships_created: list[str] = field(default_factory=list)
    memberships_updated: dict[str, list[FieldChange]] = field(default_factory=dict)
    memberships_kept: dict[str, list[FieldChange]] = field(default_factory=dict)
    memberships_skipped: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.created or self.updated or self.pools_created or self.pools_updated
            or self.memberships_created or self.memberships_updated
        )

    def summary(self) -> str:
        providers = len(self.created) + len(self.updated) + len(self.unchanged) + len(self.kept_operator_edits)
        pools = len(self.pools_created) + len(self.pools_updated) + len(self.pools_unchanged) + len(self.pools_kept)
        return (
            f"providers: {providers} in catalogue — {len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.kept_operator_edits)} kept (operator-edited); "
            f"pools: {pools} — {len(self.pools_created)} created, {len(self.pools_updated)} updated, "
            f"{len(self.pools_unchanged)} unchanged, {len(self.pools_kept)} kept; "
            f"memberships: {len(self.memberships_created)} created, {len(self.memberships_updated)} updated, "
            f"{len(self.memberships_kept)} kept, {len(self.memberships_skipped)} skipped"
        )

    def lines(self) -> list[str]:
        """The summary, then one line per notable item (changes, kept edits, skips)."""
        out = [self.summary()]
        if self.created:
            out.append(f"created: {', '.join(self.created)}")
        if self.pools_created:
            out.append(f"created pools: {', '.join(self.pools_created)}")
        added: dict[str, list[str]] = {}
        for key in self.memberships_created:
            pool, _, provider = key.partition(":")
            added.setdefault(pool, []).append(provider)
        out += [f"pool {pool}: added {', '.join(providers)}" for pool, providers in added.items()]
        for label, diffs in (("", self.updated), ("pool ", self.pools_updated),
                             ("membership ", self.memberships_updated)):
            for key, changes in diffs.items():
                out += [f"{label}{key}: {change}" for change in changes]
        hint = " — load with --update to apply the catalogue"
        out += [f"{slug}: kept (operator-edited){hint}" for slug in self.kept_operator_edits]
        for label, diffs in (("pool", self.pools_kept), ("membership", self.memberships_kept)):
            for key, changes in diffs.items():
                out.append(f"{label} {key}: kept, differs from the catalogue ({'; '.join(map(str, changes))}){hint}")
        out += [f"membership {key}: not re-added (may have been removed on purpose){hint}"
                for key in self.memberships_skipped]
        out += [f"{slug}: in the database but not in the catalogue (left as is)" for slug in self.not_in_catalogue]
        return out
