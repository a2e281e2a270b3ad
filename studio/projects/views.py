from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from studio.generations.forms import GenerationForm, composer_models
from studio.generations.models import Generation
from studio.generations.services import CLIPS_QUEUED, QueueFull, SubmitError
from studio.projects.forms import ProjectForm
from studio.projects.models import Project
from studio.projects.services import (
    project_create,
    project_delete,
    project_set_archived,
)
from studio.projects.welcome import STARTER_PROMPTS, starter_prompt
from studio.prompts.editor import editor_context, editor_initial, library_prompt
from studio.prompts.services import prompt_variations_submit

GALLERY_PAGE_SIZE = 24
ACTIVE = (Generation.Status.QUEUED, Generation.Status.RUNNING)


def project_list(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        # The front door: what the studio is, with sign-up and log-in.
        return render(request, "projects/landing.html", {"starters": STARTER_PROMPTS})
    archived = request.GET.get("archived") == "1"
    if request.method == "POST":
        form = ProjectForm(request.POST)
        if form.is_valid():
            project = project_create(
                owner=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
            return redirect(project)
    else:
        form = ProjectForm()

    # Each card's cover, clip count and last clip: one query for the page, each
    # annotation a step down the (project, status, -created) index.
    succeeded = Generation.objects.filter(
        project=OuterRef("pk"), status=Generation.Status.SUCCEEDED
    ).order_by()
    latest = succeeded.exclude(poster="").order_by("-created")
    projects = Project.objects.filter(owner=request.user, archived=archived).annotate(
        cover=Subquery(latest.values("poster")[:1]),
        last_clip=Subquery(latest.values("created")[:1]),
        clips=Coalesce(
            Subquery(succeeded.values("project").annotate(n=Count("*")).values("n")),
            0,
        ),
    )
    ctx = {
        "form": form,
        "projects": projects,
        "archived": archived,
        "media_url": settings.MEDIA_URL,
        "welcome": None if archived else _welcome(request),
    }
    return render(request, "projects/project_list.html", ctx)


def _welcome(request: HttpRequest) -> dict | None:
    """Until the creator's first clip: where to start, and what to type."""
    if Generation.objects.filter(owner=request.user).exists():
        return None
    first = (
        Project.objects.filter(owner=request.user, archived=False)
        .order_by("created")
        .first()
    )
    return {"project": first, "starters": STARTER_PROMPTS}


def _gallery(request: HttpRequest, project: Project):
    # Cancelled clips have nothing to show; failed ones keep their reason.
    finished = project.generations.exclude(
        status__in=(*ACTIVE, Generation.Status.CANCELLED)
    ).order_by("-created")
    if _starred_only(request):
        finished = finished.filter(starred=True)
    return Paginator(finished, GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))


def _starter(request: HttpRequest) -> dict | None:
    """``?try=2``: the welcome's second suggested prompt, in the prompt box."""
    text = starter_prompt(request.GET.get("try"))
    return {"prompt": text} if text else None


def _starred_only(request: HttpRequest) -> bool:
    return request.GET.get("starred") == "1"


def _initial_settings(request: HttpRequest) -> dict | None:
    source_id = request.GET.get("from")
    if not source_id:
        return None
    try:
        source = Generation.objects.get(pk=UUID(source_id), owner=request.user)
    except (ValueError, Generation.DoesNotExist):
        return None
    return GenerationForm.initial_from(
        source.settings, keep_seed=request.GET.get("seed") != "new"
    )


def _settings_summary(form: GenerationForm, models: dict) -> str:
    """The folded settings in one line, as composer.js keeps it up to date:
    "Built-in · 2 s at 8 fps · 256×256 · 20 steps · seed random"."""
    caps = models.get(str(form["model"].value()))
    if caps is None:
        return ""
    parts = [caps["label"]]
    duration, fps = form["duration"].value(), form["fps"].value()
    if duration and fps:
        parts.append(f"{duration} s at {fps} fps")
    sizes = caps["presets"]["sizes"].get(str(form["aspect"].value()), [])
    for side, width, height in sizes:
        if str(side) == str(form["size"].value()):
            parts.append(f"{width}×{height}")
    if steps := form["steps"].value():
        parts.append(f"{steps} steps")
    parts.append(f"seed {form['seed'].value() or 'random'}")
    return " · ".join(parts)


# The gallery changes while the page is away (clips finish, Back from a clip):
# the browser asks again rather than showing a copy from its caches.
@never_cache
@login_required
def project_detail(request: HttpRequest, project_id: UUID) -> HttpResponse:
    project = get_object_or_404(Project, pk=project_id, owner=request.user)
    initial = (
        _initial_settings(request)
        or _starter(request)
        or editor_initial(request, project)
    )
    form = GenerationForm(initial=initial)
    models = composer_models(form.model_names)

    if request.htmx and request.GET.get("partial") == "gallery":
        ctx = {
            "project": project,
            "gallery": _gallery(request, project),
            "starred_only": _starred_only(request),
            "starters": STARTER_PROMPTS,
        }
        return render(request, "projects/project_detail.html#gallery", ctx)

    ctx = {
        "project": project,
        "form": form,
        "queue": project.generations.filter(status__in=ACTIVE).order_by("created"),
        "gallery": _gallery(request, project),
        "starred_only": _starred_only(request),
        "starters": STARTER_PROMPTS,
        "editor": editor_context(request.user, project),
        "library_prompt": initial.get("library_prompt"),
        "composer_models": models,
        "settings_summary": _settings_summary(form, models),
    }
    return render(request, "projects/project_detail.html", ctx)


@login_required
@require_POST
def project_generate(request: HttpRequest, project_id: UUID) -> HttpResponse:
    project = get_object_or_404(Project, pk=project_id, owner=request.user)
    form = GenerationForm(request.POST, request.FILES)
    status = 400
    queued: list[Generation] = []
    source = library_prompt(request.user, request.POST.get("library_prompt"))
    if form.is_valid():
        try:
            # Wildcards, lists and characters expand there: one clip per variation.
            queued = prompt_variations_submit(
                user=request.user,
                settings=form.settings,
                uploads=form.uploads,
                project=project,
                count=form.cleaned_data["variations"],
                prompt=source,
                style=form.cleaned_data.get("style"),
            )
        except SubmitError as exc:
            form.add_submit_errors(exc.errors)
            status = exc.status
        except QueueFull as exc:
            form.add_error(None, str(exc))
            status = exc.status
        else:
            if not request.htmx:
                return redirect(project)
            status = 200

    # The clips just queued show even if one has already failed (a model
    # that cannot load fails at once): its card says why.
    shown = Q(status__in=ACTIVE) | Q(pk__in=[g.pk for g in queued])
    models = composer_models(form.model_names)
    ctx = {
        "project": project,
        "form": form,
        "queue": project.generations.filter(shown).order_by("created"),
        "gallery": _gallery(request, project),
        "editor": editor_context(request.user, project),
        "library_prompt": source.pk if source else None,
        "composer_models": models,
        "settings_summary": _settings_summary(form, models),
        # Folded settings open when one of them is what stopped the clip.
        "settings_open": bool(set(form.errors) - {"prompt", "style", "__all__"}),
    }
    if request.htmx:
        # htmx swaps only 2xx answers; the form says what went wrong beside
        # its Generate button.
        response = render(request, "projects/project_detail.html#workspace", ctx)
        if queued:  # the top bar counts it at once
            trigger_client_event(response, CLIPS_QUEUED)
        return response
    return render(request, "projects/project_detail.html", ctx, status=status)


@login_required
def project_edit(request: HttpRequest, project_id: UUID) -> HttpResponse:
    project = get_object_or_404(Project, pk=project_id, owner=request.user)
    if request.method == "POST":
        form = ProjectForm(request.POST, instance=project)
        if form.is_valid():
            form.save()
            return redirect(project)
    else:
        form = ProjectForm(instance=project)

    ctx = {"project": project, "form": form}
    return render(request, "projects/project_edit.html", ctx)


@login_required
@require_POST
def project_archive(request: HttpRequest, project_id: UUID) -> HttpResponse:
    project = get_object_or_404(Project, pk=project_id, owner=request.user)
    archived = request.POST.get("archived", "1") == "1"
    project_set_archived(project=project, archived=archived)
    messages.success(
        request, f"“{project.name}” {'archived' if archived else 'restored'}."
    )
    return redirect("projects:list")


@login_required
def project_delete_view(request: HttpRequest, project_id: UUID) -> HttpResponse:
    project = get_object_or_404(Project, pk=project_id, owner=request.user)
    if request.method == "POST":
        if request.POST.get("confirm_name", "").strip() == project.name:
            project_delete(project=project)
            messages.success(request, f"“{project.name}” and its clips were deleted.")
            return redirect("projects:list")
        error = "Type the project's name exactly to delete it."
    else:
        error = None

    ctx = {
        "project": project,
        "error": error,
        "clip_count": project.generations.count(),
    }
    return render(request, "projects/project_delete.html", ctx)
