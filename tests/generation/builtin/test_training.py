from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from generation.builtin import train, world
from generation.builtin.model import BuiltinVideoDenoiser
from generation.builtin.pipeline import fast_bf16


def test_a_few_training_steps_lower_the_loss_and_leave_a_resumable_checkpoint(tmp_path):
    tiny = json.dumps(
        {"conv_channels": 16, "dim": 32, "depth": 1, "heads": 2, "cond_dim": 32}
    )
    args = [
        "--steps",
        "40",
        "--batch",
        "8",
        "--frames",
        "8",
        "--lr",
        "2e-3",
        "--warmup",
        "5",
        "--out",
        str(tmp_path / "run"),
        "--export",
        str(tmp_path / "weights"),
        "--log-every",
        "5",
        "--eval-every",
        "40",
        "--save-every",
        "20",
        "--heldout-size",
        "4",
        "--model",
        tiny,
        "--reader-steps",
        "30",
        "--reader-bank",
        "64",
    ]
    trainer = train.main(args)
    rows = [
        json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()
    ]
    losses = [r["loss"] for r in rows if "loss" in r]
    assert np.mean(losses[-2:]) < 0.9 * losses[0]
    assert any("gap_direction" in r for r in rows)
    # The prompt reader learnt from the world's labels: better than chance on
    # held-out phrasings (every group has at least three classes).
    [metrics] = [r for r in rows if "reader_motion" in r]
    assert metrics["reader_camera"] > 0.4
    assert metrics["reader_colour"] > 0.2
    assert (tmp_path / "run" / "training.png").is_file()
    assert (tmp_path / "weights" / "model_index.json").is_file()
    resumed = train.main([*args[:1], "45", *args[2:], "--resume", "--bf16"])
    assert resumed.step == 45
    assert trainer.step == 40
    # bfloat16 only where the CPU has it natively; emulated it is far slower.
    assert resumed.args.bf16 == fast_bf16(torch.device("cpu"))


def test_refitting_the_reader_changes_only_the_reader_and_keeps_the_recipe(tmp_path):
    tiny = json.dumps(
        {"conv_channels": 16, "dim": 32, "depth": 1, "heads": 2, "cond_dim": 32}
    )
    common = ["--model", tiny, "--heldout-size", "4", "--reader-bank", "64"]
    train.main(
        [
            *common,
            *("--steps", "2", "--batch", "2", "--frames", "8", "--warmup", "1"),
            *("--save-every", "2", "--eval-every", "2", "--log-every", "1"),
            *("--out", str(tmp_path / "run"), "--export", str(tmp_path / "base")),
        ]
    )
    refit = train.main(
        [
            *common,
            *("--init-from", str(tmp_path / "base"), "--reader-only"),
            *("--reader-steps", "25", "--out", str(tmp_path / "refit-run")),
            *("--export", str(tmp_path / "refit")),
        ]
    )
    assert refit.step == 2  # no denoiser steps
    base = BuiltinVideoDenoiser.from_pretrained(tmp_path / "base" / "transformer")
    new = BuiltinVideoDenoiser.from_pretrained(tmp_path / "refit" / "transformer")
    before, after = base.state_dict(), new.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("reader.") for k in changed)
    info = json.loads((tmp_path / "refit" / "training.json").read_text())
    assert info["step"] == 2 and info["args"]["steps"] == 2  # the base recipe
    assert info["reader_refit"]["steps"] == 25
    assert set(info["reader_refit"]["heldout_after"]) == set(world.ATTRIBUTES)


def test_refitting_the_reader_needs_starting_weights(capsys):
    with pytest.raises(SystemExit):
        train.main(["--reader-only"])
    assert "--reader-only needs --init-from" in capsys.readouterr().err


def test_a_grown_world_keeps_what_the_old_terms_learned():
    """Weights for fewer terms per attribute load into a model for more: the
    old terms read and condition exactly as before, the new ones start cold."""
    from generation.builtin.model import grow_attribute_groups

    torch.manual_seed(0)
    old_groups, new_groups = (4, 3, 2), (4, 5, 3)
    small = dict(conv_channels=16, dim=32, depth=1, heads=2, cond_dim=32)
    old = BuiltinVideoDenoiser(**small, attribute_groups=old_groups).eval()
    with torch.no_grad():
        old.attr_cond.weight.normal_(0, 0.1)
    state = grow_attribute_groups(old.state_dict(), old_groups, new_groups)
    new = BuiltinVideoDenoiser(**small, attribute_groups=new_groups).eval()
    new.load_state_dict(state)
    states, pooled = torch.randn(2, 7, 384), torch.randn(2, 384)
    with torch.no_grad():
        before = old.reader(states, pooled)
        after = new.reader(states, pooled)
        for b, a, o in zip(before, after, old_groups, strict=True):
            assert torch.allclose(a[:, :o], b, atol=1e-6)
        for i, (o, n) in enumerate(zip(old_groups, new_groups, strict=True)):
            # A new term's bias starts below every old term's.
            bias = state[f"reader.heads.{i}.2.bias"]
            assert len(bias) == n
            assert o == n or bias[o:].max() < bias[1:o].min()
        probs = [torch.zeros(1, n) for n in new_groups]
        for p in probs:
            p[0, 1] = 1.0
        old_probs = [p[:, :n] for p, n in zip(probs, old_groups, strict=True)]
        assert torch.allclose(
            new.attr_cond(torch.cat(probs, -1)), old.attr_cond(torch.cat(old_probs, -1))
        )
    with pytest.raises(ValueError, match="only grow"):
        grow_attribute_groups(old.state_dict(), old_groups, (3, 3, 2))


def test_a_favoured_batch_shows_the_new_terms_as_often_as_asked(tmp_path):
    import argparse
    import random

    trainer = train.Trainer.__new__(train.Trainer)
    trainer.rng = random.Random(3)
    trainer.args = argparse.Namespace(
        batch=40, favour=["bird", "valley"], favour_share=1.0
    )
    clips, captions, params = trainer.favoured_batch(8, 0.5)
    assert clips.shape == (40, 8, 32, 32, 3) and len(captions) == 40
    assert all({p.objects[0].shape, p.scene} & {"bird", "valley"} for p in params)
    trainer.args.favour_share = 0.0
    _, _, params = trainer.favoured_batch(8, 0.5)
    shown = sum(
        bool({p.objects[0].shape, p.scene} & {"bird", "valley"}) for p in params
    )
    assert shown < 30  # drawn as usual: about 40 % show one of them
