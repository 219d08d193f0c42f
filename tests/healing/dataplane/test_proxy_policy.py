"""The proxy's URL checks are pure: every hostile input is refused with a reason, in a table."""

import pytest

from healing.dataplane.proxy_policy import (
    MAX_BODY_BYTES,
    ProxyRefused,
    parse_url,
    relative_path,
    resolve,
    safe_headers,
)
from healing.engine.config import ProviderConfig

PROVIDERS = {
    "coingecko": ProviderConfig(slug="coingecko", name="CoinGecko", category="market_data",
                                base_url="https://api.coingecko.com/api/v3", auth_type="header",
                                auth_param="x-cg-demo-api-key", api_key_env="CG_KEY"),
    "etherscan": ProviderConfig(slug="etherscan", name="Etherscan", category="explorer",
                                base_url="https://api.etherscan.io/v2", auth_type="query", auth_param="apikey",
                                api_key_env="ETHERSCAN_KEY"),
    "rpc": ProviderConfig(slug="rpc", name="RPC", category="rpc", base_url="https://rpc.example.org",
                          allow_post=True),
    "local": ProviderConfig(slug="local", name="Local", category="market_data",
                            base_url="http://127.0.0.1:8123/coingecko"),
    "off": ProviderConfig(slug="off", name="Off", category="market_data", base_url="https://off.example.com",
                          enabled=False),
}


# --- accepted ------------------------------------------------------------------------------

ACCEPTED = [
    # (request, provider, relative path, params, method)
    ({"provider": "coingecko", "path": "/simple/price", "params": {"ids": "bitcoin", "vs_currencies": "usd"}},
     "coingecko", "/simple/price", {"ids": "bitcoin", "vs_currencies": "usd"}, "GET"),
    ({"provider": "coingecko", "path": "simple/price"}, "coingecko", "/simple/price", {}, "GET"),
    ({"provider": "coingecko", "path": ""}, "coingecko", "", {}, "GET"),
    ({"provider": "coingecko", "path": "/ping", "method": "head"}, "coingecko", "/ping", {}, "HEAD"),
    ({"url": "https://api.coingecko.com/api/v3/simple/price?ids=bitcoin&vs_currencies=usd"},
     "coingecko", "/simple/price", {"ids": "bitcoin", "vs_currencies": "usd"}, "GET"),
    ({"url": "HTTPS://API.CoinGecko.com:443/api/v3/ping"}, "coingecko", "/ping", {}, "GET"),
    ({"url": "https://api.coingecko.com/api/v3"}, "coingecko", "", {}, "GET"),
    ({"url": "http://127.0.0.1:8123/coingecko/simple/price"}, "local", "/simple/price", {}, "GET"),
    ({"provider": "etherscan", "path": "/api", "params": {"chainid": 1, "module": "proxy", "flag": True}},
     "etherscan", "/api", {"chainid": "1", "module": "proxy", "flag": "true"}, "GET"),
    ({"provider": "rpc", "path": "/", "method": "POST", "body": {"jsonrpc": "2.0", "method": "eth_blockNumber"}},
     "rpc", "/", {}, "POST"),
    ({"provider": "coingecko", "path": "/search", "params": {"query": "wrapped bitcoin", "tags": ["a", "b"]}},
     "coingecko", "/search", {"query": "wrapped bitcoin", "tags": ["a", "b"]}, "GET"),
]


@pytest.mark.parametrize("request_body,provider,path,params,method", ACCEPTED)
def test_accepts_calls_under_a_registered_base_url(request_body, provider, path, params, method):
    target = resolve(request_body, PROVIDERS)
    assert (target.provider, target.path, target.params, target.method) == (provider, path, params, method)


def test_url_form_picks_the_longest_matching_base_url():
    providers = {**PROVIDERS, "cg-pro": ProviderConfig(slug="cg-pro", name="x", category="market_data",
                                                       base_url="https://api.coingecko.com/api/v3/pro")}
    assert resolve({"url": "https://api.coingecko.com/api/v3/pro/x"}, providers).provider == "cg-pro"
    assert resolve({"url": "https://api.coingecko.com/api/v3/x"}, providers).provider == "coingecko"


def test_post_body_and_cache_ttl_are_kept():
    target = resolve({"provider": "rpc", "path": "/", "method": "POST", "body": [1, 2]}, PROVIDERS)
    assert target.body == [1, 2]
    assert resolve({"provider": "coingecko", "path": "/ping", "cache_ttl_s": 30}, PROVIDERS).cache_ttl_s == 30.0


# --- refused -------------------------------------------------------------------------------

CG = "https://api.coingecko.com/api/v3"
REFUSED = [
    # (id, request body, status, field, words in the reason)
    ("other host", {"url": "https://evil.com/api/v3/ping"}, 403, "url", "not under"),
    ("other host with provider", {"provider": "coingecko", "url": "https://evil.com/api/v3"}, 403, "url", "not under"),
    ("userinfo trick", {"url": "https://api.coingecko.com@evil.com/api/v3/ping"}, 400, "url", "userinfo"),
    ("userinfo with password", {"url": "https://a:b@api.coingecko.com/api/v3/ping"}, 400, "url", "userinfo"),
    ("encoded at sign", {"url": "https://api.coingecko.com%40evil.com/api/v3"}, 400, "url", "percent-encoded"),
    ("encoded host", {"url": "https://%61pi.coingecko.com/api/v3/ping"}, 400, "url", "percent-encoded"),
    ("dot-dot escape", {"url": f"{CG}/../../admin"}, 400, "url", "dot-segment"),
    ("dot-dot in path", {"provider": "coingecko", "path": "/../v2/secret"}, 400, "path", "dot-segment"),
    ("encoded dot-dot", {"provider": "coingecko", "path": "/%2e%2e/%2e%2e/admin"}, 400, "path", "dot-segment"),
    ("upper-case encoded dot-dot", {"url": f"{CG}/%2E%2E/x"}, 400, "url", "dot-segment"),
    ("double-encoded dot-dot", {"provider": "coingecko", "path": "/%252e%252e/admin"}, 400, "path", "dot-segment"),
    ("triple-encoded dot-dot", {"url": f"{CG}/%25252e%25252e/admin"}, 400, "url", "dot-segment"),
    ("encoded slash dot-dot", {"provider": "coingecko", "path": "/x%2f..%2f..%2fadmin"}, 400, "path", "dot-segment"),
    ("dot-dot-semicolon", {"provider": "coingecko", "path": "/..;/admin"}, 400, "path", "dot-segment"),
    ("single dot", {"provider": "coingecko", "path": "/./ping"}, 400, "path", "dot-segment"),
    ("too deeply encoded", {"provider": "coingecko", "path": "/%2525252525252e"}, 400, "path", "percent-encoded"),
    ("backslash", {"url": "https://api.coingecko.com\\@evil.com/api/v3"}, 400, "url", "backslash"),
    ("backslash in path", {"provider": "coingecko", "path": "/..\\..\\admin"}, 400, "path", "backslash"),
    ("encoded backslash", {"provider": "coingecko", "path": "/%5c..%5cadmin"}, 400, "path", "backslash"),
    ("ipv6 loopback", {"url": "http://[::1]/api/v3"}, 400, "url", "IPv6"),
    ("ipv6 mapped", {"url": "http://[::ffff:127.0.0.1]:8123/coingecko"}, 400, "url", "IPv6"),
    ("decimal ip", {"url": "http://2130706433/"}, 400, "url", "numeric IP"),
    ("hex ip", {"url": "http://0x7f.1/"}, 400, "url", "numeric IP"),
    ("hex ip full", {"url": "http://0x7f000001:8123/coingecko"}, 400, "url", "numeric IP"),
    ("octal ip", {"url": "http://0177.0.0.1:8123/coingecko"}, 400, "url", "numeric IP"),
    ("short ip", {"url": "http://127.1:8123/coingecko"}, 400, "url", "numeric IP"),
    ("other ip", {"url": "http://127.0.0.2:8123/coingecko/x"}, 403, "url", "not under"),
    ("other port", {"url": "http://127.0.0.1:8124/coingecko/x"}, 403, "url", "not under"),
    ("other scheme same host", {"url": "http://api.coingecko.com/api/v3/ping"}, 403, "url", "not under"),
    ("sibling path", {"url": "https://api.coingecko.com/api/v3evil/ping"}, 403, "url", "not under"),
    ("file scheme", {"url": "file:///etc/passwd"}, 400, "url", "scheme"),
    ("gopher scheme", {"url": "gopher://api.coingecko.com/api/v3"}, 400, "url", "scheme"),
    ("javascript scheme", {"url": "javascript:alert(1)"}, 400, "url", "scheme"),
    ("scheme-relative url", {"url": "//api.coingecko.com/api/v3"}, 400, "url", "absolute"),
    ("missing slashes", {"url": "https:api.coingecko.com/api/v3"}, 400, "url", "https://host"),
    ("unicode host", {"url": "https://api.coingеcko.com/api/v3"}, 400, "url", "ASCII"),
    ("trailing-dot host", {"url": "https://api.coingecko.com./api/v3/ping"}, 403, "url", "not under"),
    ("bad port", {"url": "https://api.coingecko.com:99999/api/v3"}, 400, "url", "port"),
    ("fragment", {"url": f"{CG}/ping#@evil.com"}, 400, "url", "fragment"),
    ("absolute url as path", {"provider": "coingecko", "path": "https://evil.com/x"}, 400, "path", "absolute"),
    ("scheme-relative path", {"provider": "coingecko", "path": "//evil.com/x"}, 400, "path", "absolute"),
    ("encoded absolute path", {"provider": "coingecko", "path": "https%3A%2F%2Fevil.com"}, 400, "path", "absolute"),
    ("query inside path", {"provider": "coingecko", "path": "/ping?x=1"}, 400, "path", "params"),
    ("CRLF in path", {"provider": "coingecko", "path": "/ping\r\nHost: evil.com"}, 400, "path", "CR/LF"),
    ("encoded CRLF in path", {"provider": "coingecko", "path": "/ping%0d%0aX-Evil:%201"}, 400, "path", "CR/LF"),
    ("CRLF in url", {"url": f"{CG}/ping%0D%0ASet-Cookie:x"}, 400, "url", "CR/LF"),
    ("CRLF in param", {"provider": "coingecko", "path": "/ping", "params": {"a": "1\r\nX: y"}}, 400, "params.a",
     "CR/LF"),
    ("bad param name", {"provider": "coingecko", "path": "/ping", "params": {"a\nb": "1"}}, 400, "params", "name"),
    ("nested param", {"provider": "coingecko", "path": "/ping", "params": {"a": {"b": 1}}}, 400, "params", "string"),
    ("caller sends the key", {"provider": "etherscan", "path": "/api", "params": {"apikey": "x"}}, 400, "params",
     "added by the server"),
    ("key in url query", {"url": "https://api.etherscan.io/v2/api?APIKEY=x"}, 400, "url", "added by the server"),
    ("empty segment", {"provider": "coingecko", "path": "/a//b"}, 400, "path", "empty segment"),
    ("whitespace", {"provider": "coingecko", "path": "/a b"}, 400, "path", "whitespace"),
    ("unknown provider", {"provider": "nope", "path": "/x"}, 403, "provider", "not a registered provider"),
    ("disabled provider", {"provider": "off", "path": "/x"}, 403, "provider", "disabled"),
    ("disabled provider by url", {"url": "https://off.example.com/x"}, 403, "url", "not under"),
    ("post not allowed", {"provider": "coingecko", "path": "/x", "method": "POST"}, 403, "method", "GET and HEAD"),
    ("delete", {"provider": "rpc", "path": "/x", "method": "DELETE"}, 400, "method", "not supported"),
    ("body with get", {"provider": "rpc", "path": "/x", "body": {"a": 1}}, 400, "body", "only sent with POST"),
    ("huge body", {"provider": "rpc", "path": "/", "method": "POST", "body": "x" * MAX_BODY_BYTES}, 400, "body",
     "larger"),
    ("both path and url", {"provider": "coingecko", "path": "/x", "url": f"{CG}/x"}, 400, "path", "either"),
    ("neither", {"provider": "coingecko"}, 400, "path", "either"),
    ("unknown field", {"provider": "coingecko", "path": "/x", "headers": {"Host": "evil"}}, 400, "headers",
     "unknown fields"),
    ("not an object", ["https://api.coingecko.com/api/v3"], 400, None, "JSON object"),
    ("url not a string", {"url": 42}, 400, "url", "string"),
    ("negative cache ttl", {"provider": "coingecko", "path": "/x", "cache_ttl_s": -1}, 400, "cache_ttl_s", "0 to"),
]


@pytest.mark.parametrize("request_body,status,field,words", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refuses_hostile_input_with_a_reason(request_body, status, field, words):
    with pytest.raises(ProxyRefused) as info:
        resolve(request_body, PROVIDERS)
    refused = info.value
    assert (refused.status, refused.field) == (status, field)
    assert words.lower() in refused.reason.lower()
    assert refused.as_json()["detail"] == refused.reason


def test_numeric_ip_spellings_are_refused_but_the_canonical_quad_parses():
    assert parse_url("http://127.0.0.1:8123/x").host == "127.0.0.1"
    for spelling in ("2130706433", "0x7f.0.0.1", "017700000001", "127.0.0.01", "256.1.1.1", "1.2.3"):
        with pytest.raises(ProxyRefused):
            parse_url(f"http://{spelling}/")


def test_relative_path_compares_origin_and_path_prefix():
    base = parse_url("https://api.coingecko.com/api/v3/")
    assert relative_path(parse_url("https://api.coingecko.com/api/v3/ping"), base) == "/ping"
    assert relative_path(parse_url("https://api.coingecko.com:443/api/v3"), base) == ""
    assert relative_path(parse_url("https://api.coingecko.com/api/v3x"), base) is None
    assert relative_path(parse_url("https://api.coingecko.com:8443/api/v3/ping"), base) is None
    # The decoded meaning must sit under the base as well as the bytes sent.
    assert relative_path(parse_url("https://api.coingecko.com/api/%76%33/ping"), base) is None


def test_only_safe_response_headers_pass():
    upstream = {
        "Content-Type": "application/json", "Cache-Control": "max-age=10", "ETag": '"a"',
        "Last-Modified": "x", "Retry-After": "5", "Set-Cookie": "session=1", "Location": "https://evil.com",
        "WWW-Authenticate": "Bearer", "Authorization": "k", "X-Api-Key": "k", "Server": "nginx",
        "Access-Control-Allow-Origin": "*", "Proxy-Authenticate": "Basic",
    }
    assert safe_headers(upstream) == {
        "content-type": "application/json", "cache-control": "max-age=10", "etag": '"a"',
        "last-modified": "x", "retry-after": "5",
    }
