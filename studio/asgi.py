"""The ASGI entry point: HTTP through Django, websockets through Channels."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
# Django must be set up before anything imports models.
django_http = get_asgi_application()

# diffusers imported by two threads at once (the worker loading its model, a
# request reading a prompt) can fail on its own circular imports with
# "partially initialized module": import it here, once, before any thread
# of the server starts.
import diffusers  # noqa: E402, F401
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from studio.auth import OriginCheck, TokenAuthMiddleware  # noqa: E402
from studio.generations.routing import websocket_urlpatterns  # noqa: E402
from studio.generations.runtime import StudioApp  # noqa: E402
from studio.live.routing import websocket_urlpatterns as live_urlpatterns  # noqa: E402

application = StudioApp(
    ProtocolTypeRouter(
        {
            "http": django_http,
            "websocket": OriginCheck(
                AuthMiddlewareStack(
                    TokenAuthMiddleware(
                        URLRouter(websocket_urlpatterns + live_urlpatterns)
                    )
                )
            ),
        }
    )
)
