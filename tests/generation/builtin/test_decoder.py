from __future__ import annotations

import json
import random

import numpy as np
import torch
import torch.nn.functional as F

from generation.builtin import train_decoder
from generation.builtin.decoder import BuiltinDetailDecoder, tiny_random_decoder
from generation.builtin.pipeline import BuiltinVideoPipeline, tiny_random_pipeline


def run(pipe, **kwargs):
    gen = torch.Generator().manual_seed(0)
    args = dict(num_frames=8, num_inference_steps=2, generator=gen)
    return pipe("a red ball moving left", **{**args, **kwargs})


def test_a_pipeline_with_a_decoder_returns_128_px_frames():
    pipe = tiny_random_pipeline(decoder=True)
    frames = run(pipe, height=128, width=128).frames
    assert frames.shape == (1, 8, 128, 128, 3)
    assert 0.0 <= frames.min() and frames.max() <= 1.0
    pt = run(pipe, height=128, width=128, output_type="pt").frames
    assert pt.shape == (1, 8, 3, 128, 128)


def test_previews_stay_at_32_px_and_come_at_every_step_with_a_decoder():
    pipe = tiny_random_pipeline(decoder=True)
    seen = []

    def on_step(p, i, t, kwargs):
        seen.append((i, tuple(kwargs["pred_x0"].shape)))
        return kwargs

    run(
        pipe,
        height=128,
        width=128,
        num_inference_steps=3,
        callback_on_step_end=on_step,
        callback_on_step_end_tensor_inputs=["latents", "pred_x0"],
    )
    assert seen == [(i, (1, 3, 8, 32, 32)) for i in range(3)]


def test_the_decoder_enlarges_the_very_clip_the_denoiser_made():
    with_decoder = tiny_random_pipeline(decoder=True)
    plain = tiny_random_pipeline()
    small = run(plain, output_type="pt").frames
    large = run(with_decoder, height=128, width=128, output_type="pt").frames
    expected = with_decoder.decoder(small.permute(0, 2, 1, 3, 4)).clamp(-1, 1)
    assert torch.allclose(large, expected.permute(0, 2, 1, 3, 4), atol=1e-5)
    # At 32 px the decoder is not used: the output is the plain pipeline's.
    assert torch.equal(run(with_decoder, output_type="pt").frames, small)


def test_an_untrained_decoder_is_plain_bicubic_enlargement():
    decoder = BuiltinDetailDecoder(channels=8, blocks=1, up_channels=8)
    clip = torch.rand(2, 3, 5, 16, 16) * 2 - 1
    frames = clip.permute(0, 2, 1, 3, 4).flatten(0, 1)
    bicubic = F.interpolate(frames, scale_factor=4, mode="bicubic")
    out = decoder(clip).permute(0, 2, 1, 3, 4).flatten(0, 1)
    assert torch.allclose(out, bicubic, atol=1e-6)


def test_each_decoded_frame_sees_its_neighbours_in_time():
    decoder = tiny_random_decoder()
    clip = torch.zeros(1, 3, 6, 16, 16)
    changed = clip.clone()
    changed[:, :, 2] = 0.5
    delta = (decoder(changed) - decoder(clip)).abs().amax(dim=(0, 1, 3, 4))
    assert delta[1] > 0 and delta[3] > 0
    assert delta[5] == 0  # beyond the temporal reach of one block


def test_a_pipeline_with_a_decoder_survives_save_and_load(tmp_path):
    pipe = tiny_random_pipeline(decoder=True)
    pipe.save_pretrained(tmp_path)
    index = json.loads((tmp_path / "model_index.json").read_text())
    assert index["decoder"] == ["generation.builtin.decoder", "BuiltinDetailDecoder"]
    assert (tmp_path / "decoder" / "diffusion_pytorch_model.safetensors").is_file()
    loaded = BuiltinVideoPipeline.from_pretrained(tmp_path)
    assert isinstance(loaded.decoder, BuiltinDetailDecoder)
    before = run(pipe, height=128, width=128).frames
    after = run(loaded, height=128, width=128).frames
    np.testing.assert_allclose(after, before, atol=1e-5)


def test_weights_saved_without_a_decoder_load_without_one(tmp_path):
    tiny_random_pipeline().save_pretrained(tmp_path)
    loaded = BuiltinVideoPipeline.from_pretrained(tmp_path)
    assert loaded.decoder is None
    # Without a decoder the 32 px path is what a 32 px request gets, as before.
    assert run(loaded).frames.shape == (1, 8, 32, 32, 3)


def test_augmentation_blurs_and_noises_some_clips_and_keeps_the_range():
    low, _ = train_decoder.render_sizes(random.Random(0), 8, 4, (32, 128))
    out = train_decoder.augment(low, torch.Generator().manual_seed(0))
    assert out.shape == low.shape
    assert out.min() >= -1 and out.max() <= 1
    changed = (out - low).abs().amax(dim=(1, 2, 3, 4)) > 1e-4
    assert 0 < int(changed.sum()) < 8


def test_a_few_decoder_training_steps_leave_a_resumable_checkpoint_and_weights(
    tmp_path,
):
    tiny = json.dumps({"channels": 8, "blocks": 1, "up_channels": 8})
    args = [
        "--steps",
        "6",
        "--batch-frames",
        "8",
        "--frames",
        "4",
        "--crop",
        "8",
        "--pool",
        "2",
        "--warmup",
        "2",
        "--heldout-clips",
        "1",
        "--log-every",
        "2",
        "--eval-every",
        "3",
        "--out",
        str(tmp_path / "run"),
        "--export",
        str(tmp_path / "weights"),
        "--model",
        tiny,
    ]
    trainer = train_decoder.main(args)
    rows = [
        json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()
    ]
    assert [r["step"] for r in rows if "loss" in r] == [2, 4, 6]
    assert all(np.isfinite(r["heldout_l1"]) for r in rows if "heldout_l1" in r)
    info = json.loads((tmp_path / "weights" / "training.json").read_text())
    assert info["step"] == 6 and info["model"]["channels"] == 8
    exported = BuiltinDetailDecoder.from_pretrained(tmp_path / "weights")
    for a, b in zip(exported.parameters(), trainer.ema.parameters(), strict=True):
        assert torch.equal(a, b)
    resumed = train_decoder.main([*args[:1], "8", *args[2:], "--resume"])
    assert resumed.step == 8


def test_the_adapter_returns_decoded_128_px_frames_and_32_px_previews(spec):
    from generation.adapters.builtin import NATIVE_SIZE, BuiltinAdapter

    adapter = BuiltinAdapter(tiny_random_pipeline(decoder=True), device="cpu")
    assert adapter.native_size == (128, 128)
    previews = []
    frames = adapter.generate(
        spec, on_preview=lambda step, steps, f: previews.append((step, f.shape))
    )
    assert frames.dtype == np.uint8 and frames.shape == (8, 128, 128, 3)
    assert previews == [(1, (8, 32, 32, 3)), (2, (8, 32, 32, 3))]
    plain = BuiltinAdapter(tiny_random_pipeline(), device="cpu")
    assert plain.native_size == NATIVE_SIZE
    assert plain.generate(spec).shape == (8, 32, 32, 3)


def test_an_installed_decoder_is_loaded_with_the_saved_pipeline(tmp_path):
    pipe = tiny_random_pipeline()
    pipe.save_pretrained(tmp_path / "weights")
    transformer = (tmp_path / "weights" / "transformer").iterdir()
    before = {f.name: f.read_bytes() for f in transformer}
    tiny_random_decoder().save_pretrained(tmp_path / "export")
    train_decoder.main(
        ["--install", str(tmp_path / "export"), "--weights", str(tmp_path / "weights")]
    )
    loaded = BuiltinVideoPipeline.from_pretrained(tmp_path / "weights")
    assert isinstance(loaded.decoder, BuiltinDetailDecoder)
    assert run(loaded, height=128, width=128).frames.shape == (1, 8, 128, 128, 3)
    transformer = (tmp_path / "weights" / "transformer").iterdir()
    assert {f.name: f.read_bytes() for f in transformer} == before


def test_the_shipped_weights_make_256_px_clips_through_their_decoder():
    from generation.adapters.builtin import BuiltinAdapter
    from generation.builtin.pipeline import WEIGHTS_DIR

    pipe = BuiltinVideoPipeline.from_pretrained(WEIGHTS_DIR)
    assert isinstance(pipe.decoder, BuiltinDetailDecoder)
    assert pipe.decoder.scales == (4, 8)
    assert sum(p.numel() for p in pipe.decoder.parameters()) < 2_000_000
    assert run(pipe, height=256, width=256).frames.shape == (1, 8, 256, 256, 3)
    # Live frames (128 px) come from the decoder's smaller output.
    assert run(pipe, height=128, width=128).frames.shape == (1, 8, 128, 128, 3)
    assert BuiltinAdapter(pipe).native_size == (256, 256)


def test_an_untrained_scale_8_decoder_is_bicubic_at_both_of_its_sizes():
    decoder = BuiltinDetailDecoder(
        channels=8, blocks=1, up_channels=8, scale=8, fine_channels=4
    )
    assert decoder.scales == (4, 8)
    clip = torch.rand(1, 3, 3, 8, 8) * 2 - 1
    frames = clip.permute(0, 2, 1, 3, 4).flatten(0, 1)
    for scale in (4, 8):
        bicubic = F.interpolate(frames, scale_factor=scale, mode="bicubic")
        out = decoder(clip, scale).permute(0, 2, 1, 3, 4).flatten(0, 1)
        assert torch.allclose(out, bicubic, atol=1e-6)
    # A scale-4 decoder has no 256 px output to give.
    small = BuiltinDetailDecoder(channels=8, blocks=1, up_channels=8)
    assert small.scales == (4,)
    try:
        small(clip, 8)
    except ValueError as error:
        assert "(4,)" in str(error)
    else:
        raise AssertionError("a scale-4 decoder enlarged by 8")


def test_a_scale_8_decoder_makes_256_px_clips_and_128_px_ones_from_32_px():
    pipe = tiny_random_pipeline(decoder=True, decoder_scale=8)
    seen = []

    def on_step(p, i, t, kwargs):
        seen.append(tuple(kwargs["pred_x0"].shape))
        return kwargs

    large = run(
        pipe,
        height=256,
        width=256,
        output_type="pt",
        callback_on_step_end=on_step,
        callback_on_step_end_tensor_inputs=["latents", "pred_x0"],
    ).frames
    assert large.shape == (1, 8, 3, 256, 256)
    assert seen == [(1, 3, 8, 32, 32)] * 2
    medium = run(pipe, height=128, width=128, output_type="pt").frames
    assert medium.shape == (1, 8, 3, 128, 128)
    # Both are the same 32 px clip, enlarged by the decoder's two outputs.
    small = run(tiny_random_pipeline(), output_type="pt").frames.permute(0, 2, 1, 3, 4)
    for frames, scale in ((large, 8), (medium, 4)):
        expected = pipe.decoder(small, scale).clamp(-1, 1).permute(0, 2, 1, 3, 4)
        assert torch.allclose(frames, expected, atol=1e-5)
    assert pipe.decode_scale(192, 192) == 4 and pipe.denoise_size(192, 192) == (48, 48)
    assert pipe.decode_scale(64, 64) == 1


def test_the_adapter_with_a_scale_8_decoder_returns_256_px_frames(spec):
    from generation.adapters.builtin import BuiltinAdapter

    adapter = BuiltinAdapter(
        tiny_random_pipeline(decoder=True, decoder_scale=8), device="cpu"
    )
    assert adapter.native_size == (256, 256)
    previews = []
    frames = adapter.generate(
        spec, on_preview=lambda step, steps, f: previews.append(f.shape)
    )
    assert frames.shape == (8, 256, 256, 3)
    assert previews == [(8, 32, 32, 3)] * 2


def test_a_scale_8_decoder_trains_from_a_scale_4_one_and_reports_both_sizes(tmp_path):
    tiny_random_decoder().save_pretrained(tmp_path / "four")
    model = {"channels": 8, "blocks": 1, "up_channels": 8, "scale": 8}
    args = [
        *("--steps", "2", "--batch-frames", "4", "--frames", "4", "--crop", "8"),
        *("--pool", "1", "--warmup", "1", "--heldout-clips", "1"),
        *("--eval-every", "2", "--log-every", "1", "--blur-share", "0"),
        *("--out", str(tmp_path / "run"), "--export", str(tmp_path / "eight")),
        *("--model", json.dumps(model), "--init-from", str(tmp_path / "four")),
    ]
    trainer = train_decoder.main(args)
    assert trainer.sizes == (32, 128, 256)
    info = json.loads((tmp_path / "eight" / "training.json").read_text())
    assert info["model"]["scale"] == 8
    assert 0 < info["heldout_ratio"] and 0 < info["heldout_ratio_128"]
    # The trunk came from the scale-4 decoder (then took two small steps).
    four = BuiltinDetailDecoder.from_pretrained(tmp_path / "four")
    eight = BuiltinDetailDecoder.from_pretrained(tmp_path / "eight")
    drift = (eight.conv_in.weight - four.conv_in.weight).abs().max()
    assert drift < 0.05 < four.conv_in.weight.abs().max()
