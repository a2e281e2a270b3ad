"""The Sound panel's requests: Preview (a WAV the page plays) and the mood line."""

from __future__ import annotations

import secrets

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from generation.sound import SoundError
from studio.generations import sound
from studio.generations.sound import ClipPreviewForm, PreviewLimited, PreviewShot

# A made preview waits this long (s) for its player; each creator keeps one.
PREVIEW_KEPT = 300


def _kept_key(user_id: object) -> str:
    return f"sound-preview-made:{user_id}"


def wav_response(request: HttpRequest, data: bytes) -> HttpResponse:
    """Keep the preview for its owner and point the page's player at it: JSON
    for the page's script, a redirect that plays it for a page without one."""
    token = secrets.token_urlsafe(16)
    cache.set(_kept_key(request.user.pk), (token, data), PREVIEW_KEPT)
    url = reverse("generations:sound_played", args=[token])
    if request.headers.get("X-Requested-With") == "fetch":
        return JsonResponse({"url": url})
    return redirect(url, permanent=False)


@never_cache
@login_required
@require_GET
def preview_played(request: HttpRequest, token: str) -> HttpResponse:
    """A creator's latest preview, as a WAV; nobody else's."""
    kept = cache.get(_kept_key(request.user.pk))
    if not kept or not secrets.compare_digest(str(kept[0]), token):
        return refusal("This preview has gone; press Preview again.", 404)
    response = HttpResponse(kept[1], content_type="audio/wav")
    response["Content-Disposition"] = 'inline; filename="preview.wav"'
    response["Cache-Control"] = "private, no-store"
    return response


def refusal(message: str, status: int) -> HttpResponse:
    """A sentence the page shows beside Preview (or the browser, without JS)."""
    return HttpResponse(
        message, status=status, content_type="text/plain; charset=utf-8"
    )


def first_error(form: ClipPreviewForm) -> str:
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        return f"{label or name.capitalize()}: {errors[0]}" if label else errors[0]
    return "Those sound settings could not be read."


@never_cache
@login_required
@require_POST
def clip_preview(request: HttpRequest) -> HttpResponse:
    """The prompt box's Preview: the sound a clip of this prompt and length
    would get (music from the prompt or the mood; effects come with the
    picture, so they are heard in the finished clip)."""
    form = ClipPreviewForm(request.POST)
    if not form.is_valid():
        return refusal(first_error(form), 400)
    try:
        sound.preview_allowed(request.user.pk)
    except PreviewLimited as exc:
        return refusal(str(exc), 429)
    data = form.cleaned_data
    shot = PreviewShot(prompt=data["prompt"] or "", duration=data["duration"])
    try:
        wav = sound.preview_wav([shot], fps=data["fps"] or 8, sound=form.preview_sound)
    except SoundError as exc:
        return refusal(str(exc), 400)
    return wav_response(request, wav)


@login_required
@require_POST
def mood_line(request: HttpRequest) -> HttpResponse:
    """What the composer will play, in words, for the prompt or the mood."""
    prompt = str(request.POST.get("prompt", ""))[:2000]
    mood = str(request.POST.get("sound_mood", ""))[:40]
    if mood and mood not in sound.moods():
        mood = ""
    line = sound.mood_line(prompt, mood or None)
    text = f"Music: {line}" if line else "Music: type a prompt to hear its mood"
    return HttpResponse(escape(text))
