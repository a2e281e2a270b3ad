from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

MAX_SHOTS = 60
MAX_TAKES = 12
MAX_CHOICES = 4
MAX_VOICE_CHARS = 300


class Storyboard(models.Model):
    """A sequence of shots inside a project, with a look shared by all of them."""

    class Transition(models.TextChoices):
        CUT = "cut", "Cuts"
        CROSSFADE = "crossfade", "Short crossfades"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="storyboards"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="storyboards"
    )
    title = models.CharField(max_length=200)
    # Appended to every shot's prompt, with the preset's snippet.
    style = models.CharField(max_length=500, blank=True)
    style_preset = models.ForeignKey(
        "prompts.StylePreset",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    negative_prompt = models.CharField(max_length=500, blank=True)
    model = models.CharField(max_length=100, default="builtin")
    fps = models.PositiveSmallIntegerField(default=8)
    width = models.PositiveSmallIntegerField(default=256)
    height = models.PositiveSmallIntegerField(default=256)
    steps = models.PositiveSmallIntegerField(default=20)
    guidance = models.FloatField(default=5.0)
    transition = models.CharField(
        max_length=10, choices=Transition.choices, default=Transition.CUT
    )
    burn_captions = models.BooleanField(default=False)
    # A checked soundtrack, relative to MEDIA_ROOT; never served as uploaded.
    soundtrack = models.CharField(max_length=300, blank=True)
    soundtrack_name = models.CharField(max_length=200, blank=True)
    soundtrack_seconds = models.FloatField(null=True, blank=True)
    # Generated sound for renders, in the sound engine's API shape
    # (generation.sound.SoundSettings.to_json); empty: none.
    sound = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated"]
        indexes = [models.Index(fields=["owner", "project", "-updated"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("storyboards:detail", args=[self.project_id, self.pk])

    @property
    def duration(self) -> float:
        return sum(shot.duration for shot in self.shots.all())


class Shot(models.Model):
    class Kind(models.TextChoices):
        ESTABLISHING = "establishing", "Establishing"
        WIDE = "wide", "Wide"
        MEDIUM = "medium", "Medium"
        CLOSE_UP = "close-up", "Close-up"
        REACTION = "reaction", "Reaction"
        INSERT = "insert", "Insert"
        OVER_THE_SHOULDER = "over-the-shoulder", "Over the shoulder"
        POV = "pov", "Point of view"

    storyboard = models.ForeignKey(
        Storyboard, on_delete=models.CASCADE, related_name="shots"
    )
    order = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MEDIUM)
    prompt = models.TextField(max_length=2000)
    duration = models.FloatField(default=2.0)
    caption = models.CharField(max_length=300, blank=True)
    notes = models.TextField(max_length=2000, blank=True)
    chosen_take = models.ForeignKey(
        "Take", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    continue_from_previous = models.BooleanField(default=False)
    # A spoken line over the shot: voice-over, or a character's dialogue in
    # that character's own voice; it starts voice_start seconds into the shot.
    voice_line = models.CharField(max_length=MAX_VOICE_CHARS, blank=True)
    voice_character = models.ForeignKey(
        "prompts.Character",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    voice_start = models.FloatField(default=0.0)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order", "created"]

    def __str__(self) -> str:
        return f"{self.order}. {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return f"{self.storyboard.get_absolute_url()}#shot-{self.pk}"

    def used_take(self) -> Take | None:
        """The chosen take if it finished, else the newest finished one."""
        takes = [t for t in self.takes.all() if t.is_usable]
        chosen = next((t for t in takes if t.pk == self.chosen_take_id), None)
        return chosen or (takes[-1] if takes else None)


class Take(models.Model):
    """One generation of a shot; every take is kept with its settings."""

    shot = models.ForeignKey(Shot, on_delete=models.CASCADE, related_name="takes")
    generation = models.OneToOneField(
        "generations.Generation", on_delete=models.CASCADE, related_name="take"
    )
    number = models.PositiveSmallIntegerField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"Take {self.number}"

    def get_absolute_url(self) -> str:
        return self.generation.get_absolute_url()

    @property
    def is_usable(self) -> bool:
        generation = self.generation
        return generation.status == generation.Status.SUCCEEDED and bool(
            generation.video
        )


class Choice(models.Model):
    """An interactive cut: at the end of ``shot`` the viewer may pick ``target``."""

    shot = models.ForeignKey(Shot, on_delete=models.CASCADE, related_name="choices")
    label = models.CharField(max_length=80)
    # None once the target shot is deleted: shown as a broken choice.
    target = models.ForeignKey(
        Shot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        return self.label


class Render(models.Model):
    """A rendered sequence: a generation whose job was concatenating takes."""

    storyboard = models.ForeignKey(
        Storyboard, on_delete=models.CASCADE, related_name="renders"
    )
    generation = models.OneToOneField(
        "generations.Generation", on_delete=models.CASCADE, related_name="render"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Render of {self.storyboard}"

    def get_absolute_url(self) -> str:
        return self.generation.get_absolute_url()

    @property
    def captions_url(self) -> str:
        video = self.generation.video_url
        return video.removesuffix(".mp4") + ".vtt" if video else ""
