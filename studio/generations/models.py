from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from generation.specs import GenerationSpec

# A job claimed this many times and still left `running` by a crash is failed.
MAX_ATTEMPTS = 2


class Generation(models.Model):
    """One clip to render: a row in the queue, then a result in the gallery."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Kind(models.TextChoices):
        CLIP = "clip", "Clip"
        SEQUENCE = "sequence", "Rendered sequence"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)
    ACTIVE = (Status.QUEUED, Status.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations"
    )
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.CASCADE,
        related_name="generations",
        null=True,
        blank=True,
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    # A clip is a model call; a sequence joins a storyboard's finished takes.
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CLIP)
    prompt = models.TextField()
    # The full GenerationSpec as submitted, seed included.
    settings = models.JSONField()
    seed = models.BigIntegerField()
    # Variations submitted together share a batch id.
    batch = models.UUIDField(null=True, blank=True)
    # The clip this one continues (Extend): it plays right after that clip.
    extends = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="extensions",
    )
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Which worker renders the job ("host:pid") and when it last said it is
    # alive: a job whose worker went quiet is handed to another one.
    worker = models.CharField(max_length=100, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Paths relative to MEDIA_ROOT.
    video = models.CharField(max_length=300, blank=True)
    poster = models.CharField(max_length=300, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    # The creator's keepers: a star on the card, a filter on the Clips page.
    starred = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["status", "created"]),
            models.Index(fields=["owner", "status"]),
            # The fair claim asks, per queued job, when its owner last started one.
            models.Index(fields=["owner", "started"], name="generation_owner_started"),
            # The Clips page: a creator's clips, newest first, a page at a time.
            models.Index(fields=["owner", "-created"], name="generation_owner_created"),
            models.Index(fields=["project", "status", "-created"]),
        ]

    def __str__(self) -> str:
        return f"{self.prompt[:40]} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("generations:detail", args=[self.pk])

    @property
    def spec(self) -> GenerationSpec:
        return GenerationSpec.from_dict(self.settings)

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def video_url(self) -> str:
        return settings.MEDIA_URL + self.video if self.video else ""

    @property
    def poster_url(self) -> str:
        return settings.MEDIA_URL + self.poster if self.poster else ""

    @property
    def joined_url(self) -> str:
        """The original and this extension as one MP4, made when first asked."""
        if self.extends_id is None or not self.video:
            return ""
        return reverse("generations:joined", args=[self.pk])

    @property
    def ws_url(self) -> str:
        return f"/ws/generations/{self.pk}"

    @property
    def duration(self) -> float:
        return self.settings["num_frames"] / self.settings["fps"]

    def request_cancel(self) -> bool:
        """Cancel a queued job now, or ask a running one to stop at its next step.

        Returns True when the job was still queued and is now cancelled.
        """
        now = timezone.now()
        rows = Generation.objects.filter(pk=self.pk, status=self.Status.QUEUED).update(
            status=self.Status.CANCELLED, cancel_requested=True, finished=now
        )
        if rows:
            self.status, self.cancel_requested, self.finished = (
                self.Status.CANCELLED,
                True,
                now,
            )
            return True
        Generation.objects.filter(pk=self.pk, status=self.Status.RUNNING).update(
            cancel_requested=True
        )
        self.cancel_requested = True
        return False


class Worker(models.Model):
    """A generation worker that said it is alive: in a server process or on
    its own (``manage.py worker``), on this machine or another."""

    name = models.CharField(max_length=100, unique=True)
    device = models.CharField(max_length=40)
    started = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    job = models.ForeignKey(
        Generation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.device})"
