"""The proxy policy's limits are inclusive, and what it accepts reaches the provider as the caller meant."""

import json

import pytest

from healing.dataplane.proxy_policy import (
    MAX_BODY_BYTES,
    MAX_PARAM_LENGTH,
    MAX_PARAM_VALUES,
    MAX_PARAMS,
    MAX_PROXY_CACHE_TTL_S,
    MAX_URL_LENGTH,
    ProxyRefused,
    check_path,
    parse_url,
    resolve,
)
from healing.engine.config import ProviderConfig


def provider(slug, base_url, **extra):
    return ProviderConfig(slug=slug, name=slug, category="market_data", base_url=base_url, **extra)


PROVIDERS = {
    "coingecko": provider("coingecko", "https://api.coingecko.com/api/v3", auth_type="header",
                          auth_param="x-cg-demo-api-key"),
    "rpc": provider("rpc", "https://rpc.example.org", allow_post=True),
    "broken": provider("broken", "https://u@rpc.example.net"),
}
CG = "https://api.coingecko.com/api/v3"


def refused(request, providers=PROVIDERS):
    with pytest.raises(ProxyRefused) as info:
        resolve(request, providers)
    return info.value


# --- limits are inclusive -------------------------------------------------------------------


def test_a_body_of_exactly_the_limit_is_sent_one_byte_more_is_refused():
    """MAX_BODY_BYTES is the largest serialized body accepted."""
    at_limit = "x" * (MAX_BODY_BYTES - 2)  # json.dumps adds the two quotes
    assert len(json.dumps(at_limit)) == MAX_BODY_BYTES == 64_000
    post = {"provider": "rpc", "path": "/", "method": "POST"}
    assert resolve({**post, "body": at_limit}, PROVIDERS).body == at_limit
    assert refused({**post, "body": at_limit + "x"}).field == "body"


@pytest.mark.parametrize("ttl,kept", [(None, 0), (0, 0.0), (0.5, 0.5), (MAX_PROXY_CACHE_TTL_S, 3600.0)])
def test_cache_ttl_from_0_to_the_maximum_is_kept_and_absent_means_no_caching(ttl, kept):
    """cache_ttl_s accepts 0..MAX_PROXY_CACHE_TTL_S inclusive; without it the answer is not cached (0)."""
    request = {"provider": "coingecko", "path": "/ping"}
    if ttl is not None:
        request["cache_ttl_s"] = ttl
    target = resolve(request, PROVIDERS)
    assert target.cache_ttl_s == kept and type(target.cache_ttl_s) is type(kept)


def test_cache_ttl_past_the_maximum_is_refused():
    """One past MAX_PROXY_CACHE_TTL_S is refused, as is a boolean that Python would count as 1."""
    for ttl in (MAX_PROXY_CACHE_TTL_S + 0.5, True, "30"):
        assert refused({"provider": "coingecko", "path": "/ping", "cache_ttl_s": ttl}).field == "cache_ttl_s"


def test_exactly_the_maximum_number_of_params_and_values_and_characters_is_accepted():
    """MAX_PARAMS entries, MAX_PARAM_VALUES values in a list and MAX_PARAM_LENGTH characters all pass."""
    params = {f"p{i}": i for i in range(MAX_PARAMS - 2)}
    params.update(ids=["x"] * MAX_PARAM_VALUES, q="q" * MAX_PARAM_LENGTH)
    assert len(params) == MAX_PARAMS
    target = resolve({"provider": "coingecko", "path": "/x", "params": params}, PROVIDERS)
    assert target.params["ids"] == ["x"] * MAX_PARAM_VALUES and target.params["q"] == "q" * MAX_PARAM_LENGTH


def test_a_url_of_exactly_the_maximum_length_parses():
    """MAX_URL_LENGTH characters is still a URL the proxy reads; one more is refused."""
    url = "https://h.com/" + "a" * (MAX_URL_LENGTH - len("https://h.com/"))
    assert len(url) == MAX_URL_LENGTH and parse_url(url).path == url[len("https://h.com"):]
    with pytest.raises(ProxyRefused):
        parse_url(url + "a")


def test_the_highest_dotted_quad_parses():
    """Each label of a canonical dotted quad may be up to 255."""
    assert parse_url("http://255.255.255.255/x").host == "255.255.255.255"
    assert parse_url("http://10.0.0.255/x").host == "10.0.0.255"


# --- characters that are fine ---------------------------------------------------------------


def test_tilde_upper_case_and_decoded_spaces_are_allowed():
    """'~' is printable ASCII, 'X' is a letter like any other, and a decoded space is harmless."""
    target = resolve({"provider": "coingecko", "path": "/~user/eXample/wrapped%20bitcoin",
                      "params": {"XX": "X b"}}, PROVIDERS)
    assert (target.path, target.params) == ("/~user/eXample/wrapped%20bitcoin", {"XX": "X b"})


def test_a_false_flag_is_sent_as_false():
    """Booleans in params become the words true/false, not Python's True/False."""
    target = resolve({"provider": "coingecko", "path": "/x", "params": {"on": True, "off": False}}, PROVIDERS)
    assert target.params == {"on": "true", "off": "false"}


# --- the url form's query -------------------------------------------------------------------


def test_the_url_query_keeps_blank_values_and_spaces():
    """`?a=&b=x+y&c=x%20y` reaches the provider as a="" (kept, not dropped), b and c with a space."""
    target = resolve({"url": f"{CG}/search?a=&b=x+y&c=x%20y"}, PROVIDERS)
    assert target.params == {"a": "", "b": "x y", "c": "x y"}


def test_a_repeated_query_name_becomes_a_list_in_order():
    """`?ids=btc&ids=eth&ids=sol` is sent as the list the caller wrote, as httpx sends repeated names."""
    assert resolve({"url": f"{CG}/x?ids=btc&ids=eth"}, PROVIDERS).params == {"ids": ["btc", "eth"]}
    assert resolve({"url": f"{CG}/x?ids=btc&ids=eth&ids=sol"}, PROVIDERS).params == {"ids": ["btc", "eth", "sol"]}


# --- segments -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["https://rpc.example.org/../admin", "https://rpc.example.org/./admin",
                                 "https://rpc.example.org//admin"])
def test_the_first_segment_of_a_url_path_is_checked_too(url):
    """A dot-segment or an empty segment right after the host is refused, not only deeper ones."""
    assert refused({"url": url}).field == "url"


@pytest.mark.parametrize("path", ["../admin", "./admin", "..;/admin"])
def test_check_path_refuses_a_dot_segment_at_the_start_of_a_relative_path(path):
    """check_path alone (before any composed URL) refuses a leading dot-segment of a path without '/'."""
    with pytest.raises(ProxyRefused) as info:
        check_path(path)
    assert "dot-segment" in info.value.reason


# --- which provider and which path ----------------------------------------------------------


def test_the_scheme_must_match_even_on_the_same_port():
    """http on port 443 is not the provider's https base URL."""
    assert refused({"url": "http://api.coingecko.com:443/api/v3/ping"}).status == 403
    assert parse_url("HTTPS://h.com/").scheme == "https"


def test_a_url_with_its_provider_named_is_accepted_when_under_that_provider():
    """provider + url: the url's path under that provider's base URL is what is sent."""
    target = resolve({"provider": "coingecko", "url": f"{CG}/simple/price?ids=btc"}, PROVIDERS)
    assert (target.provider, target.path, target.params) == ("coingecko", "/simple/price", {"ids": "btc"})


def test_a_url_naming_a_provider_whose_base_url_is_unusable_is_refused():
    """provider + url with a base URL the proxy cannot parse: a 403 naming url, not an error."""
    answer = refused({"provider": "broken", "url": "https://rpc.example.net/x"})
    assert (answer.status, answer.field) == (403, "url")


def test_a_tie_between_equal_base_urls_goes_to_the_first_provider():
    """Two enabled providers on the same base URL: the first in catalogue order serves the url form."""
    first = provider("first", "https://same.example.com/api")
    second = provider("second", "https://same.example.com/api")
    assert resolve({"url": "https://same.example.com/api/x"}, {"first": first, "second": second}).provider == "first"
    assert resolve({"url": "https://same.example.com/api/x"}, {"second": second, "first": first}).provider == "second"


@pytest.mark.parametrize("base_url", ["https://fx.example.com/api/FOREX", "https://fx.example.com/api/FOREX/"])
def test_a_base_path_ending_in_any_letter_or_a_slash_keeps_its_calls(base_url):
    """The base path loses only trailing slashes: both forms reach `/rates` under it."""
    providers = {"fx": provider("fx", base_url)}
    for request in ({"url": "https://fx.example.com/api/FOREX/rates"}, {"provider": "fx", "path": "/rates"}):
        target = resolve(request, providers)
        assert (target.provider, target.path) == ("fx", "/rates")


# --- the API key ----------------------------------------------------------------------------


def test_a_provider_with_header_auth_reserves_no_query_parameter():
    """Only query auth puts the key in the query; with header auth no parameter name is the key's."""
    names = ["api_key", "apikey", "x-cg-demo-api-key"]
    target = resolve({"provider": "coingecko", "path": "/x", "params": dict.fromkeys(names, "v")}, PROVIDERS)
    assert sorted(target.params) == sorted(names)


def test_query_auth_without_a_parameter_name_reserves_api_key():
    """auth_type=query with no auth_param: the engine sends the key as api_key, so a caller's api_key is refused."""
    providers = {"q": provider("q", "https://q.example.com", auth_type="query")}
    for request in ({"provider": "q", "path": "/x", "params": {"API_KEY": "x"}},
                    {"url": "https://q.example.com/x?Api_Key=x"}):
        assert "added by the server" in refused(request, providers).reason
    assert resolve({"provider": "q", "path": "/x", "params": {"apikey": "x"}}, providers).params == {"apikey": "x"}
