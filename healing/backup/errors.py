"""What is wrong with a document: each error names its entry and field.

The catalogue's validator (pools.catalogue_validation) reports lines of text such as
'pools[0] (slug "price"): members[2].provider: unknown provider "x"'; `from_catalogue` reads the
entry and field back out of them so that every error of a backup has the same shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A catalogue error line: 'pools[0] (slug "price"): members[2].provider: unknown provider ...'.
_CATALOGUE_LINE = re.compile(
    r'^(?P<label>(?P<entry>(?:providers|pools)\[\d+\])(?: \((?:slug ".*?"|no slug)\))?|top level): (?P<rest>.*)$',
    re.S)
_FIELD_FIRST = re.compile(r"^(?P<field>[A-Za-z_][\w.\[\]]*): (?P<message>.*)$", re.S)


@dataclass(frozen=True)
class EntryError:
    """One thing wrong with a document: where (`entry` like "alert_rules[2]", empty at the top
    level), which `field` (empty: the entry as a whole) and why."""

    entry: str
    field: str
    message: str
    label: str = ""  # the entry with its name, for people: 'alert_rules[2] (name "Down")'

    @property
    def key(self) -> str:
        return ".".join(part for part in (self.entry, self.field) if part) or "document"

    def __str__(self) -> str:
        where = self.label or self.entry or "top level"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class BackupError(Exception):
    """The document cannot be imported; nothing was written."""

    def __init__(self, errors: list[EntryError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join([f"configuration not imported, {len(self.errors)} error(s):",
                                    *(f"  {error}" for error in self.errors)]))

    def by_key(self) -> dict[str, list[str]]:
        """{"alert_rules[2].channels": ["alert_rules[2] (name "Down"): channels: ..."]} for a 400."""
        out: dict[str, list[str]] = {}
        for error in self.errors:
            out.setdefault(error.key, []).append(str(error))
        return out


def from_catalogue(line: str) -> EntryError:
    match = _CATALOGUE_LINE.match(line)
    if match is None:
        return EntryError("", "", line)
    entry = "" if match["label"] == "top level" else match["entry"]
    label = "" if match["label"] == "top level" else match["label"]
    field = _FIELD_FIRST.match(match["rest"])
    if field is None:
        return EntryError(entry, "", match["rest"], label)
    return EntryError(entry, field["field"], field["message"], label)


