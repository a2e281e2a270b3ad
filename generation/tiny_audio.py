"""A tiny random-weight Stable Audio pipeline, saved like a real one.

Built offline from configs a few kilobytes large (the T5 text encoder and its
word-level tokenizer are the tiny video models' own, see
:mod:`generation.tiny_models`) and written with ``save_pretrained``, so the
studio registers and loads it exactly as it does a real Stable Audio folder.

Its audio VAE compresses 8× in time at 2 048 samples a second and its
transformer holds 512 latent frames, so it makes up to 2 seconds of stereo
audio; the duration conditioning accepts up to 30 seconds, as the real
model's projection does for its own length.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from generation.tiny_models import TEXT_DIM, _t5, word_tokenizer

SAMPLE_RATE = 2048
HOP = 8  # the product of the VAE's downsampling ratios
LATENT_LENGTH = 512
MAX_SECONDS = LATENT_LENGTH * HOP / SAMPLE_RATE
CONDITIONING_DIM = 8


def tiny_stable_audio(*, seed: int = 0) -> Any:
    """Build a tiny random-weight ``StableAudioPipeline`` on the CPU, in fp32."""
    from diffusers import (
        AutoencoderOobleck,
        EDMDPMSolverMultistepScheduler,
        StableAudioDiTModel,
        StableAudioPipeline,
    )
    from diffusers.pipelines.stable_audio import StableAudioProjectionModel

    torch.manual_seed(seed)
    latent_channels = 4
    transformer = StableAudioDiTModel(
        sample_size=LATENT_LENGTH,
        in_channels=latent_channels,
        num_layers=1,
        attention_head_dim=8,
        num_attention_heads=2,
        num_key_value_attention_heads=1,
        out_channels=latent_channels,
        cross_attention_dim=16,
        time_proj_dim=8,
        global_states_input_dim=2 * CONDITIONING_DIM,
        cross_attention_input_dim=CONDITIONING_DIM,
    )
    vae = AutoencoderOobleck(
        encoder_hidden_size=4,
        downsampling_ratios=[2, 4],
        channel_multiples=[1, 2],
        decoder_channels=4,
        decoder_input_channels=latent_channels,
        audio_channels=2,
        sampling_rate=SAMPLE_RATE,
    )
    projection = StableAudioProjectionModel(
        text_encoder_dim=TEXT_DIM,
        conditioning_dim=CONDITIONING_DIM,
        min_value=0,
        max_value=30,
    )
    scheduler = EDMDPMSolverMultistepScheduler(
        solver_order=2,
        prediction_type="v_prediction",
        sigma_data=1.0,
        sigma_schedule="exponential",
    )
    pipeline = StableAudioPipeline(
        vae=vae,
        text_encoder=_t5(),
        projection_model=projection,
        tokenizer=word_tokenizer(64),
        transformer=transformer,
        scheduler=scheduler,
    )
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def save_tiny_stable_audio(folder: str | os.PathLike[str], *, seed: int = 0) -> Path:
    """Build the tiny pipeline and ``save_pretrained`` it into ``folder``.

    Returns the folder, ready for ``python manage.py models add``.
    """
    folder = Path(folder)
    tiny_stable_audio(seed=seed).save_pretrained(folder)
    return folder
