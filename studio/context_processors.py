from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def studio(request: HttpRequest) -> dict[str, object]:
    return {"signup_open": settings.STUDIO_SIGNUP_OPEN}
