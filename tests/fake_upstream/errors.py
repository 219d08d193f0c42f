"""Each provider's own error bodies for the rate_limit (HTTP 429) and error_in_200 faults.

JSON bodies are dicts or lists; bytes are HTML pages (served as text/html), as mempool.space's
nginx and the news sites' bot walls answer. error_in_200 takes variant="rate_limit" to send the
provider's rate-limit body with HTTP 200 instead of its generic error.
"""

from __future__ import annotations

from typing import Any

from tests.fake_upstream import defi_markets

NGINX_429 = (b"<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
             b"<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
# What a feed URL answers a client the bot protection does not trust: a challenge page, with 200.
BOT_WALL = (b"<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title></head>"
            b"<body><noscript>Enable JavaScript and cookies to continue</noscript></body></html>")
FEED_SLUGS = ("coindesk", "cointelegraph", "bitcoinist", "decrypt", "theblock", "blockworks", "bitcoinmagazine",
              "cryptoslate", "newsbtc", "utoday", "beincrypto", "cryptopotato")

RATE_LIMIT_BODY: dict[str, Any] = {
    "coingecko": {"status": {"error_code": 429, "error_message": (
        "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing "
        "to subscribe to our API plans for higher rate limits.")}},
    "coinpaprika": {"error": "Too many requests"},
    "coincap": {"error": "Too Many Requests"},
    "cryptocompare": {"Response": "Error", "Message": "You are over your rate limit please upgrade your account!",
                      "HasWarning": False, "Type": 99, "RateLimit": {"calls_made": {"second": 21},
                                                                      "max_calls": {"second": 20}}, "Data": {}},
    "binance": {"code": -1003,
                "msg": "Too much request weight used; current limit is 6000 request weight per 1 MINUTE."},
    "kraken": {"error": ["EAPI:Rate limit exceeded"]},
    "coinbase": {"errors": [{"id": "rate_limit_exceeded", "message": "Too many requests"}]},
    "kucoin": {"code": "429000", "msg": "Too Many Requests"},
    "bitfinex": {"error": "ERR_RATE_LIMIT"},
    "okx": {"msg": "Too Many Requests", "code": "50011"},
    "bitstamp": {"status": "error", "reason": "Rate limit exceeded"},
    "gemini": {"result": "error", "reason": "RateLimited",
               "message": "Requests were made too frequently in the last minute. Slow down and retry after 1 second."},
    "bybit": {"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "retExtInfo": {}, "time": 1749556800123},
    "gateio": {"label": "TOO_MANY_REQUESTS", "message": "Request Rate limit Exceeded"},
    "coinlore": {"error": "Too many requests"},
    "dia": {"errorcode": 429, "errormessage": "too many requests"},
    "alternative_me": {"name": "Fear and Greed Index", "data": [], "metadata": {"error": "Too many requests"}},
    "coinmarketcap": {"status": {"timestamp": "2025-06-10T12:00:00.115Z", "error_code": 1008, "error_message": (
        "You've exceeded your API Key's HTTP request rate limit. Rate limits reset every minute."),
        "elapsed": 0, "credit_count": 0}},
    "defillama": {"message": "Too Many Requests"},
    "yearn_ydaemon": {"error": "rate limit exceeded"},
    "etherscan": {"status": "0", "message": "NOTOK", "result": "Max calls per sec rate limit reached (3/sec)"},
    "mempool_space": NGINX_429,
    "blockchair": {"data": None, "context": {"code": 429, "error": (
        "Limit exceeded: the free tier allows 30 requests per minute. Get an API key at https://api.blockchair.com"),
        "state": None, "cache": None, "request_cost": 1}},
    "publicnode_eth": {"jsonrpc": "2.0", "id": 1, "error": {"code": -32005, "message": "rate limit exceeded"}},
    "cryptopanic": {"status": "api_error", "info": "API rate limit exceeded. Try again later."},
    **{slug: NGINX_429 for slug in FEED_SLUGS},
    **defi_markets.RATE_LIMIT_BODY,
}

ERROR_IN_200_BODY: dict[str, Any] = {
    "coingecko": RATE_LIMIT_BODY["coingecko"],
    "coinpaprika": {"error": "internal error"},
    "coincap": {"data": {"message": "We are deprecating this version of the CoinCap API, please use v3."},
                "timestamp": 1749556800000},
    "cryptocompare": {"Response": "Error", "Message": "Something went wrong on our side.", "HasWarning": False,
                      "Type": 1, "RateLimit": {}, "Data": {}},
    "binance": {"code": -1000, "msg": "An unknown error occurred while processing the request."},
    "dia": {"errorcode": 500, "errormessage": "internal server error"},
    "kraken": {"error": ["EGeneral:Internal error"]},
    "coinbase": {"errors": [{"id": "internal_server_error", "message": "Internal server error"}]},
    "kucoin": {"code": "500000", "msg": "Internal Server Error"},
    "bitfinex": ["error", 20060, "maintenance"],
    "okx": {"code": "50001", "msg": "Service temporarily unavailable", "data": []},
    "bitstamp": {"status": "error", "reason": "Internal error"},
    "gemini": {"result": "error", "reason": "System", "message": "We are experiencing technical issues"},
    "bybit": {"retCode": 10016, "retMsg": "Internal system error.", "result": {}, "retExtInfo": {},
              "time": 1749556800123},
    "gateio": {"label": "SERVER_ERROR", "message": "Internal server error"},
    "alternative_me": {"name": "Fear and Greed Index", "data": [], "metadata": {"error": "Internal error"}},
    "coinmarketcap": {"status": {"timestamp": "2025-06-10T12:00:00.115Z", "error_code": 500,
                                 "error_message": "An internal server error occurred", "elapsed": 0,
                                 "credit_count": 0}},
    "defillama": {"message": "Internal server error"},
    "yearn_ydaemon": {"error": "internal error"},
    "etherscan": {"status": "0", "message": "NOTOK", "result": "Error! Something went wrong, please retry"},
    "blockchair": {"data": None, "context": {"code": 503, "error": "Service temporarily unavailable",
                                             "state": None, "cache": None, "request_cost": 1}},
    "publicnode_eth": {"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "internal error"}},
    "cryptopanic": {"status": "api_error", "info": "Something went wrong"},
    **{slug: BOT_WALL for slug in FEED_SLUGS},
    **defi_markets.ERROR_IN_200_BODY,
}

# Binance's API elsewhere answers with Binance's own error bodies.
for _slug in ("binance_vision", "binance_us"):
    RATE_LIMIT_BODY[_slug] = RATE_LIMIT_BODY["binance"]
    ERROR_IN_200_BODY[_slug] = ERROR_IN_200_BODY["binance"]
