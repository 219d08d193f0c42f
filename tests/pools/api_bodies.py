"""Request bodies and paths of the pool API tests, in the old system's shape."""

SLASHES = ["", "/"]
OLD_POOL_BODY = {
    "name": "My Market Pool",
    "category": "market_data",
    "rotation_strategy": "weighted",
    "description": "Market data from several providers",
}
OLD_MEMBER_BODY = {"provider_id": "coingecko", "priority": 10, "weight": 100}
