"""The ASGI entry point: HTTP through Django, websockets through Channels."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
# Django must be set up before anything imports models.
django_http = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from studio.auth import OriginCheck, TokenAuthMiddleware  # noqa: E402
from studio.generations.routing import websocket_urlpatterns  # noqa: E402
from studio.generations.runtime import StudioApp  # noqa: E402

application = StudioApp(
    ProtocolTypeRouter(
        {
            "http": django_http,
            "websocket": OriginCheck(
                AuthMiddlewareStack(
                    TokenAuthMiddleware(URLRouter(websocket_urlpatterns))
                )
            ),
        }
    )
)
