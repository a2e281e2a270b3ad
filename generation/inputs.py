"""Conditioning inputs for image→video and video→video, and output frames.

The files named by a spec's ``image_path`` and ``video_path`` were checked and
re-encoded when they were uploaded; here they are only read back, scaled to
cover the clip's frame and cropped evenly.
"""

from __future__ import annotations

import os

import av
import numpy as np
from PIL import Image

TASK_NAMES = {"t2v": "text-to-video", "i2v": "image-to-video", "v2v": "video-to-video"}


def check_task_inputs(
    spec: object, task: str, family: str = "this model"
) -> dict[str, list[str]]:
    """Messages for inputs a task needs but lacks, or gets but cannot use."""
    errors: dict[str, list[str]] = {}
    image = getattr(spec, "image_path", "")
    video = getattr(spec, "video_path", "")
    what = f"{family} ({TASK_NAMES.get(task, task)})"
    if task == "i2v" and not image:
        errors["image"] = [f"This model, {what}, starts from an image: add one."]
    if task == "v2v" and not video:
        errors["video"] = [f"This model, {what}, restyles a video: add one."]
    if image and task != "i2v":
        errors["image"] = [
            f"This model, {what}, does not take an image; pick an image-to-video "
            "model or remove the image."
        ]
    if video and task != "v2v":
        errors["video"] = [
            f"This model, {what}, does not take a video; pick a video-to-video "
            "model or remove the video."
        ]
    return errors


def cover(image: Image.Image, width: int, height: int) -> Image.Image:
    """Scale ``image`` to cover width × height, cropping the overflow evenly."""
    w, h = image.size
    if (w, h) == (width, height):
        return image
    if width * h > height * w:
        crop_w, crop_h = w, w * height / width
    else:
        crop_w, crop_h = h * width / height, h
    box = ((w - crop_w) / 2, (h - crop_h) / 2, (w + crop_w) / 2, (h + crop_h) / 2)
    return image.resize((width, height), Image.Resampling.BICUBIC, box=box)


def load_image(path: str | os.PathLike[str], width: int, height: int) -> Image.Image:
    """Read the conditioning image as RGB at exactly width × height."""
    with Image.open(path) as image:
        return cover(image.convert("RGB"), width, height)


def load_video(
    path: str | os.PathLike[str], num_frames: int, width: int, height: int
) -> list[Image.Image]:
    """Read the first ``num_frames`` frames as RGB images at width × height.

    A shorter video holds its last frame to make up the count.
    """
    frames: list[Image.Image] = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frames.append(cover(frame.to_image().convert("RGB"), width, height))
            if len(frames) == num_frames:
                break
    if not frames:
        raise ValueError(f"{path} holds no video frames")
    frames += [frames[-1]] * (num_frames - len(frames))
    return frames


def to_uint8(frames: object) -> np.ndarray:
    """Pipeline output frames (T, H, W, 3) in [0, 1] → uint8 frames."""
    array = np.asarray(frames, dtype=np.float32)
    if array.ndim != 4 or array.shape[-1] != 3:
        raise ValueError(f"expected (T, H, W, 3) frames, got {array.shape}")
    # An untrained or overflowing model can yield NaNs; show them as black.
    array = np.nan_to_num(array, nan=0.0, posinf=1.0, neginf=0.0)
    return (array.clip(0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
