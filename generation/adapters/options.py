"""Memory and speed options of a registered model, and its memory estimate.

These apply to every diffusers family alike, so they live here rather than
in each adapter: the dtype the weights run in, CPU offload, VAE tiling and
slicing, and the attention backend where diffusers offers a choice.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
OFFLOADS = ("none", "model", "sequential")
# diffusers' attention backends that need no extra download; "" keeps the default.
ATTENTION_BACKENDS = ("", "native", "flash", "flex", "sage", "_native_cudnn",
                      "_native_efficient", "_native_flash", "_native_math")  # fmt: skip
_BYTES = {"F64": 8, "F32": 4, "BF16": 2, "F16": 2, "I64": 8, "I32": 4, "I16": 2,
          "I8": 1, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}  # fmt: skip


@dataclass(frozen=True)
class ModelOptions:
    """How a model is loaded; "auto" dtype is bf16 on a GPU and fp32 on a CPU."""

    dtype: str = "auto"
    offload: str = "none"
    vae_tiling: bool = False
    vae_slicing: bool = False
    attention_backend: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def torch_dtype(self, device: str) -> torch.dtype:
        """The dtype to load weights in on ``device``."""
        if self.dtype == "auto":
            return torch.bfloat16 if device.startswith("cuda") else torch.float32
        return DTYPES[self.dtype]


def parse_options(data: Any) -> tuple[ModelOptions, dict[str, list[str]]]:
    """Read options from JSON-like data; unknown keys and bad values are errors.

    Returns the options (defaults where a value was bad) and messages per key.
    """
    errors: dict[str, list[str]] = {}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return ModelOptions(), {"options": ["Options must be a JSON object."]}
    known = ModelOptions.__dataclass_fields__
    for key in data:
        if key not in known:
            errors.setdefault(str(key), []).append(
                f"Unknown option; use {', '.join(known)}."
            )
    values: dict[str, Any] = {}
    dtype = data.get("dtype", "auto")
    if dtype not in ("auto", *DTYPES):
        errors["dtype"] = [f"dtype must be auto, {', '.join(DTYPES)}; got {dtype!r}."]
    else:
        values["dtype"] = dtype
    offload = data.get("offload", "none")
    if offload not in OFFLOADS:
        errors["offload"] = [f"offload must be one of {', '.join(OFFLOADS)}."]
    else:
        values["offload"] = offload
    for key in ("vae_tiling", "vae_slicing"):
        value = data.get(key, False)
        if not isinstance(value, bool):
            errors[key] = [f"{key} must be true or false."]
        else:
            values[key] = value
    backend = data.get("attention_backend", "")
    if backend not in ATTENTION_BACKENDS:
        names = ", ".join(b for b in ATTENTION_BACKENDS if b)
        errors["attention_backend"] = [f"attention_backend must be one of {names}."]
    else:
        values["attention_backend"] = backend
    return ModelOptions(**values), errors


def apply_options(pipeline: Any, options: ModelOptions, device: str) -> Any:
    """Place ``pipeline`` on ``device`` the way ``options`` ask; returns it.

    Offloading keeps the weights on the CPU and moves each part to the GPU
    only while it runs, so it replaces ``.to(device)``.
    """
    if options.offload != "none" and device.startswith("cuda"):
        if options.offload == "model":
            pipeline.enable_model_cpu_offload(device=device)
        else:
            pipeline.enable_sequential_cpu_offload(device=device)
    else:
        pipeline.to(device)
    vae = getattr(pipeline, "vae", None)
    if vae is not None:
        if options.vae_tiling and hasattr(vae, "enable_tiling"):
            vae.enable_tiling()
        if options.vae_slicing and hasattr(vae, "enable_slicing"):
            vae.enable_slicing()
    if options.attention_backend:
        for name in ("transformer", "transformer_2", "unet"):
            model = getattr(pipeline, name, None)
            if model is not None and hasattr(model, "set_attention_backend"):
                model.set_attention_backend(options.attention_backend)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def safetensors_parameters(path: Path) -> tuple[int, int]:
    """(parameter count, bytes on disk) from a safetensors header alone."""
    with path.open("rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        if length > 100_000_000:
            raise ValueError(f"{path} has an implausible header")
        header = json.loads(handle.read(length))
    count = size = 0
    for name, tensor in header.items():
        if name == "__metadata__":
            continue
        n = 1
        for dim in tensor["shape"]:
            n *= dim
        count += n
        size += n * _BYTES.get(tensor["dtype"], 4)
    return count, size


def component_parameters(path: str | os.PathLike[str]) -> dict[str, int]:
    """Parameter count of each component folder of a diffusers model folder."""
    folder = Path(path)
    counts: dict[str, int] = {}
    for file in sorted(folder.glob("*/*.safetensors")):
        counts.setdefault(file.parent.name, 0)
        counts[file.parent.name] += safetensors_parameters(file)[0]
    return counts


def estimate_memory(
    path: str | os.PathLike[str], options: ModelOptions, device: str = "cuda"
) -> dict[str, int]:
    """Rough memory for the weights: {"weights", "peak"} in bytes.

    ``peak`` is the device memory the weights need at once: all of them, the
    largest component with model offload, or one layer's worth (taken as
    5 % of the largest) with sequential offload. Activations come on top and
    grow with frames × size.
    """
    counts = component_parameters(path)
    per_parameter = torch.empty((), dtype=options.torch_dtype(device)).element_size()
    sizes = {name: count * per_parameter for name, count in counts.items()}
    total = sum(sizes.values())
    largest = max(sizes.values(), default=0)
    peak = {"none": total, "model": largest, "sequential": largest // 20}
    return {"weights": total, "peak": peak[options.offload]}
