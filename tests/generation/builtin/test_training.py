from __future__ import annotations

import json

import numpy as np
import torch

from generation.builtin import train
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
