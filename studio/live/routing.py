from __future__ import annotations

from django.urls import path

from studio.live.consumers import LiveConsumer
from studio.live.watch import WatchConsumer

websocket_urlpatterns = [
    path("ws/live", LiveConsumer.as_asgi()),
    # Anyone with a live share link: ?share=<token>.
    path("ws/live/watch", WatchConsumer.as_asgi()),
]
