"""WebSocket routes (cryptohub/asgi.py serves them through Channels)."""

from channels.security.websocket import WebsocketDenier
from django.urls import re_path

from dashboard.live.consumer import LiveFeedConsumer

websocket_urlpatterns = [
    re_path(r"^ws/live/?$", LiveFeedConsumer.as_asgi()),
    # Any other WebSocket path is refused at the handshake (403), not left to fail in the router.
    re_path(r"", WebsocketDenier.as_asgi()),
]
