"""Decoding JSON that comes from outside (a client's body, frame or parameter; an operator's file).

The standard library's decoder is the wrong gate for that. It recurses once per nesting level,
so a few kilobytes of `[[[[...` raise RecursionError, which no `except ValueError` catches, in the
middle of a view or a WebSocket consumer. And it accepts what RFC 8259 leaves out: NaN and
Infinity, and lone UTF-16 surrogates (`"\\ud800"`) that no UTF-8 encoder can write back, so the
request fails later, when its answer or its row is written.

orjson refuses both and is iterative; the depth bound here is far below its own 1,024 so that
code walking a decoded body recursively (validation, serializers, audit diffs) cannot overflow
either. Every refusal is a json.JSONDecodeError (a ValueError) with a message and a position.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# No document cryptohub reads nests deeper than about ten levels (a backup: document, providers,
# one provider, its headers); 64 leaves room and stays far from Python's recursion limit.
MAX_DEPTH = 64

# orjson refuses anything deeper itself, whatever max_depth says.
ORJSON_MAX_DEPTH = 1024
_UTF8_BOM = b"\xef\xbb\xbf"


def loads(raw: bytes | bytearray | memoryview | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The decoded value, or json.JSONDecodeError saying what is wrong and where."""
    # A byte-order mark is legal at the start of a UTF-8 file (editors on Windows write one).
    if isinstance(raw, str):
        raw = raw.removeprefix("\ufeff")
    else:
        raw = bytes(raw).removeprefix(_UTF8_BOM)
    try:
        value = orjson.loads(raw)  # orjson.JSONDecodeError subclasses json.JSONDecodeError
    except orjson.JSONDecodeError as exc:
        if exc.msg == "depth limit exceeded":  # orjson's own bound: the same refusal as ours
            raise _too_deep(exc.doc, min(max_depth, ORJSON_MAX_DEPTH)) from None
        raise
    if _deeper_than(value, max_depth):
        raise _too_deep(raw if isinstance(raw, str) else raw.decode("utf-8"), max_depth)  # valid: orjson read it
    return value


def where(exc: json.JSONDecodeError) -> str:
    """What a refusal says and where, for a person fixing a file: "trailing comma ... at line 3, column 17"."""
    return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"


def _too_deep(text: str, limit: int) -> json.JSONDecodeError:
    return json.JSONDecodeError(f"nested deeper than {limit} levels", text, _too_deep_at(text, limit))


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels; a walk, not a recursion."""
    stack = [(value, 1)] if isinstance(value, (list, dict)) else []
    while stack:
        container, depth = stack.pop()
        if depth > limit:
            return True
        children = container.values() if isinstance(container, dict) else container
        stack.extend((child, depth + 1) for child in children if isinstance(child, (list, dict)))
    return False


def _too_deep_at(text: str, limit: int) -> int:
    """The index of the bracket that opens level limit + 1 (only asked once the value is known too deep)."""
    depth, in_string, escaped = 0, False, False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return index
        elif char in "]}":
            depth -= 1
    return 0
