import redis


def test_redis_fixture_is_a_real_server(redis_client):
    redis_client.set("probe", "1")
    assert redis_client.get("probe") == "1"
    assert "redis_version" in redis_client.info("server")


def test_settings_point_at_the_test_redis(redis_server):
    from django.conf import settings

    assert settings.REDIS_URL == redis_server.url
    assert redis.Redis.from_url(settings.REDIS_URL).ping()
