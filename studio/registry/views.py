from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from generation.adapters import read_prompt
from generation.builtin.reading import mostly_outside, term_label, unknown_words
from generation.specs import MAX_PROMPT_CHARS
from studio.generations.services import workers_status
from studio.projects.models import Project
from studio.prompts.services import draft_save
from studio.registry import knowledge
from studio.registry.services import model_rows

# Below this the reader is torn between terms, so the term is shown faded.
UNSURE = 0.6


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


@login_required
@require_POST
def model_reading(request: HttpRequest) -> HttpResponse:
    """What the chosen model will draw from the prompt box, for the composer
    (htmx); empty for a model without a prompt reader."""
    text = request.POST.get("prompt", "")
    if len(text) > MAX_PROMPT_CHARS:
        problem = f"The prompt must be at most {MAX_PROMPT_CHARS} characters."
        ctx = {"problem": problem}
        return render(request, "registry/reading.html#reading", ctx, status=400)
    reading = read_prompt(request.POST.get("model", ""), text)
    if reading is None or not text.strip():
        return HttpResponse("")
    unknown, content = unknown_words(text)
    ctx = {
        "terms": _reading_terms(reading["terms"]),
        "unknown": reading["unknown"],
        "elsewhere": reading.get("elsewhere", []),
        "outside": mostly_outside(unknown, content),
        "summary": reading["summary"],
        "suggestion": knowledge.in_world_suggestion(text),
    }
    return render(request, "registry/reading.html#reading", ctx)


def _project(request: HttpRequest) -> Project | None:
    """The creator's project a page names (``?project=``), else their latest."""
    projects = Project.objects.filter(owner=request.user)
    try:
        chosen = projects.filter(pk=UUID(request.GET.get("project", ""))).first()
    except ValueError:
        chosen = None
    return chosen or projects.order_by("-created").first()


@login_required
def model_knowledge(request: HttpRequest) -> HttpResponse:
    """Everything the built-in model knows, each term with a looping example,
    and prompts to try in one click."""
    groups = knowledge.examples()
    ctx = {
        "groups": groups,
        "by_model": sum(i["by_model"] for g in groups for i in g["items"]),
        "count": sum(len(g["items"]) for g in groups),
        "prompts": knowledge.PROMPTS_TO_TRY,
        "project": _project(request),
        "weights": knowledge.examples_key(),
    }
    return render(request, "registry/knowledge.html", ctx)


@login_required
def knowledge_example(request: HttpRequest, slug: str) -> FileResponse:
    """One term's looping example (the model's, else the world's render)."""
    path = knowledge.example_file(slug)
    if path is None:
        raise Http404
    response = FileResponse(path.open("rb"), content_type="image/webp")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_POST
def knowledge_try(request: HttpRequest, project_id: UUID) -> HttpResponse:
    """Put a prompt in the project's prompt box (its draft) and open it."""
    project = get_object_or_404(Project, pk=project_id, owner=request.user)
    text = request.POST.get("prompt", "").strip()
    if not text or len(text) > MAX_PROMPT_CHARS:
        messages.error(request, "Choose one of the prompts on the page to try.")
        return redirect("registry:knowledge")
    draft_save(owner=request.user, project=project, text=text)
    return redirect(project)


def _reading_terms(terms: dict[str, dict]) -> list[dict[str, object]]:
    shown = [
        {
            "attribute": attribute,
            "label": term_label(attribute, terms[attribute]["value"]),
            "confidence": terms[attribute]["confidence"],
        }
        for attribute in ("colour", "object", "motion", "scene", "camera")
        if attribute in terms
    ]
    second = [terms[k] for k in ("colour2", "object2") if k in terms]
    if second:
        side = terms.get("side2")
        words = " ".join(term["value"] for term in second)
        label = f"and a {words}" + (f" on the {side['value']}" if side else "")
        parts = second + ([side] if side else [])
        shown.append(
            {
                "attribute": "second subject",
                "label": label,
                "confidence": min(term["confidence"] for term in parts),
            }
        )
    for term in shown:
        term["unsure"] = term["confidence"] < UNSURE
        term["percent"] = round(term["confidence"] * 100)
    return shown
