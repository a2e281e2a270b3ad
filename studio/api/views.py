"""Plain Django views of the API that live outside its routers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from studio.api import api


def api_schema(request: HttpRequest) -> HttpResponse:
    """The OpenAPI document, as ``/api/schema`` serves it."""
    return JsonResponse(api.get_openapi_schema())
