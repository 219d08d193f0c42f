"""The old system's data paths answer as thin aliases of the real endpoints: the same data, the
same limits and client-key rules, in the schema as deprecated aliases; near misses are no alias."""

import pytest

from healing.dataplane import openapi
from healing.dataplane.app import is_data_plane_path
from healing.dataplane.params import OLD_PATHS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(("old", "real"), [("/api/market?vs=usd&limit=3", "/api/data/markets?vs=usd&limit=3"),
                                           ("/api/trending/", "/api/data/trending"),
                                           ("/api/defi?protocol=yearn-finance", "/api/data/tvl?protocol=yearn-finance"),
                                           ("/api/sentiment?limit=2", "/api/data/fear-greed?limit=2")])
async def test_an_old_path_answers_what_its_endpoint_answers(catalogue, data_client, old, real):
    first = await data_client.get(old)
    second = await data_client.get(real)
    assert first.status_code == second.status_code == 200
    assert first.json()["data"] == second.json()["data"]
    assert first.json()["meta"]["capability"] == second.json()["meta"]["capability"]
    assert second.json()["meta"]["served"] == "cache"  # one cache: the alias filled the real endpoint's entry


async def test_the_old_sentiment_runner_scores_texts_and_refuses_like_the_real_one(catalogue, data_client):
    scored = await data_client.post("/api/hf/run-sentiment", json={"texts": ["Bitcoin surges to a record high"]})
    assert scored.status_code == 200 and scored.json()["data"]["scores"][0]["label"] == "positive"
    bad = await data_client.post("/api/hf/run-sentiment", json={"text": "no list"})
    assert bad.status_code == 400 and bad.json()["field"]


def test_only_the_old_paths_themselves_are_aliases():
    assert all(is_data_plane_path(p) and is_data_plane_path(p + "/") for p in OLD_PATHS)
    for near in ("/api/marketplace", "/api/market/x", "/api/defi-pools", "/api/sentiments", "/api/hf"):
        assert not is_data_plane_path(near)


def test_the_schema_lists_each_old_path_as_a_deprecated_alias():
    paths = openapi.paths()
    assert paths["/api/market"]["get"]["deprecated"] is True
    assert paths["/api/market"]["get"]["summary"] == "Alias of /api/data/markets (the old system's path)"
    assert set(paths["/api/hf/run-sentiment"]) == {"get", "post"}
    ids = [op["operationId"] for path in paths.values() for op in path.values()]
    assert len(ids) == len(set(ids))
