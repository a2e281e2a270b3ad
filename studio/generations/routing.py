from __future__ import annotations

from django.urls import path

from studio.generations.consumers import GenerationConsumer

websocket_urlpatterns = [
    path("ws/generations/<str:generation_id>", GenerationConsumer.as_asgi()),
]
