"""Tiny random-weight pipelines of every supported family, saved like real ones.

Nothing here downloads anything: each builder makes the family's real
diffusers classes from configs a few kilobytes large, with a tokenizer built
offline, and writes them with ``save_pretrained``. The studio then loads the
folder exactly as it loads a real checkpoint, so tests and the docs exercise
the code path a real model takes.

The compression ratios match the real families (Wan, SkyReels-V2, CogVideoX
and HunyuanVideo: 8× in space and 4× in time; LTX-Video: 32× and 8×; AnimateDiff:
8× in space), so the same frame-count and size rules apply to both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

FAMILIES = ("wan", "ltx", "cogvideox", "hunyuan", "animatediff", "skyreels")
TASKS = {
    "wan": ("t2v", "i2v", "v2v"),
    "ltx": ("t2v", "i2v", "v2v"),
    "cogvideox": ("t2v", "i2v", "v2v"),
    "hunyuan": ("t2v",),
    "animatediff": ("t2v", "v2v"),
    "skyreels": ("t2v", "i2v"),
}
TEXT_DIM = 32
VOCAB_SIZE = 256
_WORDS = (
    "a an the of in on over under at to and with as it is its into from "
    "red orange yellow green blue purple pink white black gold golden "
    "ball box cube triangle star sphere circle block cat dog bird car "
    "bouncing drifting moving rolling flying floating growing shrinking still "
    "left right up down diagonally slowly fast slow "
    "sky night day sunset field sea sand grass water clouds stars "
    "camera pan push-in zoom-out static shot close-up wide cinematic video "
    "blurry flicker low quality"
).split()


def word_tokenizer(model_max_length: int = 512) -> Any:
    """A word-level ``PreTrainedTokenizerFast`` built offline.

    Ids 0–3 are ``<pad>``, ``</s>``, ``<unk>`` and ``<s>``; every other word
    maps to ``<unk>``, which is all a random-weight text encoder needs.
    """
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "</s>", "<unk>", "<s>"]
    vocab = {word: index for index, word in enumerate(specials + list(_WORDS))}
    core = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    core.normalizer = normalizers.Lowercase()
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        bos_token="<s>",
        model_max_length=model_max_length,
    )


def _t5(umt5: bool = False) -> Any:
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    config_class, model_class = (
        (UMT5Config, UMT5EncoderModel) if umt5 else (T5Config, T5EncoderModel)
    )
    config = config_class(
        vocab_size=VOCAB_SIZE,
        d_model=TEXT_DIM,
        d_kv=8,
        d_ff=37,
        num_layers=1,
        num_heads=4,
        relative_attention_num_buckets=8,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    return model_class(config).eval()


def _clip_text(hidden_size: int) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=hidden_size,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=77,
        projection_dim=hidden_size,
        pad_token_id=0,
        bos_token_id=3,
        # eos id 2 makes CLIP pool at the highest id, as older checkpoints do.
        eos_token_id=2,
    )
    return CLIPTextModel(config).eval()


# The tiny Wan-shaped transformer's sizes (Wan, and SkyReels-V2 built on it).
WAN_SHAPED: dict[str, Any] = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 2,
    "attention_head_dim": 12,
    "out_channels": 16,
    "text_dim": TEXT_DIM,
    "freq_dim": 256,
    "ffn_dim": 32,
    "num_layers": 2,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "rope_max_seq_len": 32,
}


def _wan_vae() -> Any:
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )


def _wan(task: str) -> Any:
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanPipeline,
        WanTransformer3DModel,
        WanVideoToVideoPipeline,
    )

    transformer = WanTransformer3DModel(
        # Image-to-video (Wan 2.2 style) adds a mask and the image's latents.
        in_channels=36 if task == "i2v" else 16,
        **WAN_SHAPED,
    )
    vae = _wan_vae()
    parts = {
        "transformer": transformer,
        "vae": vae,
        "scheduler": FlowMatchEulerDiscreteScheduler(shift=5.0),
        "text_encoder": _t5(umt5=True),
        "tokenizer": word_tokenizer(),
    }
    if task == "i2v":
        return WanImageToVideoPipeline(
            **parts, image_encoder=None, image_processor=None
        )
    if task == "v2v":
        return WanVideoToVideoPipeline(**parts)
    return WanPipeline(**parts)


def _ltx(task: str) -> Any:
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXConditionPipeline,
        LTXImageToVideoPipeline,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    # Three space-time downsamplings and a 4× patch: 32× in space, 8× in time.
    # The decoder_* and upsample_* arguments must be tiny too, or the decoder
    # keeps its full size and one decode takes tens of seconds.
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True, False),
        decoder_inject_noise=(False, False, False, False, False),
        upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=False,
        patch_size=4,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=TEXT_DIM,
    )
    parts = {
        "transformer": transformer,
        "vae": vae,
        "scheduler": FlowMatchEulerDiscreteScheduler(),
        "text_encoder": _t5(),
        "tokenizer": word_tokenizer(),
    }
    pipeline = {"i2v": LTXImageToVideoPipeline, "v2v": LTXConditionPipeline}.get(
        task, LTXPipeline
    )
    return pipeline(**parts)


def _cogvideox(task: str) -> Any:
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXImageToVideoPipeline,
        CogVideoXPipeline,
        CogVideoXTransformer3DModel,
        CogVideoXVideoToVideoPipeline,
    )

    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4,
        attention_head_dim=16,
        # Image-to-video concatenates the image's latents channel-wise.
        in_channels=8 if task == "i2v" else 4,
        out_channels=4,
        time_embed_dim=2,
        text_embed_dim=TEXT_DIM,
        num_layers=1,
        sample_width=8,
        sample_height=8,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=16,
        use_rotary_positional_embeddings=True,
    )
    vae = AutoencoderKLCogVideoX(
        in_channels=3,
        out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    )
    parts = {
        "transformer": transformer,
        "vae": vae,
        "scheduler": CogVideoXDDIMScheduler(timestep_spacing="trailing"),
        "text_encoder": _t5(),
        "tokenizer": word_tokenizer(),
    }
    pipeline = {
        "i2v": CogVideoXImageToVideoPipeline,
        "v2v": CogVideoXVideoToVideoPipeline,
    }.get(task, CogVideoXPipeline)
    return pipeline(**parts)


def _hunyuan(task: str) -> Any:
    from diffusers import (
        AutoencoderKLHunyuanVideo,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideoPipeline,
        HunyuanVideoTransformer3DModel,
    )
    from transformers import LlamaConfig, LlamaModel

    transformer = HunyuanVideoTransformer3DModel(
        in_channels=4,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=10,
        num_layers=1,
        num_single_layers=1,
        num_refiner_layers=1,
        patch_size=2,
        patch_size_t=1,
        guidance_embeds=True,
        text_embed_dim=16,
        pooled_projection_dim=8,
        rope_axes_dim=(2, 4, 4),
    )
    vae = AutoencoderKLHunyuanVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        down_block_types=("HunyuanVideoDownBlock3D",) * 4,
        up_block_types=("HunyuanVideoUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        act_fn="silu",
        norm_num_groups=4,
        scaling_factor=0.476986,
        spatial_compression_ratio=8,
        temporal_compression_ratio=4,
        mid_block_add_attention=True,
    )
    llama = LlamaModel(
        LlamaConfig(
            vocab_size=VOCAB_SIZE,
            hidden_size=16,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=4,
            max_position_embeddings=512,
            pad_token_id=0,
            bos_token_id=3,
            eos_token_id=1,
        )
    ).eval()
    return HunyuanVideoPipeline(
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        text_encoder=llama,
        tokenizer=word_tokenizer(),
        text_encoder_2=_clip_text(8),
        tokenizer_2=word_tokenizer(77),
    )


def _animatediff(task: str) -> Any:
    from diffusers import (
        AnimateDiffPipeline,
        AnimateDiffVideoToVideoPipeline,
        AutoencoderKL,
        DDIMScheduler,
        MotionAdapter,
        UNet2DConditionModel,
    )

    unet = UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=TEXT_DIM,
        norm_num_groups=2,
    )
    motion_adapter = MotionAdapter(
        block_out_channels=(8, 16),
        motion_layers_per_block=1,
        motion_norm_num_groups=2,
        motion_num_attention_heads=4,
    )
    vae = AutoencoderKL(
        block_out_channels=[8, 8, 8, 8],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        latent_channels=4,
        norm_num_groups=2,
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="linear",
        clip_sample=False,
        steps_offset=1,
    )
    pipeline = AnimateDiffVideoToVideoPipeline if task == "v2v" else AnimateDiffPipeline
    return pipeline(
        unet=unet,
        motion_adapter=motion_adapter,
        vae=vae,
        scheduler=scheduler,
        text_encoder=_clip_text(TEXT_DIM),
        tokenizer=word_tokenizer(77),
        feature_extractor=None,
        image_encoder=None,
    )


def _skyreels(task: str) -> Any:
    from diffusers import (
        SkyReelsV2DiffusionForcingImageToVideoPipeline,
        SkyReelsV2DiffusionForcingPipeline,
        SkyReelsV2Transformer3DModel,
        UniPCMultistepScheduler,
    )

    # Diffusion forcing: one timestep per latent frame, so the same
    # transformer serves text→video, image→video and continuations.
    transformer = SkyReelsV2Transformer3DModel(in_channels=16, **WAN_SHAPED)
    vae = _wan_vae()
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=8.0
    )
    pipeline = (
        SkyReelsV2DiffusionForcingImageToVideoPipeline
        if task == "i2v"
        else SkyReelsV2DiffusionForcingPipeline
    )
    return pipeline(
        transformer=transformer,
        vae=vae,
        scheduler=scheduler,
        text_encoder=_t5(umt5=True),
        tokenizer=word_tokenizer(),
    )


_BUILDERS: dict[str, Callable[[str], Any]] = {
    "wan": _wan,
    "ltx": _ltx,
    "cogvideox": _cogvideox,
    "hunyuan": _hunyuan,
    "animatediff": _animatediff,
    "skyreels": _skyreels,
}


def tiny_pipeline(family: str, task: str = "t2v", *, seed: int = 0) -> Any:
    """Build a tiny random-weight pipeline of ``family`` for ``task``.

    ``task`` is "t2v", "i2v" or "v2v" where the family offers it (see
    :data:`TASKS`). The weights are drawn from ``seed``, on the CPU, in fp32.
    """
    if family not in _BUILDERS:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    if task not in TASKS[family]:
        raise ValueError(f"{family} offers the tasks {TASKS[family]}, not {task!r}")
    torch.manual_seed(seed)
    pipeline = _BUILDERS[family](task)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def save_tiny(
    family: str,
    folder: str | os.PathLike[str],
    task: str = "t2v",
    *,
    seed: int = 0,
) -> Path:
    """Build a tiny pipeline and ``save_pretrained`` it into ``folder``.

    Returns the folder, ready for ``python manage.py models add``.
    """
    folder = Path(folder)
    tiny_pipeline(family, task, seed=seed).save_pretrained(folder)
    return folder
