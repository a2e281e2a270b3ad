from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase

from generation.looks import SHIPPED as SHIPPED_LOOKS
from generation.specs import MAX_PROMPT_CHARS
from studio.prompts.vocabulary import NAME_PATTERN, NAME_RE  # noqa: F401

MAX_TITLE_CHARS = 200
MAX_NOTES_CHARS = 5000
MAX_DESCRIPTION_CHARS = 600
MAX_NAME_CHARS = 40


def text_digest(text: str) -> str:
    """A fingerprint that ignores case and spacing, for duplicate detection."""
    normal = " ".join(text.lower().split())
    return hashlib.sha256(normal.encode()).hexdigest()


class TaggedPrompt(TaggedItemBase):
    content_object = models.ForeignKey("Prompt", on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_object", "tag"], name="tagged_prompt_unique_tag"
            )
        ]


class Prompt(models.Model):
    """A prompt kept in the library; every edit leaves a PromptVersion."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="prompts"
    )
    title = models.CharField(max_length=MAX_TITLE_CHARS)
    text = models.TextField(max_length=MAX_PROMPT_CHARS)
    negative_prompt = models.TextField(blank=True, max_length=MAX_PROMPT_CHARS)
    notes = models.TextField(blank=True, max_length=MAX_NOTES_CHARS)
    rating = models.PositiveSmallIntegerField(default=0)
    favourite = models.BooleanField(default=False)
    digest = models.CharField(max_length=64, editable=False)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)

    tags = TaggableManager(through=TaggedPrompt, blank=True)

    class Meta:
        ordering = ["-updated", "-pk"]
        indexes = [
            models.Index(fields=["owner", "-updated"]),
            models.Index(fields=["owner", "digest"]),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("prompts:detail", args=[self.pk])

    def tag_names(self) -> list[str]:
        # Prefetched tags arrive unordered; the page and the API sort them.
        return sorted(tag.name for tag in self.tags.all())


class PromptVersion(models.Model):
    """A snapshot of a prompt as it was after one save."""

    prompt = models.ForeignKey(
        Prompt, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=MAX_TITLE_CHARS)
    text = models.TextField(max_length=MAX_PROMPT_CHARS)
    negative_prompt = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    tags = models.JSONField(default=list)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["prompt", "number"], name="prompt_version_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.prompt_id} v{self.number}"


class PromptClip(models.Model):
    """A clip made from a library prompt (the Generation model stays untouched)."""

    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="clips")
    generation = models.OneToOneField(
        "generations.Generation", on_delete=models.CASCADE, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.prompt_id} → {self.generation_id}"


class Character(models.Model):
    """A named description (`@mia`) that expands identically wherever it is used."""

    class Kind(models.TextChoices):
        CHARACTER = "character"
        PLACE = "place"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="characters"
    )
    name = models.CharField(max_length=MAX_NAME_CHARS)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CHARACTER)
    description = models.TextField(max_length=MAX_DESCRIPTION_CHARS)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="character_unique_name_per_owner"
            )
        ]

    def __str__(self) -> str:
        return f"@{self.name}"

    def get_absolute_url(self) -> str:
        return reverse("prompts:character", args=[self.pk])


class WordList(models.Model):
    """A named list (`$colour`) whose options a prompt expands into variations."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="word_lists"
    )
    name = models.CharField(max_length=MAX_NAME_CHARS)
    options = models.JSONField(default=list)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="word_list_unique_name_per_owner"
            )
        ]

    def __str__(self) -> str:
        return f"${self.name}"


class StylePreset(models.Model):
    """A style snippet; rows without an owner are the shared, read-only defaults."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="style_presets",
        null=True,
        blank=True,
    )
    name = models.CharField(max_length=80)
    snippet = models.TextField(max_length=MAX_DESCRIPTION_CHARS)
    negative_prompt = models.TextField(blank=True, max_length=MAX_DESCRIPTION_CHARS)
    # The look applied to the clip's frames (generation/looks.py): a shipped
    # look's name, or the name of an imported .cube colour table kept at
    # ``lut`` (a path under MEDIA_ROOT). Empty: the style only adds words.
    look = models.CharField(max_length=80, blank=True)
    lut = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["owner_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="style_unique_name_per_owner"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_default(self) -> bool:
        return self.owner_id is None

    @property
    def lut_path(self) -> Path | None:
        return Path(settings.MEDIA_ROOT) / self.lut if self.lut else None

    def look_settings(self) -> tuple[str, dict[str, Any]]:
        """The look as a spec carries it: its name and its resolved
        parameters; ("", {}) for a style without a look."""
        if self.lut_path is not None:
            return self.look or self.name, {"lut": str(self.lut_path)}
        if self.look in SHIPPED_LOOKS:
            return self.look, dict(SHIPPED_LOOKS[self.look])
        return "", {}


class DirectorProfile(models.Model):
    """A creator's habits, applied to a new prompt in one click."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="director"
    )
    camera = models.CharField(max_length=200, blank=True)
    pacing = models.CharField(max_length=200, blank=True)
    look = models.CharField(max_length=300, blank=True)
    negative_prompt = models.CharField(max_length=MAX_DESCRIPTION_CHARS, blank=True)

    def __str__(self) -> str:
        return f"Director profile of {self.owner_id}"

    def snippet(self) -> str:
        return ", ".join(part for part in (self.camera, self.pacing, self.look) if part)


class Draft(models.Model):
    """The unsent text of a project's prompt box, saved as the creator types."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, related_name="+"
    )
    text = models.TextField(blank=True, max_length=MAX_PROMPT_CHARS)
    updated = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Draft for {self.project_id}"
