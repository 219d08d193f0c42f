"""A refused proxy call answers with exactly this status and JSON body.

`proxy_call` returns `ProxyRefused.status` and `ProxyRefused.as_json()` to the caller as they
are, so the reason text and the field it names are part of the API: a caller (or a client
library) shows them, and a typo or a wrong field in them is a bug the caller sees.
"""

import pytest

from healing.dataplane.proxy_policy import ProxyRefused, resolve
from healing.engine.config import ProviderConfig

PROVIDERS = {
    "coingecko": ProviderConfig(slug="coingecko", name="CoinGecko", category="market_data",
                                base_url="https://api.coingecko.com/api/v3", auth_type="header",
                                auth_param="x-cg-demo-api-key"),
    "etherscan": ProviderConfig(slug="etherscan", name="Etherscan", category="explorer",
                                base_url="https://api.etherscan.io/v2", auth_type="query", auth_param="apikey"),
    "rpc": ProviderConfig(slug="rpc", name="RPC", category="rpc", base_url="https://rpc.example.org",
                          allow_post=True),
    # A base URL parse_url refuses (userinfo): the provider cannot be reached through the proxy.
    "broken": ProviderConfig(slug="broken", name="Broken", category="rpc", base_url="https://u@rpc.example.net"),
}
CG = "https://api.coingecko.com/api/v3"
FIELDS = "['body', 'cache_ttl_s', 'method', 'params', 'path', 'provider', 'url']"


def on_cg(path, **extra):
    return {"provider": "coingecko", "path": path, **extra}


ANSWERS = [
    # (id, request body, status, detail, field)
    ("not an object", ["x"], 400, "the request body must be a JSON object", None),
    ("unknown field, name cut at 40", on_cg("/x", **{"h" * 50: 1}), 400,
     f"unknown fields ['{'h' * 40}']; allowed: {FIELDS}", "h" * 40),
    ("path and url", on_cg("/x", url=f"{CG}/x"), 400, "send either provider + path, or url", "path"),
    ("slug not a string", {"provider": 42, "path": "/x"}, 400, "provider must be a provider slug", "provider"),
    ("empty slug", {"provider": "", "path": "/x"}, 400, "provider must be a provider slug", "provider"),
    ("unknown slug, quoted up to 64 characters", {"provider": "p" * 100, "path": "/x"}, 403,
     f"'{'p' * 64}' is not a registered provider", "provider"),
    ("path not a string", on_cg(5), 400, "path must be a string", "path"),
    ("path embeds a URL", on_cg("/redirect/https://evil.com"), 400,
     "path must be relative to the provider's base URL, not an absolute URL", "path"),
    ("fragment in path", on_cg("/ping#top"), 400,
     "path must not contain '?' or '#'; send query parameters in params", "path"),
    ("control character", on_cg("/a\x01b"), 400, "path contains a control character", "path"),
    ("encoded DEL", on_cg("/a%7fb"), 400, "path contains a control character", "path"),
    ("raw DEL", on_cg("/a\x7fb"), 400, "path must be ASCII (percent-encode other characters)", "path"),
    ("encoded backslash after a decoded space", on_cg("/a%20%5cb"), 400, "path contains a backslash", "path"),
    ("single dot with a path parameter", on_cg("/.;/admin"), 400,
     "path contains a dot-segment ('..' or '.')", "path"),
    ("base URL the proxy cannot use", {"provider": "broken", "path": "/x"}, 403,
     "provider 'broken' has a base URL the proxy cannot use", None),
    ("path fits, base + path too long", on_cg("/" + "a" * 2039), 400, "path is longer than 2048 characters",
     "path"),
    ("no host", {"url": "https:///api/v3"}, 400, "url has no host", "url"),
    ("underscore in host", {"url": "https://api_x.example.com/"}, 400,
     "url: host 'api_x.example.com' has characters outside a-z 0-9 . -", "url"),
    ("empty port", {"url": "https://api.coingecko.com:/api/v3/ping"}, 400, "url has an empty port", "url"),
    ("empty fragment", {"url": f"{CG}/ping#"}, 400, "url must not contain a fragment ('#')", "url"),
    ("url too long", {"url": "https://h.com/" + "a" * 2035}, 400, "url is longer than 2048 characters", "url"),
    ("url under another provider", {"provider": "coingecko", "url": "https://api.etherscan.io/v2/api"}, 403,
     "url is not under provider 'coingecko''s base URL", "url"),
    ("url under no provider", {"url": "https://evil.com/x"}, 403,
     "url is not under any registered, enabled provider's base URL", "url"),
    ("key in the url's query", {"url": "https://api.etherscan.io/v2/api?APIKEY=x"}, 400,
     "the API key is added by the server; do not send it", "url"),
    ("method not a string", on_cg("/x", method=1), 400, "method must be a string", "method"),
    ("unknown method, quoted up to 10 characters", on_cg("/x", method="propfindxyz"), 400,
     "method 'PROPFINDXY' is not supported (GET, HEAD; POST where allowed)", "method"),
    ("params not an object", on_cg("/x", params=[1]), 400, "params must be an object", "params"),
    ("51 params", on_cg("/x", params={f"p{i}": i for i in range(51)}), 400, "params has more than 50 entries",
     "params"),
    ("bad name, quoted up to 40 characters", on_cg("/x", params={"a b" + "c" * 60: 1}), 400,
     f"params: 'a b{'c' * 37}' is not a valid parameter name", "params"),
    ("51 values", on_cg("/x", params={"ids": ["x"] * 51}), 400, "params.ids has more than 50 values", "params"),
    ("bad value in a list", on_cg("/x", params={"ids": ["btc", {"a": 1}]}), 400,
     "params.ids must be a string, number, boolean or a list of them", "params"),
    ("value too long", on_cg("/x", params={"q": "x" * 1001}), 400, "params.q is longer than 1000 characters",
     "params"),
    ("CR/LF after a space", on_cg("/x", params={"q": "a b\r\nX: y"}), 400,
     "params.q contains CR/LF (header injection)", "params.q"),
    ("cache_ttl_s a boolean", on_cg("/x", cache_ttl_s=True), 400, "cache_ttl_s must be a number from 0 to 3600",
     "cache_ttl_s"),
    ("cache_ttl_s with HEAD", on_cg("/x", method="HEAD", cache_ttl_s=30), 400, "only GET answers are cached",
     "cache_ttl_s"),
    ("body with GET", {"provider": "rpc", "path": "/", "body": {"a": 1}}, 400, "body is only sent with POST",
     "body"),
    ("body one byte past 64000", {"provider": "rpc", "path": "/", "method": "POST", "body": "x" * 63_999}, 400,
     "body is larger than 64000 bytes", "body"),
    ("dot encoded five times", on_cg("/a%252525252e"), 400, "path is percent-encoded more than 4 times", "path"),
]


@pytest.mark.parametrize("request_body,status,detail,field", [a[1:] for a in ANSWERS], ids=[a[0] for a in ANSWERS])
def test_a_refusal_answers_with_exactly_this_status_and_body(request_body, status, detail, field):
    """The status and JSON body the caller receives, word for word."""
    with pytest.raises(ProxyRefused) as info:
        resolve(request_body, PROVIDERS)
    expected = {"detail": detail} if field is None else {"detail": detail, "field": field}
    assert (info.value.status, info.value.as_json()) == (status, expected)


@pytest.mark.parametrize("url", ["http://[::1/x", "http://a]/x", "http://[abc]/x", "http://[::1]/x"])
def test_any_bracket_in_the_host_is_refused_as_an_ipv6_literal(url):
    """Unbalanced or non-IPv6 brackets are refused like an IPv6 literal, never an unhandled ValueError."""
    with pytest.raises(ProxyRefused) as info:
        resolve({"url": url}, PROVIDERS)
    assert (info.value.status, info.value.as_json()) == (
        400, {"detail": "url: IPv6 literal hosts are not allowed", "field": "url"})


def test_up_to_four_layers_of_percent_encoding_are_decoded():
    """A dot encoded four times is still read as a dot (and refused as one); a fifth layer is refused above."""
    with pytest.raises(ProxyRefused) as info:
        resolve(on_cg("/%2525252e/admin"), PROVIDERS)
    assert info.value.as_json() == {"detail": "path contains a dot-segment ('..' or '.')", "field": "path"}
    assert resolve(on_cg("/a%25252541"), PROVIDERS).path == "/a%25252541"


def test_the_exception_text_is_the_reason():
    """str() of a refusal (what a log line shows) is its reason."""
    with pytest.raises(ProxyRefused) as info:
        resolve(on_cg("/x", method=1), PROVIDERS)
    assert str(info.value) == "method must be a string" == info.value.reason
