from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from generation.live import MAX_RECORD_SECONDS, live_defaults
from generation.specs import MAX_PROMPT_CHARS
from studio.projects.models import Project


@login_required
def live_page(request: HttpRequest) -> HttpResponse:
    """Live mode on its own: recordings go to the creator's Clips."""
    return _live(request, project=None)


@login_required
def project_live(request: HttpRequest, project_id: UUID) -> HttpResponse:
    """Live mode from a project: recordings go to its gallery."""
    project = get_object_or_404(Project, pk=project_id, owner=request.user)
    return _live(request, project=project)


def _live(request: HttpRequest, *, project: Project | None) -> HttpResponse:
    ctx = {
        "project": project,
        "defaults": live_defaults(),
        "max_prompt": MAX_PROMPT_CHARS,
        "record_limit": MAX_RECORD_SECONDS,
    }
    return render(request, "live/live.html", ctx)
