"""The proxy console's form: what the operator typed, checked for shape, turned into the
proxy's request body. The proxy itself decides what it accepts (registered providers only,
paths under their base URL); its refusal is shown as it words it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

METHODS = ("GET", "HEAD", "POST")
MAX_PATH_CHARS = 2000


@dataclass
class ProxyForm:
    provider: str = ""
    path: str = ""
    query: str = ""
    method: str = "GET"

    @classmethod
    def initial(cls) -> ProxyForm:
        return cls(provider="coingecko", path="/ping")

    @classmethod
    def read(cls, data: Mapping[str, str]) -> tuple[ProxyForm, str]:
        """(the form as typed, the first field error or "")."""
        form = cls(provider=data.get("provider", "").strip().lower(), path=data.get("path", "").strip(),
                   query=data.get("query", "").strip(), method=(data.get("method") or "GET").upper())
        if not form.provider:
            return form, "provider: choose a registered provider"
        if len(form.path) > MAX_PATH_CHARS:
            return form, f"path: at most {MAX_PATH_CHARS} characters"
        if form.method not in METHODS:
            return form, f"method: one of {', '.join(METHODS)}"
        return form, ""

    def body(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for key, value in parse_qsl(self.query.lstrip("?"), keep_blank_values=True):
            params.setdefault(key, value)
        body: dict[str, Any] = {"provider": self.provider, "path": self.path, "method": self.method}
        if params:
            body["params"] = params
        return body
