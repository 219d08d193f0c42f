"""Exporting the whole configuration as one JSON document (see healing.backup)."""

from __future__ import annotations

import json
from typing import Any

from healing import audit

from .document import AUDIT_KEY, as_document, read_current


def export_config(*, with_audit: bool = False) -> dict[str, Any]:
    """The configuration document; with `with_audit`, the audit trail too, oldest entry first
    (read-only: an import ignores it)."""
    document = as_document(read_current().entries)
    if with_audit:
        entries = audit.audit_entries().order_by("timestamp", "pk")
        document[AUDIT_KEY] = [audit.entry_as_dict(entry) for entry in entries.iterator(chunk_size=500)]
    return document


def dumps(document: dict[str, Any]) -> bytes:
    """The document as the file people keep and diff: indented, keys in a fixed order, UTF-8."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
