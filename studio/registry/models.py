from __future__ import annotations

from django.db import models
from django.urls import reverse


class RegisteredModel(models.Model):
    """A real model on this machine: a local diffusers folder (or hub id).

    Most make video; a Stable Audio folder makes sound (see
    ``services.model_kind``) and is only offered where sound is made.

    ``status`` and ``reason`` record the last check of the folder, so the
    model page can say why a model cannot be used without loading it.
    """

    class Family(models.TextChoices):
        WAN = "wan", "Wan"
        LTX = "ltx", "LTX-Video"
        COGVIDEOX = "cogvideox", "CogVideoX"
        HUNYUAN = "hunyuan", "HunyuanVideo"
        ANIMATEDIFF = "animatediff", "AnimateDiff"
        STABLE_AUDIO = "stableaudio", "Stable Audio"

    class Task(models.TextChoices):
        T2V = "t2v", "text → video"
        I2V = "i2v", "image → video"
        V2V = "v2v", "video → video"
        T2A = "t2a", "text → audio"

    class Status(models.TextChoices):
        AVAILABLE = "available"
        UNAVAILABLE = "unavailable"

    name = models.SlugField(max_length=60, unique=True)
    family = models.CharField(max_length=20, choices=Family.choices)
    task = models.CharField(max_length=3, choices=Task.choices, default=Task.T2V)
    path = models.CharField(max_length=500, help_text="A diffusers folder or hub id.")
    # dtype, offload, vae_tiling, vae_slicing, attention_backend.
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.UNAVAILABLE
    )
    reason = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.family}, {self.task})"

    def get_absolute_url(self) -> str:
        return reverse("registry:list") + f"#model-{self.name}"

    @property
    def is_available(self) -> bool:
        return self.status == self.Status.AVAILABLE
