"""Error pages: the studio's own for people, JSON for API clients.

Django's defaults are a bare line of HTML everywhere, which an API client
cannot read and a creator cannot act on. Paths under /api/ answer
``{"error": message}`` as every API view does; pages render the templates
at the root of templates/ (400, 403, 403_csrf, 404, 500).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt

MESSAGES = {
    400: "The request could not be read.",
    403: "You do not have access to this.",
    404: "Not found.",
    500: "Something went wrong on the server. Try again in a moment.",
}
CSRF_MESSAGE = (
    "The request was refused by the cross-site request check: send the "
    "X-CSRFToken header with session requests, or use an API token."
)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"error": MESSAGES[400]}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"error": MESSAGES[403]}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"error": MESSAGES[404]}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"error": MESSAGES[500]}, status=500)
    return defaults.server_error(request)


@csrf_exempt  # a 404 for every method: nothing here to protect
def api_not_found(
    request: HttpRequest, *args: object, **kwargs: object
) -> HttpResponse:
    """Every path under /api/ that no route takes, in DEBUG too (where Django
    would answer its HTML debug page)."""
    return JsonResponse({"error": MESSAGES[404]}, status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"error": CSRF_MESSAGE}, status=403)
    return csrf.csrf_failure(request, reason, template_name="403_csrf.html")
