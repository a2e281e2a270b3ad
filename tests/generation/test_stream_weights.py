"""The stream runs on its own fine-tuned weights; clips keep theirs."""

from __future__ import annotations

import torch

from generation.builtin.pipeline import WEIGHTS_DIR, BuiltinVideoPipeline
from generation.builtin.streaming import STREAM_WEIGHTS_DIR, load_stream_pipeline


def test_the_stream_loads_the_shipped_fine_tune_and_clips_keep_the_clip_weights():
    assert (STREAM_WEIGHTS_DIR / "transformer" / "config.json").is_file()
    stream = load_stream_pipeline("cpu").transformer.state_dict()
    clip = BuiltinVideoPipeline.from_pretrained(WEIGHTS_DIR).transformer.state_dict()
    assert stream.keys() == clip.keys()
    changed = [name for name in clip if not torch.equal(clip[name], stream[name])]
    # A fine-tune of the same model: most tensors moved. Only the attribute
    # reading changed shape: the clip model grew it with the world's new
    # terms, the stream keeps the original world's.
    assert len(changed) > len(clip) // 2
    grown = [name for name in clip if clip[name].shape != stream[name].shape]
    reading = ("reader.heads.", "attr_cond.", "attr_tokens.")
    assert grown and all(name.startswith(reading) for name in grown)
