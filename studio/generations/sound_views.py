"""The Sound panel's requests: Preview (a WAV the page plays) and the mood line."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.html import escape
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from generation.sound import SoundError
from studio.generations import sound
from studio.generations.sound import ClipPreviewForm, PreviewLimited, PreviewShot


def wav_response(data: bytes, name: str = "preview.wav") -> HttpResponse:
    response = HttpResponse(data, content_type="audio/wav")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "no-store"
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
    return wav_response(wav)


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
