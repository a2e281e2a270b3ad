"""What a model can make, in one typed place: frames, rates, sizes, ranges,
defaults and the inputs it takes.

Each family module declares ``capabilities(task) -> Capabilities`` from its
own constants; the registry keeps them beside every registered model
(:func:`generation.adapters.capabilities`). Validation is
:meth:`Capabilities.check`, so what a model reports and what the engine
accepts cannot disagree. Every family narrows the bounds in
:mod:`generation.specs`, which are what the service can encode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generation import specs
from generation.inputs import TASK_NAMES

Errors = dict[str, list[str]]


@dataclass(frozen=True)
class Range:
    """A closed range of a number and the value used when none is given."""

    min: float
    max: float
    default: float

    def __post_init__(self) -> None:
        if not self.min <= self.default <= self.max:
            raise ValueError(f"{self.default} is outside {self.min}–{self.max}")

    def to_dict(self) -> dict[str, float]:
        return {"min": self.min, "max": self.max, "default": self.default}


@dataclass(frozen=True)
class FrameRule:
    """Which frame counts a model makes: ``min <= n <= max`` and
    ``(n - offset) % step == 0`` (Wan: step 4, offset 1, so 4k+1)."""

    min: int
    max: int
    step: int = 1
    offset: int = 0
    default: int = 16

    def __post_init__(self) -> None:
        if self.step < 1 or self.min > self.max:
            raise ValueError(f"no frame counts in {self}")
        for n in (self.min, self.max, self.default):
            if not self.allows(n):
                raise ValueError(f"{n} frames does not follow {self}")

    def allows(self, n: int) -> bool:
        return self.min <= n <= self.max and (n - self.offset) % self.step == 0

    def counts(self) -> list[int]:
        return list(range(self.min, self.max + 1, self.step))

    def nearest(self, n: int) -> int:
        """The valid count closest to ``n`` (the larger one on a tie)."""
        return min(self.counts(), key=lambda count: (abs(count - n), -count))

    def pattern(self) -> str:
        """The rule as a creator reads it: "4k+1", "8k+1", "any count"."""
        if self.step == 1:
            return "any count"
        offset = self.offset % self.step
        return f"{self.step}k+{offset}" if offset else f"{self.step}k"

    def to_dict(self) -> dict[str, int]:
        return {"min": self.min, "max": self.max, "step": self.step,
                "offset": self.offset, "default": self.default}  # fmt: skip


@dataclass(frozen=True)
class SizeRule:
    """Widths and heights: multiples of ``multiple`` within ``min``–``max``.

    ``detail`` is the short side up to which the model draws its own detail;
    a larger frame is its frame enlarged. None: it draws at every size it
    takes."""

    multiple: int
    min: int
    max: int
    default_width: int
    default_height: int
    detail: int | None = None

    def __post_init__(self) -> None:
        for side in (self.min, self.max, self.default_width, self.default_height):
            if side % self.multiple or not self.min <= side <= self.max:
                raise ValueError(f"{side} px does not follow {self}")

    def to_dict(self) -> dict[str, int]:
        return {"multiple": self.multiple, "min": self.min, "max": self.max,
                "default_width": self.default_width,
                "default_height": self.default_height,
                "detail": self.detail}  # fmt: skip


# What each field is called in a sentence.
_WHAT = {
    "num_frames": "number of frames",
    "fps": "frame rate",
    "width": "width",
    "height": "height",
    "num_inference_steps": "number of steps",
    "guidance_scale": "guidance",
    "seed": "seed",
    "strength": "strength",
}


@dataclass(frozen=True)
class Capabilities:
    """The rules of one model: what :meth:`check` accepts and
    :meth:`to_dict` reports.

    ``tasks`` are what the model does ("t2v", "i2v", "v2v"); ``image`` and
    ``video`` say whether it takes (and needs) a start image or a source
    video, and ``strength`` is present when it takes a video to restyle.
    ``negative_prompt`` is the negative prompt it works best with;
    ``takes_negative_prompt`` is False for a model that cannot use one.
    ``sentence_name`` is how sentences name the model when the label alone
    does not read as a name ("The built-in model"); it defaults to the label.
    ``extend`` is the frame rule of the continuations the model makes of a
    finished clip (the spec's task "extend"), or None when it cannot
    continue a clip.
    """

    family: str
    label: str
    tasks: tuple[str, ...]
    frames: FrameRule
    fps: Range
    size: SizeRule
    steps: Range
    guidance: Range
    negative_prompt: str = ""
    image: bool = False
    video: bool = False
    strength: Range | None = None
    audio: bool = False
    takes_negative_prompt: bool = True
    sentence_name: str = ""
    extend: FrameRule | None = None

    def __post_init__(self) -> None:
        # Every family narrows what the service can encode, never widens it.
        outer = {
            "frames": (self.frames, specs.MIN_FRAMES, specs.MAX_FRAMES),
            "fps": (self.fps, specs.MIN_FPS, specs.MAX_FPS),
            "size": (self.size, specs.MIN_SIZE, specs.MAX_SIZE),
            "steps": (self.steps, specs.MIN_STEPS, specs.MAX_STEPS),
            "guidance": (self.guidance, specs.MIN_GUIDANCE, specs.MAX_GUIDANCE),
        }
        if self.extend is not None:
            outer["extend"] = (self.extend, specs.MIN_FRAMES, specs.MAX_FRAMES)
        if self.strength is not None:
            outer["strength"] = (
                self.strength, specs.MIN_STRENGTH, specs.MAX_STRENGTH
            )  # fmt: skip
        for name, (rule, low, high) in outer.items():
            if rule.min < low or rule.max > high:
                raise ValueError(
                    f"{self.label}'s {name} {rule.min}–{rule.max} leave the "
                    f"shared bounds {low}–{high}"
                )

    @property
    def subject(self) -> str:
        """How a sentence names the model, at its start."""
        return self.sentence_name or self.label

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape ``GET /api/models`` reports."""
        return {
            "family": self.family,
            "label": self.label,
            "tasks": list(self.tasks),
            "frames": self.frames.to_dict(),
            "fps": self.fps.to_dict(),
            "size": self.size.to_dict(),
            "steps": self.steps.to_dict(),
            "guidance": self.guidance.to_dict(),
            "negative_prompt": self.negative_prompt,
            "inputs": {
                "image": self.image,
                "video": self.video,
                "strength": self.strength.to_dict() if self.strength else None,
                "audio": self.audio,
            },
            "extend": self.extend.to_dict() if self.extend else None,
        }

    def defaults(self) -> dict[str, object]:
        """The settings the model works best with, in spec field names."""
        values: dict[str, object] = {
            "num_frames": self.frames.default,
            "fps": self.fps.default,
            "width": self.size.default_width,
            "height": self.size.default_height,
            "num_inference_steps": self.steps.default,
            "guidance_scale": self.guidance.default,
        }
        if self.negative_prompt:
            values["negative_prompt"] = self.negative_prompt
        if self.strength is not None:
            values["strength"] = self.strength.default
        return values

    def frame_counts(self) -> list[int]:
        """Every frame count the model makes, smallest first."""
        return self.frames.counts()

    def nearest_frames(self, n: int) -> int:
        """The frame count the model makes that is closest to ``n``."""
        return self.frames.nearest(n)

    def check(self, spec: Any) -> Errors:
        """Check a :class:`~generation.specs.GenerationSpec` against these rules.

        Returns creator-readable sentences per field, in diffusers' argument
        names (``image`` and ``video`` for the conditioning files); an empty
        dict means the model can make the clip.
        """
        errors = check_shared(spec)

        def add(field: str, message: str) -> None:
            errors.setdefault(field, []).append(message)

        def fine(field: str) -> bool:
            return field not in errors

        who = self.subject
        frames = self.frames
        extending = getattr(spec, "task", "") == specs.EXTEND
        if extending:
            self._check_extend(spec, errors)
        elif fine("num_frames"):
            n = spec.num_frames
            if n > frames.max:
                add("num_frames", f"{who} makes clips of at most {frames.max} "
                    f"frames: {n} frames is too many.")  # fmt: skip
            elif n < frames.min:
                add("num_frames", f"{who} makes clips of at least {frames.min} "
                    f"frames: {n} frames is too few.")  # fmt: skip
            elif not frames.allows(n):
                add("num_frames", f"{who} makes clips of {frames.pattern()} "
                    f"frames ({_some(frames.counts())}): {n} frames is not one "
                    f"of them; {frames.nearest(n)} is the nearest.")  # fmt: skip
        if fine("fps") and not self.fps.min <= spec.fps <= self.fps.max:
            pace = "fast" if spec.fps > self.fps.max else "slow"
            add("fps", f"{who} plays clips at {self.fps.min:g} to {self.fps.max:g} "
                f"fps (frame rate): {spec.fps} fps is too {pace}.")  # fmt: skip
        size = self.size
        for field in ("width", "height"):
            value = getattr(spec, field)
            if not fine(field):
                continue
            if not size.min <= value <= size.max:
                add(field, f"{who} makes clips from {size.min} to {size.max} "
                    f"pixels in {field}: {value} is too "
                    f"{'large' if value > size.max else 'small'}.")  # fmt: skip
            elif value % size.multiple:
                low = value // size.multiple * size.multiple
                rule = (
                    "an even number of pixels"
                    if size.multiple == 2
                    else f"a multiple of {size.multiple} pixels"
                )
                add(field, f"{who} needs the {field} to be {rule}; {value} is "
                    f"not ({low} or {low + size.multiple} would do).")  # fmt: skip
        steps = self.steps
        value = spec.num_inference_steps
        if fine("num_inference_steps") and not steps.min <= value <= steps.max:
            many = "many" if value > steps.max else "few"
            add("num_inference_steps", f"{who} runs {steps.min:g} to "
                f"{steps.max:g} steps: {value} steps is too {many}.")  # fmt: skip
        for field, rule in (("guidance_scale", self.guidance),
                            ("strength", self.strength)):  # fmt: skip
            value = getattr(spec, field)
            if rule is None or not fine(field) or rule.min <= value <= rule.max:
                continue
            side = "high" if value > rule.max else "low"
            add(field, f"{who} takes a {_WHAT[field]} from {rule.min:g} to "
                f"{rule.max:g}: {value:g} is too {side}.")  # fmt: skip
        if (
            fine("negative_prompt")
            and not self.takes_negative_prompt
            and spec.negative_prompt.strip()
        ):
            add("negative_prompt", f"{who} takes no negative prompt; leave it "
                "empty.")  # fmt: skip
        self._check_inputs(spec, errors)
        return errors

    def _check_extend(self, spec: Any, errors: Errors) -> None:
        """An extension: a model that continues clips, a clip to continue, no
        start image, and a length the model's continuation rule allows."""
        who = self.subject
        rule = self.extend
        if rule is None:
            errors.setdefault("model", []).append(
                "Extend needs the built-in model or a SkyReels-V2 model; "
                f"{_mid(who)} can't continue a clip."
            )
            return
        if "num_frames" not in errors:
            n = spec.num_frames
            if not rule.min <= n <= rule.max:
                errors["num_frames"] = [
                    f"{who} continues a clip by {rule.min} to {rule.max} frames: "
                    f"{n} frames is too {'many' if n > rule.max else 'few'}."
                ]
            elif not rule.allows(n):
                errors["num_frames"] = [
                    f"{who} continues a clip by {rule.pattern()} frames "
                    f"({_some(rule.counts())}): {n} frames is not one of them; "
                    f"{rule.nearest(n)} is the nearest."
                ]
        if "video" not in errors and not getattr(spec, "video_path", ""):
            errors["video"] = ["Extend continues a clip: name the clip to continue."]
        if "image" not in errors and getattr(spec, "image_path", ""):
            errors["image"] = [
                "Extend continues a clip from its last frames; it takes no image."
            ]

    def _check_inputs(self, spec: Any, errors: Errors) -> None:
        if getattr(spec, "task", "") == specs.EXTEND:
            return  # the clip to continue was checked with the extension
        who = self.subject
        if self.video:
            does = f"restyles a video ({TASK_NAMES['v2v']})"
        elif self.image:
            does = f"starts from an image ({TASK_NAMES['i2v']})"
        else:
            does = f"makes video from text only ({TASK_NAMES['t2v']})"
        image = getattr(spec, "image_path", "")
        video = getattr(spec, "video_path", "")
        if "image" not in errors:
            if image and not self.image:
                errors["image"] = [
                    f"{who} {does}: it does not take an image; pick an "
                    "image-to-video model or remove the image."
                ]
            elif self.image and not image:
                errors["image"] = [f"{who} {does}: add one."]
        if "video" not in errors:
            if video and not self.video:
                errors["video"] = [
                    f"{who} {does}: it does not take a video; pick a "
                    "video-to-video model or remove the video."
                ]
            elif self.video and not video:
                errors["video"] = [f"{who} {does}: add one."]


def _mid(name: str) -> str:
    """A name as it reads inside a sentence: "the built-in model", "Wan"."""
    return name[:1].lower() + name[1:] if name.startswith("The ") else name


def _some(counts: list[int]) -> str:
    """A few counts for a sentence: "9, 13, 17 … 45"."""
    if len(counts) <= 4:
        return ", ".join(map(str, counts))
    return f"{', '.join(map(str, counts[:3]))} … {counts[-1]}"


def check_shared(spec: Any) -> Errors:
    """What every model asks of a spec: text where text belongs, whole
    numbers where counts belong, a seed in range, a prompt within length.

    Ranges and rules of the numbers are each model's; see
    :meth:`Capabilities.check`.
    """
    errors: Errors = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not isinstance(spec.prompt, str) or not spec.prompt.strip():
        add("prompt", "Describe the clip: the prompt is empty.")
    elif len(spec.prompt) > specs.MAX_PROMPT_CHARS:
        add("prompt", f"Keep the prompt under {specs.MAX_PROMPT_CHARS} characters.")
    if not isinstance(spec.negative_prompt, str):
        add("negative_prompt", "The negative prompt must be text.")
    elif len(spec.negative_prompt) > specs.MAX_PROMPT_CHARS:
        add(
            "negative_prompt",
            f"Keep the negative prompt under {specs.MAX_PROMPT_CHARS} characters.",
        )
    for field in ("num_frames", "fps", "width", "height", "num_inference_steps",
                  "seed"):  # fmt: skip
        value = getattr(spec, field)
        if isinstance(value, bool) or not isinstance(value, int):
            add(field, f"The {_WHAT[field]} must be a whole number.")
    for field in ("guidance_scale", "strength"):
        value = getattr(spec, field)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or value != value:  # NaN is no number either
            add(field, f"The {_WHAT[field]} must be a number.")
    if "seed" not in errors and not 0 <= spec.seed <= specs.MAX_SEED:
        add("seed", f"The seed must be between 0 and {specs.MAX_SEED}.")
    for field in ("image_path", "video_path"):
        if not isinstance(getattr(spec, field), str):
            add(field.removesuffix("_path"), f"The {field} must be text.")
    task = getattr(spec, "task", "")
    if task not in specs.TASKS:
        add("task", f"Unknown task {str(task)[:40]!r}; a clip may only be extended.")
    return errors


def shared(family: str, label: str, task: str = "t2v") -> Capabilities:
    """The bounds every model shares, for a model that declares no rules of
    its own: any frame count, even sizes, the spec's own defaults."""
    return Capabilities(
        family=family,
        label=label,
        tasks=(task,),
        frames=FrameRule(specs.MIN_FRAMES, specs.MAX_FRAMES, default=16),
        fps=Range(specs.MIN_FPS, specs.MAX_FPS, 8),
        size=SizeRule(2, specs.MIN_SIZE, specs.MAX_SIZE, 256, 256),
        steps=Range(specs.MIN_STEPS, specs.MAX_STEPS, 20),
        guidance=Range(specs.MIN_GUIDANCE, specs.MAX_GUIDANCE, 5.0),
        **inputs_for(task),
    )


def inputs_for(task: str) -> dict[str, Any]:
    """The inputs a task takes, as :class:`Capabilities` keyword arguments:
    a start image for image→video, a source video and a strength for
    video→video, nothing beyond the prompt for text→video."""
    if task not in TASK_NAMES:
        raise ValueError(f"Unknown task {task!r}; use one of {', '.join(TASK_NAMES)}.")
    return {
        "image": task == "i2v",
        "video": task == "v2v",
        "strength": (
            Range(specs.MIN_STRENGTH, specs.MAX_STRENGTH, 0.7)
            if task == "v2v"
            else None
        ),
    }


def stepped_frames(step: int, default: int, most: int = specs.MAX_FRAMES) -> FrameRule:
    """Frame counts of step·k+1 within the shared bounds, for a VAE that
    compresses time ``step`` times and keeps the first frame apart."""
    low = specs.MIN_FRAMES + (1 - specs.MIN_FRAMES) % step
    high = most - (most - 1) % step
    return FrameRule(low, high, step=step, offset=1, default=default)


def family_capabilities(
    *,
    family: str,
    label: str,
    tasks: tuple[str, ...],
    task: str,
    frames: FrameRule,
    fps: int,
    size_multiple: int,
    native_size: tuple[int, int],
    steps: int,
    guidance: float,
    takes_negative_prompt: bool = True,
    extend: FrameRule | None = None,
) -> Capabilities:
    """A real model family's capabilities for one task: its own frame rule,
    size multiple and defaults within the bounds every model shares."""
    if task not in tasks:
        raise ValueError(f"{label} models do {', '.join(tasks)}; not {task!r}.")
    return Capabilities(
        family=family,
        label=label,
        tasks=(task,),
        frames=frames,
        fps=Range(specs.MIN_FPS, specs.MAX_FPS, fps),
        size=SizeRule(size_multiple, specs.MIN_SIZE, specs.MAX_SIZE, *native_size),
        steps=Range(specs.MIN_STEPS, specs.MAX_STEPS, steps),
        guidance=Range(specs.MIN_GUIDANCE, specs.MAX_GUIDANCE, guidance),
        takes_negative_prompt=takes_negative_prompt,
        extend=extend,
        **inputs_for(task),
    )
