"""The fake's ASGI app: routing, faults and the control API. One process holds all the state."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from typing import Any
from urllib.parse import parse_qs

import uvicorn

from tests.fake_upstream import (
    aggregators,
    chain_accounts,
    chain_explorers,
    defi_markets,
    depth,
    exchanges,
    feeds,
    listings,
    market,
    mirrors,
    more_exchanges,
    more_feeds,
    onchain,
    tickers,
)
from tests.fake_upstream.errors import ERROR_IN_200_BODY, RATE_LIMIT_BODY
from tests.fake_upstream.market import GAS, STATE, Answer, generic_answer, jsonrpc_answer

# Later tables win: aggregators extends market's CoinGecko and CoinPaprika answers, defi_markets
# aggregators' CoinGecko (its stablecoins category).
PROVIDERS = {**market.PROVIDERS, **aggregators.PROVIDERS, **exchanges.PROVIDERS, **more_exchanges.PROVIDERS,
             **onchain.PROVIDERS, **feeds.PROVIDERS, **more_feeds.PROVIDERS, **chain_accounts.PROVIDERS,
             **chain_explorers.PROVIDERS, **defi_markets.PROVIDERS, **mirrors.PROVIDERS}
RATE_LIMIT_BODY.update({**chain_accounts.RATE_LIMIT_BODY, **chain_explorers.RATE_LIMIT_BODY})
ERROR_IN_200_BODY.update({**chain_accounts.ERROR_IN_200_BODY, **chain_explorers.ERROR_IN_200_BODY})
# Candles and order books answer in front of each exchange's own handler (depth.py).
PROVIDERS = depth.with_depth(PROVIDERS, generic_answer)
# The 24 h tickers the price answers do not already give, in front of those (tickers.py).
PROVIDERS = depth.with_depth(PROVIDERS, generic_answer, tickers.TICKER_HANDLERS)
# The listings the asset registry sync reads, in front of those (listings.py).
PROVIDERS = listings.with_listings(PROVIDERS)
RATE_LIMIT_BODY.update(depth.RATE_LIMIT_BODY)
# Binance's public data mirror is Binance's own answers (same paths, shapes and data).
PROVIDERS["binance_vision"] = PROVIDERS["binance"]

FAULT_KINDS = frozenset({"latency", "hang", "reset", "status", "rate_limit", "teapot", "error_in_200",
                         "malformed", "nested", "oversized", "ok"})
HANG_MAX_S = 300  # a hung request is dropped after this long even if the client never gives up
OVERSIZED_BYTES = 6 * 1024 * 1024

# Versioned base paths of the real providers, accepted with or without the prefix.
BASE_PREFIX = {"coingecko": "/api/v3", "coinpaprika": "/v1", "coincap": "/v3", "coinbase": "/v2", "coinlore": "/api",
               "bitfinex": "/v2", "mempool_space": "/api", "cryptopanic": "/api", "blockstream": "/api", "dia": "/v1"}

# --- faults -----------------------------------------------------------------------------------

HTML_ERROR = "<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n<center><h1>{0}</h1></center>\r\n" \
             "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
_OVERSIZED_CACHE: dict[int, bytes] = {}


def _oversized(size: int) -> bytes:
    if size not in _OVERSIZED_CACHE:
        _OVERSIZED_CACHE.clear()
        _OVERSIZED_CACHE[size] = b'{"padding":"' + b"x" * max(size - 14, 0) + b'"}'
    return _OVERSIZED_CACHE[size]


async def _reset_connection(send: Any) -> None:
    """Close the TCP connection with an RST and no response.

    ASGI gives no handle on the socket; uvicorn's `send` is a bound method of its per-request
    cycle, which holds the transport. SO_LINGER 0 turns the close into a reset.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("cannot reach the transport to reset the connection")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # Let uvicorn see connection_lost so it does not try to send its own 500.
    for _ in range(3):
        await asyncio.sleep(0)


async def _apply_fault(fault: dict[str, Any], slug: str, receive: Any, send: Any, normal: Answer) -> bool:
    """Answer with the fault; False means "carry on with the normal answer" (latency)."""
    kind = fault["kind"]
    retry_after = {"retry-after": str(fault["retry_after"])} if fault.get("retry_after") is not None else {}
    if kind == "latency":
        await asyncio.sleep(fault.get("ms", 300) / 1000)
        return False
    if kind == "hang":
        try:
            async with asyncio.timeout(HANG_MAX_S):
                while (await receive())["type"] != "http.disconnect":
                    pass
        except TimeoutError:
            await _reset_connection(send)
        return True
    if kind == "reset":
        await _reset_connection(send)
    elif kind == "status":
        status = int(fault.get("status", 503))
        if fault.get("body") == "json":
            await _respond(send, status, {"error": f"upstream status {status}"})
        else:
            page = HTML_ERROR.format(f"{status} Service Error").encode()
            await _respond(send, status, page, content_type="text/html")
    elif kind == "rate_limit":
        body = RATE_LIMIT_BODY.get(slug, {"error": "rate limit exceeded"})
        await _respond(send, 429, body, {"retry-after": "1", **retry_after}, content_type=_type_of(body))
    elif kind == "teapot":
        body = {"code": -1003, "msg": "Way too much request weight used; IP banned until 1749557400000."}
        await _respond(send, 418, body, retry_after)
    elif kind == "error_in_200":
        body = ERROR_IN_200_BODY.get(slug, {"error": "internal error"})
        if fault.get("variant") == "rate_limit":
            body = RATE_LIMIT_BODY.get(slug, body)
        await _respond(send, 200, body, content_type=_type_of(body))
    elif kind == "malformed":
        complete = normal[1] if isinstance(normal[1], bytes) else json.dumps(normal[1]).encode()
        content_type = normal[2].get("content-type", "application/json")
        await _respond(send, 200, complete[: max(1, len(complete) // 2)], content_type=content_type)
    elif kind == "nested":
        # Valid JSON nested thousands of levels deep: what the standard decoder recurses on.
        depth = int(fault.get("depth", 5000))
        await _respond(send, 200, b"[" * depth + b"]" * depth)
    elif kind == "oversized":
        body = _oversized(int(fault.get("bytes", OVERSIZED_BYTES)))
        await _respond(send, 200, body, chunked=bool(fault.get("chunked")))
    return True


# --- the ASGI app -----------------------------------------------------------------------------


def _type_of(body: Any) -> str:
    # Bytes bodies in the error tables are HTML pages; everything else is JSON.
    return "text/html" if isinstance(body, bytes) else "application/json"


async def _respond(send: Any, status: int, body: Any, headers: dict[str, str] | None = None, *,
                   content_type: str = "application/json", chunked: bool = False) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = dict(headers or {})
    # An answer may set its own content type (feeds are XML).
    content_type = headers.pop("content-type", content_type)
    raw_headers = [(b"content-type", content_type.encode())]
    if not chunked:
        raw_headers.append((b"content-length", str(len(data)).encode()))
    raw_headers += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    if not chunked:
        await send({"type": "http.response.body", "body": data})
        return
    step = 256 * 1024
    for start in range(0, len(data), step):
        await send({"type": "http.response.body", "body": data[start:start + step], "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _control(method: str, action: str, body: bytes, send: Any) -> None:
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return await _respond(send, 400, {"error": "body is not JSON"})
    if action == "calls":
        return await _respond(send, 200, {"total": STATE.total, "by_slug": STATE.by_slug, "by_path": STATE.by_path})
    if action == "requests":
        return await _respond(send, 200, list(STATE.recent))
    if method != "POST":
        return await _respond(send, 405, {"error": "POST only"})
    if action == "reset":
        STATE.reset()
    elif action == "fault":
        if data.get("kind") not in FAULT_KINDS or not data.get("slug"):
            return await _respond(send, 400, {"error": f"slug and kind (one of {sorted(FAULT_KINDS)}) are required"})
        if data["kind"] == "ok":
            STATE.faults.pop(data["slug"], None)
        else:
            STATE.faults[data["slug"]] = data
    elif action == "price":
        if not data.get("id") or not data.get("vs") or not isinstance(data.get("price"), int | float):
            return await _respond(send, 400, {"error": "id, vs and a numeric price are required"})
        STATE.overrides[(data.get("slug") or "*", data["id"], data["vs"].lower())] = data["price"]
    elif action == "gas":
        if data.get("chain") not in GAS or not isinstance(data.get("standard"), int | float) or data["standard"] <= 0:
            return await _respond(send, 400, {"error": f"chain (one of {sorted(GAS)}) and a positive standard level "
                                                       "are required"})
        STATE.gas_overrides[(data.get("slug") or "*", data["chain"])] = data["standard"]
    elif action == "clock":
        STATE.epoch = data.get("epoch")
    else:
        return await _respond(send, 404, {"error": f"no control action {action!r}"})
    await _respond(send, 200, {"ok": True})


async def app(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    body = await _read_body(receive)
    if path.startswith("/_control/"):
        return await _control(scope["method"], path.removeprefix("/_control/"), body, send)
    slug, _, rest = path.lstrip("/").partition("/")
    rest = "/" + rest
    STATE.total += 1
    STATE.by_slug[slug] = STATE.by_slug.get(slug, 0) + 1
    STATE.by_path[path] = STATE.by_path.get(path, 0) + 1
    STATE.recent.append({"slug": slug, "method": scope["method"], "path": path,
                         "query": scope["query_string"].decode("latin-1"),
                         "headers": {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}})
    prefix = BASE_PREFIX.get(slug)
    if prefix and rest.startswith(prefix + "/"):
        rest = rest.removeprefix(prefix)
    fault = STATE.take_fault(slug, rest)
    normal: Answer | None = None
    if fault is None or fault["kind"] in ("latency", "malformed"):
        query = parse_qs(scope["query_string"].decode("latin-1"))
        if scope["method"] == "POST" and body:
            try:
                request = json.loads(body)
                normal = chain_explorers.post_answer(slug, rest, request, STATE.now()) or \
                    (200, jsonrpc_answer(request, slug), {})
            except ValueError:
                normal = 400, {"error": "body is not JSON"}, {}
        else:
            handler = PROVIDERS.get(slug)
            normal = handler(rest, query, STATE.now()) if handler else generic_answer(slug, rest)
    if fault is not None and await _apply_fault(fault, slug, receive, send, normal):
        return
    status, payload, headers = normal
    await _respond(send, status, payload, headers)


def serve(port: int) -> None:
    # One process on purpose: faults and counters must be one shared state.
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off",
                backlog=4096, timeout_keep_alive=30)
