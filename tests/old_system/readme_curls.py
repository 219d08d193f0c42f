"""Every `curl` of the old system's two READMEs, copied verbatim (the self-healing hub's and the
monitor's), in the order they appear. tests/old_system/test_readme_curls.py replays them."""

SELF_HEALING_README = r"""
curl -X POST http://localhost:8000/api/crypto-hub/proxy \
  -H "Content-Type: application/json" \
  -d '{
    "url": "https://api.coingecko.com/api/v3/simple/price?ids=bitcoin&vs_currencies=usd",
    "method": "GET"
  }'

curl http://localhost:8000/api/crypto-hub/health-status

curl http://localhost:8000/api/crypto-hub/health-status

curl http://localhost:8000/api/crypto-hub/diagnostics

curl http://localhost:8000/api/crypto-hub/diagnostics > report.json

curl -X POST http://localhost:8000/api/crypto-hub/recover \
  -H "Content-Type: application/json" \
  -d '{"endpoint": "https://api.example.com"}'
"""

MONITOR_README = r"""
curl -X POST http://localhost:8000/api/pools \
  -H "Content-Type: application/json" \
  -d '{
    "name": "My Market Pool",
    "category": "market_data",
    "rotation_strategy": "weighted",
    "description": "Pool for market data providers"
  }'

curl -X POST http://localhost:8000/api/pools/my_market_pool/members \
  -H "Content-Type: application/json" \
  -d '{
    "provider_id": "coingecko",
    "priority": 10,
    "weight": 100
  }'

curl -X POST http://localhost:8000/api/pools/my_market_pool/rotate \
  -H "Content-Type: application/json" \
  -d '{"reason": "manual rotation"}'
"""

# The paths the monitor README lists for its users (reads only, with their placeholders filled).
MONITOR_READ_PATHS = [
    "/health", "/api/status", "/api/stats", "/api/providers", "/api/providers/coingecko",
    "/api/providers/category/market_data", "/api/pools", "/api/pools/my_market_pool", "/api/pools/history",
]
