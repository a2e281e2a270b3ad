from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def studio(request: HttpRequest) -> dict[str, object]:
    context: dict[str, object] = {"signup_open": settings.STUDIO_SIGNUP_OPEN}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from studio.generations.services import render_queue

        # Counted only by pages that show the top bar.
        context["render_queue"] = SimpleLazyObject(lambda: render_queue(user))
    return context
