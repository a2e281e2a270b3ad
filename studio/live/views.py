from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from generation.live import MAX_RECORD_SECONDS, live_defaults
from generation.specs import MAX_PROMPT_CHARS
from studio.live.broadcast import (
    DEFAULT_POLL_SECONDS,
    MAX_CHOICES,
    MAX_LABEL_CHARS,
    MAX_POLL_SECONDS,
    MIN_CHOICES,
    MIN_POLL_SECONDS,
)
from studio.projects.models import Project
from studio.prompts.services import styles_for
from studio.sharing.panels import share_panel_context


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
        # The styles whose look can grade the stream.
        "looks": [
            style for style in styles_for(request.user) if style.look_settings()[0]
        ],
        "poll": {
            "choices": range(MAX_CHOICES),
            "min_choices": MIN_CHOICES,
            "label_chars": MAX_LABEL_CHARS,
            "seconds": DEFAULT_POLL_SECONDS,
            "min_seconds": MIN_POLL_SECONDS,
            "max_seconds": MAX_POLL_SECONDS,
        },
        # Links to the creator's live stream, whichever page it runs from.
        **share_panel_context(request, live=True),
    }
    return render(request, "live/live.html", ctx)
