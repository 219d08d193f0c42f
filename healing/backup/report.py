"""What an import does (or, in a dry run, would do), section by section: the diff."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pools.catalogue_report import FieldChange

from .document import SECTIONS


@dataclass
class SectionPlan:
    """One section's diff, by natural key (a slug, a name; memberships "pool:provider")."""

    create: list[str] = field(default_factory=list)
    update: dict[str, list[FieldChange]] = field(default_factory=dict)
    unchanged: int = 0
    # In the database, not in the document: deleted with prune, else kept and listed.
    absent: list[str] = field(default_factory=list)


@dataclass
class ImportPlan:
    sections: dict[str, SectionPlan]
    dry_run: bool
    prune: bool
    audit_ignored: bool = False

    @property
    def changed(self) -> bool:
        return any(s.create or s.update or (self.prune and s.absent) for s in self.sections.values())

    @property
    def applied(self) -> bool:
        return self.changed and not self.dry_run

    def _absent_word(self) -> str:
        if not self.prune:
            return "kept"
        return "to delete" if self.dry_run else "deleted"

    def summary(self) -> str:
        head = "dry run, nothing written" if self.dry_run else ("imported" if self.changed else "nothing to change")
        parts = []
        for name in SECTIONS:
            plan = self.sections[name]
            counts = [f"{len(plan.create)} new", f"{len(plan.update)} changed", f"{plan.unchanged} unchanged",
                      f"{len(plan.absent)} {self._absent_word()} (not in the document)"]
            shown = [text for text in counts if not text.startswith("0 ")]
            parts.append(f"{name}: {', '.join(shown) or 'none'}")
        return f"{head} — " + "; ".join(parts)

    def lines(self) -> list[str]:
        """The summary, then one line per created, changed and absent entry."""
        out = [self.summary()]
        absent = f"not in the document, {self._absent_word()}" + ("" if self.prune else " (prune deletes it)")
        for name in SECTIONS:
            plan = self.sections[name]
            out += [f"{name}: + {key}" for key in plan.create]
            for key, changes in plan.update.items():
                out += [f"{name}: ~ {key}: {change}" for change in changes]
            out += [f"{name}: - {key}: {absent}" for key in plan.absent]
        if self.audit_ignored:
            out.append("audit: read-only, not imported")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "prune": self.prune,
            "changed": self.changed,
            "applied": self.applied,
            "summary": self.summary(),
            "sections": {
                name: {
                    "create": plan.create,
                    "update": {key: [{"field": c.field, "old": c.old, "new": c.new} for c in changes]
                               for key, changes in plan.update.items()},
                    "unchanged": plan.unchanged,
                    "not_in_document": plan.absent,
                    "delete": plan.absent if self.prune else [],
                }
                for name, plan in self.sections.items()
            },
            "audit_ignored": self.audit_ignored,
        }
