"""Placeholder data plane until the engine lands: every data path answers 503 as JSON."""

import json

DATA_PLANE_PREFIXES = ("/api/data/", "/api/data", "/api/crypto-hub/proxy")


async def data_plane(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = json.dumps({"detail": "the data plane is not available yet"}).encode()
    await send({"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
