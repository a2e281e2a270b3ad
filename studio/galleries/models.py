from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Gallery(models.Model):
    """A named board of clips, gathered from any of the owner's projects."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="galleries"
    )
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    cover = models.ForeignKey(
        "generations.Generation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Share pages show prompts only when the owner says so.
    show_prompts = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated"]
        indexes = [models.Index(fields=["owner", "-updated"])]
        verbose_name_plural = "galleries"

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("galleries:detail", args=[self.pk])


class GalleryItem(models.Model):
    """One clip in a gallery, at a place in its order (0 first)."""

    gallery = models.ForeignKey(Gallery, on_delete=models.CASCADE, related_name="items")
    generation = models.ForeignKey(
        "generations.Generation", on_delete=models.CASCADE, related_name="+"
    )
    # Kept dense (0..n-1); moves shift the items between with one UPDATE.
    position = models.PositiveIntegerField()
    added = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["gallery", "generation"], name="gallery_item_once"
            )
        ]
        indexes = [models.Index(fields=["gallery", "position"])]

    def __str__(self) -> str:
        return f"{self.gallery_id} #{self.position}"
