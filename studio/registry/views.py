from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from studio.generations.api import api_view
from studio.generations.services import workers_status
from studio.registry.services import model_rows

PUBLIC_FIELDS = ("name", "family", "task", "status", "reason", "defaults",
                 "description")  # fmt: skip


@login_required
def model_list(request: HttpRequest) -> HttpResponse:
    rows = model_rows()
    if not request.user.is_staff:
        # Folder paths and load options are the server's business.
        rows = [{**row, "path": "", "options": {}} for row in rows]
    workers = workers_status()
    if not request.user.is_staff:
        # Host names are the server's business too.
        workers = [{**worker, "name": ""} for worker in workers]
    ctx = {"models": rows, "staff": request.user.is_staff, "workers": workers}
    return render(request, "registry/model_list.html", ctx)


@api_view(["GET"])
def api_models(request: HttpRequest) -> HttpResponse:
    models = [{key: row[key] for key in PUBLIC_FIELDS} for row in model_rows()]
    return JsonResponse({"models": models})
