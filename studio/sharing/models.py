from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


def share_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ShareLinkQuerySet(models.QuerySet):
    def active(self) -> ShareLinkQuerySet:
        """Links that open: neither revoked nor expired."""
        now = timezone.now()
        return self.filter(revoked__isnull=True).filter(
            Q(expires__isnull=True) | Q(expires__gt=now)
        )


class ShareLink(models.Model):
    """A read-only link to one gallery, one clip, one storyboard's cut or the
    owner's live stream; only the token's hash is kept."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links"
    )
    gallery = models.ForeignKey(
        "galleries.Gallery",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="share_links",
    )
    generation = models.ForeignKey(
        "generations.Generation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="share_links",
    )
    storyboard = models.ForeignKey(
        "storyboards.Storyboard",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="share_links",
    )
    # The owner's live stream, whenever it runs: a channel, not one session.
    live = models.BooleanField(default=False)
    # Who the link was made for, so an owner can revoke one recipient's link.
    label = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)
    views = models.PositiveIntegerField(default=0)
    last_viewed = models.DateTimeField(null=True, blank=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    gallery__isnull=False,
                    generation__isnull=True,
                    storyboard__isnull=True,
                    live=False,
                )
                | Q(
                    gallery__isnull=True,
                    generation__isnull=False,
                    storyboard__isnull=True,
                    live=False,
                )
                | Q(
                    gallery__isnull=True,
                    generation__isnull=True,
                    storyboard__isnull=False,
                    live=False,
                )
                | Q(
                    gallery__isnull=True,
                    generation__isnull=True,
                    storyboard__isnull=True,
                    live=True,
                ),
                name="share_link_one_target",
            )
        ]

    def __str__(self) -> str:
        return self.label or f"Share link {self.pk}"

    def get_absolute_url(self) -> str:
        if self.live:
            return reverse("live:page")
        target = self.gallery or self.generation or self.storyboard
        return target.get_absolute_url() if target else reverse("galleries:list")

    @property
    def is_expired(self) -> bool:
        return self.expires is not None and self.expires <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked is None and not self.is_expired

    def matches(self, token: str) -> bool:
        return hmac.compare_digest(self.digest, share_digest(token))
