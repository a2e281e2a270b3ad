from __future__ import annotations

import difflib
import json
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from taggit.models import Tag

from generation import specs
from studio import jsontext
from studio.generations.models import Generation
from studio.numbers import MAX_COUNTER, NumberError, parse_decimal, parse_whole
from studio.projects.models import Project
from studio.prompts import services, transfer
from studio.prompts.editor import editor_context
from studio.prompts.expand import ExpansionError
from studio.prompts.forms import (
    CharacterForm,
    DirectorForm,
    ImportForm,
    LookImportForm,
    PromptForm,
    StyleForm,
    WordListForm,
)
from studio.prompts.models import (
    Character,
    DirectorProfile,
    Prompt,
    StylePreset,
    WordList,
)
from studio.prompts.search import SORTS, prompt_search
from studio.prompts.validation import COACH_DEFAULTS, clean_tags, title_from
from studio.prompts.vocabulary import BUILTIN_LISTS

LIBRARY_PAGE_SIZE = 30
# The longest clip the engine makes: its most frames at its lowest frame rate.
MAX_COACH_SECONDS = specs.MAX_FRAMES / specs.MIN_FPS


def _user_tags(user) -> list[Tag]:
    return list(
        Tag.objects.filter(prompts_taggedprompt_items__content_object__owner=user)
        .annotate(uses=Count("prompts_taggedprompt_items"))
        .order_by("-uses", "name")[:40]
    )


@login_required
def library(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = PromptForm(request.POST)
        if form.is_valid():
            try:
                prompt = services.prompt_create(owner=request.user, **form.cleaned_data)
            except services.DuplicatePrompt as exc:
                form.add_error("text", str(exc))
                duplicate = exc.existing
            else:
                messages.success(request, f"Saved “{prompt.title}”.")
                return redirect(prompt)
        else:
            duplicate = None
    else:
        form = PromptForm(initial={"text": request.GET.get("text", "")[:2000]})
        duplicate = None

    query = request.GET.get("q", "")[:200]
    tags, _ = clean_tags(request.GET.getlist("tag"))
    sort = request.GET.get("sort", "")
    sort = sort if sort in SORTS else ""
    favourites = request.GET.get("favourite") == "1"
    found = prompt_search(
        Prompt.objects.filter(owner=request.user),
        query=query,
        tags=tags,
        favourites=favourites,
        sort=sort,
    ).prefetch_related("tags")
    page = Paginator(found, LIBRARY_PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    ctx = {
        "form": form,
        "duplicate": duplicate,
        "page": page,
        "query": query,
        "tags": tags,
        "sort": sort,
        "query_string": params.urlencode(),
        "sorts": list(SORTS),
        "favourites": favourites,
        "all_tags": _user_tags(request.user),
        "editor": editor_context(request.user),
    }
    if request.htmx and request.method == "GET":
        return render(request, "prompts/library.html#results", ctx)
    return render(request, "prompts/library.html", ctx)


def _compare(prompt: Prompt, request: HttpRequest) -> dict[str, Any] | None:
    """The diff of two versions the query names; NumberError for bad numbers."""
    if "compare" not in request.GET or "with" not in request.GET:
        return None
    a, b = (
        parse_whole(request.GET[name], label="Version", low=1, high=MAX_COUNTER)
        for name in ("compare", "with")
    )
    versions = {v.number: v for v in prompt.versions.filter(number__in=(a, b))}
    if a not in versions or b not in versions:
        return None
    old, new = versions[min(a, b)], versions[max(a, b)]
    rows = []
    for field in ("title", "text", "negative_prompt", "notes"):
        before, after = getattr(old, field), getattr(new, field)
        if before != after:
            rows.append({"field": field, "diff": _word_diff(before, after)})
    if old.tags != new.tags:
        rows.append(
            {
                "field": "tags",
                "diff": _word_diff(", ".join(old.tags), ", ".join(new.tags)),
            }
        )
    return {"old": old, "new": new, "rows": rows}


def _word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """Words tagged same / removed / added, for the compare view."""
    a, b = before.split(), after.split()
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b).get_opcodes():
        if op == "equal":
            out.append(("same", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("removed", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(("added", " ".join(b[j1:j2])))
    return out


@login_required
def prompt_detail(request: HttpRequest, prompt_id: int) -> HttpResponse:
    prompt = get_object_or_404(Prompt, pk=prompt_id, owner=request.user)
    if request.method == "POST":
        form = PromptForm(request.POST)
        if form.is_valid():
            try:
                services.prompt_update(prompt=prompt, **form.cleaned_data)
            except services.DuplicatePrompt as exc:
                form.add_error("text", str(exc))
            else:
                messages.success(request, "Saved a new version.")
                return redirect(prompt)
    else:
        form = PromptForm(
            initial={
                "title": prompt.title,
                "text": prompt.text,
                "negative_prompt": prompt.negative_prompt,
                "tags": ", ".join(prompt.tag_names()),
                "notes": prompt.notes,
                "rating": prompt.rating,
                "favourite": prompt.favourite,
            }
        )
    clips = Generation.objects.filter(
        pk__in=prompt.clips.values("generation")
    ).order_by("-created")[:48]
    try:
        compare = _compare(prompt, request)
    except NumberError as exc:
        return _bad_number(exc)
    ctx = {
        "prompt": prompt,
        "form": form,
        "versions": prompt.versions.all()[:50],
        "compare": compare,
        "clips": clips,
        "projects": Project.objects.filter(owner=request.user, archived=False)[:50],
        "editor": editor_context(request.user),
    }
    if request.htmx and ctx["compare"]:
        return render(request, "prompts/prompt_detail.html#compare", ctx)
    return render(request, "prompts/prompt_detail.html", ctx)


@login_required
@require_POST
def prompt_restore_view(
    request: HttpRequest, prompt_id: int, number: int
) -> HttpResponse:
    prompt = get_object_or_404(Prompt, pk=prompt_id, owner=request.user)
    version = get_object_or_404(prompt.versions, number=number)
    try:
        services.prompt_restore(prompt=prompt, version=version)
    except services.DuplicatePrompt as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Restored version {number} as a new version.")
    return redirect(prompt)


@login_required
@require_POST
def prompt_delete_view(request: HttpRequest, prompt_id: int) -> HttpResponse:
    prompt = get_object_or_404(Prompt, pk=prompt_id, owner=request.user)
    services.prompt_delete(prompt=prompt)
    messages.success(request, f"Deleted “{prompt.title}”.")
    return redirect("prompts:library")


@login_required
@require_POST
def prompt_favourite(request: HttpRequest, prompt_id: int) -> HttpResponse:
    prompt = get_object_or_404(Prompt, pk=prompt_id, owner=request.user)
    prompt = services.prompt_update(prompt=prompt, favourite=not prompt.favourite)
    if request.htmx:
        return render(request, "prompts/library.html#favourite", {"prompt": prompt})
    return redirect(prompt)


@login_required
@require_POST
def prompt_use(request: HttpRequest, prompt_id: int) -> HttpResponse:
    """Open a project with this prompt in its box, linked to the library."""
    prompt = get_object_or_404(Prompt, pk=prompt_id, owner=request.user)
    try:
        project_id = UUID(request.POST.get("project", ""))
    except ValueError:
        project_id = None
    project = get_object_or_404(Project, pk=project_id, owner=request.user)
    return redirect(f"{project.get_absolute_url()}?prompt={prompt.pk}")


@login_required
@require_POST
def prompt_quick_save(request: HttpRequest) -> HttpResponse:
    """The editor's "Save to library": a title from the words, edit the rest later."""
    text = request.POST.get("prompt", "").strip()
    prompt = None
    if not text:
        message = "Write a prompt first."
    elif len(text) > specs.MAX_PROMPT_CHARS:
        message = "The prompt is too long to save."
    else:
        try:
            prompt = services.prompt_create(
                owner=request.user,
                title=title_from(text),
                text=text,
                negative_prompt=request.POST.get("negative_prompt", "")[:2000].strip(),
            )
            message = "Saved to your library as"
        except services.DuplicatePrompt as exc:
            prompt = exc.existing
            message = "Already in your library as"
    if not request.htmx:
        if prompt is None:
            messages.error(request, message)
            return redirect("prompts:library")
        return redirect(prompt)
    # htmx swaps only 2xx answers; the message says what went wrong.
    ctx = {"message": message, "saved": prompt}
    return render(request, "prompts/editor.html#saved", ctx)


@login_required
@require_POST
def save_from_generation(request: HttpRequest, generation_id: UUID) -> HttpResponse:
    generation = get_object_or_404(Generation, pk=generation_id, owner=request.user)
    prompt, created = services.prompt_save_from_generation(
        user=request.user, generation=generation
    )
    if created:
        messages.success(request, "Saved to your library; give it a title and tags.")
    else:
        messages.success(request, f"Already in your library as “{prompt.title}”.")
    return redirect(prompt)


def _frames_and_fps(request: HttpRequest) -> tuple[int, int]:
    """The clip length the editor's form describes; NumberError for bad input.

    Both numbers are bounded before they are multiplied: a duration of
    1e999999 seconds would otherwise make a million-digit frame count.
    """
    fps = parse_whole(
        request.POST.get("fps"),
        label="Frame rate",
        low=specs.MIN_FPS,
        high=specs.MAX_FPS,
        default=COACH_DEFAULTS["fps"],
    )
    seconds = parse_decimal(
        request.POST.get("duration"),
        label="Duration",
        low=0,
        high=MAX_COACH_SECONDS,
        default=COACH_DEFAULTS["num_frames"] / COACH_DEFAULTS["fps"],
    )
    frames = int(seconds * fps)
    return min(max(frames, specs.MIN_FRAMES), specs.MAX_FRAMES), fps


def _bad_number(exc: NumberError) -> HttpResponse:
    return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")


@login_required
@require_POST
def coach_panel(request: HttpRequest) -> HttpResponse:
    """The coach's hints and the variation count, for the editor (htmx)."""
    text = request.POST.get("prompt", request.POST.get("text", ""))[
        : specs.MAX_PROMPT_CHARS
    ]
    try:
        num_frames, fps = _frames_and_fps(request)
        per_text = parse_whole(
            request.POST.get("variations"),
            label="Variations",
            low=1,
            high=settings.STUDIO_MAX_VARIATIONS,
            default=1,
        )
    except NumberError as exc:
        return _bad_number(exc)
    hints = services.prompt_coach(
        user=request.user, text=text, num_frames=num_frames, fps=fps
    )
    expansion, problem = None, None
    if text.strip():
        try:
            expansion = services.prompt_expand(user=request.user, text=text)
        except ExpansionError as exc:
            problem = str(exc)
    ctx = {
        "hints": hints,
        "empty": not text.strip(),
        # Only the project's prompt box has a Generate button to relabel.
        "composer": request.POST.get("composer") == "1",
        "expansion": expansion,
        "problem": problem,
        "clips": (len(expansion.variations) if expansion else 1) * per_text,
    }
    return render(request, "prompts/editor.html#coach", ctx)


@login_required
@require_POST
def draft_autosave(request: HttpRequest, project_id: UUID) -> HttpResponse:
    project = get_object_or_404(Project, pk=project_id, owner=request.user)
    text = request.POST.get("prompt", "")
    if len(text) > specs.MAX_PROMPT_CHARS:
        return JsonResponse({"error": "The draft is too long."}, status=400)
    services.draft_save(owner=request.user, project=project, text=text)
    return HttpResponse(status=204)


# Characters, lists, styles and the director profile.


@login_required
def characters(request: HttpRequest) -> HttpResponse:
    form, list_form = CharacterForm(), WordListForm()
    if request.method == "POST" and request.POST.get("action") == "list":
        list_form = WordListForm(request.POST)
        if list_form.is_valid():
            services.word_list_save(owner=request.user, **list_form.cleaned_data)
            messages.success(
                request, f"Saved the list ${list_form.cleaned_data['name']}."
            )
            return redirect("prompts:characters")
    elif request.method == "POST":
        form = CharacterForm(request.POST)
        if form.is_valid():
            try:
                character = services.character_save(
                    owner=request.user, **form.cleaned_data
                )
            except ValueError as exc:
                form.add_error("name", str(exc))
            else:
                messages.success(request, f"Saved {character}.")
                return redirect("prompts:characters")

    ctx = {
        "form": form,
        "list_form": list_form,
        "characters": Character.objects.filter(owner=request.user),
        "lists": WordList.objects.filter(owner=request.user),
        "builtin_lists": BUILTIN_LISTS,
    }
    return render(request, "prompts/characters.html", ctx)


@login_required
def character_detail(request: HttpRequest, character_id: int) -> HttpResponse:
    character = get_object_or_404(Character, pk=character_id, owner=request.user)
    if request.method == "POST":
        form = CharacterForm(request.POST)
        if form.is_valid():
            try:
                services.character_save(
                    owner=request.user, character=character, **form.cleaned_data
                )
            except ValueError as exc:
                form.add_error("name", str(exc))
            else:
                messages.success(request, f"Saved {character}.")
                return redirect(character)
    else:
        form = CharacterForm(
            initial={
                "name": character.name,
                "kind": character.kind,
                "description": character.description,
            }
        )
    ctx = {
        "character": character,
        "form": form,
        "used_by": services.prompts_using(character),
    }
    return render(request, "prompts/character_detail.html", ctx)


@login_required
@require_POST
def character_delete(request: HttpRequest, character_id: int) -> HttpResponse:
    character = get_object_or_404(Character, pk=character_id, owner=request.user)
    character.delete()
    messages.success(request, f"Deleted {character}.")
    return redirect("prompts:characters")


@login_required
@require_POST
def list_delete(request: HttpRequest, list_id: int) -> HttpResponse:
    word_list = get_object_or_404(WordList, pk=list_id, owner=request.user)
    word_list.delete()
    messages.success(request, f"Deleted the list {word_list}.")
    return redirect("prompts:characters")


@login_required
def styles(request: HttpRequest) -> HttpResponse:
    profile = DirectorProfile.objects.filter(owner=request.user).first()
    form, director_form = StyleForm(), DirectorForm(instance=profile)
    if request.method == "POST" and request.POST.get("action") == "director":
        director_form = DirectorForm(request.POST, instance=profile)
        if director_form.is_valid():
            services.director_save(owner=request.user, **director_form.cleaned_data)
            messages.success(request, "Saved your director profile.")
            return redirect("prompts:styles")
    elif request.method == "POST":
        form = StyleForm(request.POST)
        if form.is_valid():
            try:
                services.style_save(owner=request.user, **form.cleaned_data)
            except ValueError as exc:
                form.add_error("name", str(exc))
            else:
                messages.success(request, "Saved the style.")
                return redirect("prompts:styles")

    ctx = {
        "form": form,
        "director_form": director_form,
        "look_form": LookImportForm(),
        "styles": services.styles_for(request.user),
    }
    return render(request, "prompts/styles.html", ctx)


@login_required
@require_POST
def look_import(request: HttpRequest) -> HttpResponse:
    """Import a .cube colour table as a style with that look."""
    look_form = LookImportForm(request.POST, request.FILES)
    if look_form.is_valid():
        data = look_form.cleaned_data
        try:
            style = services.look_import(
                owner=request.user,
                name=data["name"],
                snippet=data["snippet"],
                cube=data["cube"],
            )
        except ValueError as exc:  # LookError included
            look_form.add_error("name", str(exc))
        else:
            messages.success(request, f"Imported the look “{style.name}”.")
            return redirect("prompts:styles")
    profile = DirectorProfile.objects.filter(owner=request.user).first()
    ctx = {
        "form": StyleForm(),
        "director_form": DirectorForm(instance=profile),
        "look_form": look_form,
        "styles": services.styles_for(request.user),
    }
    return render(request, "prompts/styles.html", ctx, status=400)


@login_required
@require_POST
def style_delete(request: HttpRequest, style_id: int) -> HttpResponse:
    # The shared defaults have no owner, so they are never found here.
    style = get_object_or_404(StylePreset, pk=style_id, owner=request.user)
    services.style_delete(style=style)
    messages.success(request, f"Deleted the style “{style.name}”.")
    return redirect("prompts:styles")


# Export and import.


@login_required
def export_download(request: HttpRequest) -> HttpResponse:
    data = transfer.library_export(owner=request.user)
    response = HttpResponse(
        json.dumps(data, indent=1, ensure_ascii=False),
        content_type="application/json",
    )
    response["Content-Disposition"] = 'attachment; filename="prompt-library.json"'
    return response


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    problems: list[str] = []
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > transfer.MAX_IMPORT_BYTES:
                limit = transfer.MAX_IMPORT_BYTES // (1024 * 1024)
                form.add_error("file", f"The file is over {limit} MiB.")
            else:
                try:
                    data = jsontext.loads(upload.read())
                    summary = transfer.library_import(owner=request.user, data=data)
                except jsontext.JSONTextError as exc:
                    form.add_error("file", f"The file can't be imported. {exc}")
                except transfer.ImportRefused as exc:
                    form.add_error("file", str(exc))
                    problems = exc.errors
                else:
                    messages.success(request, transfer.import_message(summary))
                    return redirect("prompts:library")
    else:
        form = ImportForm()
    ctx = {"form": form, "problems": problems}
    return render(request, "prompts/import.html", ctx)
