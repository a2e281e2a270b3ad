"""What the built-in model reads in a prompt, in the world's own terms.

The denoiser's prompt reader (see ``model.PromptReader``) already turns the
MiniLM states into probabilities over the world's terms; this module runs it
on its own, so a prompt can be read before anything is generated, and lists
the prompt's words the world has no word for.
"""

from __future__ import annotations

import json
import re
from functools import cache

import torch
from safetensors import safe_open

from .model import PromptReader
from .pipeline import WEIGHTS_DIR, text_encoder_for
from .text import MAX_TOKENS, TEXT_DIM
from .world import (
    ATTRIBUTES,
    CAMERA_PREFIX,
    CAMERA_SUFFIX,
    COLOUR_WORDS,
    DIRECTIONS,
    MOTION_WORDS,
    OBJECT_WORDS,
    SCENE_WORDS,
)

# Words that carry no content of their own, and the filler, shot and pacing
# words of the world's captions that the model takes in its stride.
STOP_WORDS = frozenset(
    """a an the of and or with without in on at to from into onto over under
    above below across through toward towards along around by for as is are
    be being it its it's this that these those there here then than while
    very really just some one two its their his her them they i me my you your
    please make show create generate render video clip shot cinematic footage
    scene frame camera slow slowly fast quickly gentle gently smooth smoothly
    steady wide close close-up closeup view shown keeps keep way
    """.split()
)
SUGGESTION = "a red ball bouncing to the right over a grass field, slow push-in"
# Below this share of known content words, the prompt is mostly outside the
# world and the summary says so instead of listing a reading.
MOSTLY_KNOWN = 0.5
_WORD = re.compile(r"[a-z]+(?:[-'][a-z]+)*")
_DISPLAY = {
    "motion": {"still": "still", "bounce": "bouncing", "grow": "growing",
               "shrink": "shrinking"},
    "camera": {"static": "static camera", "pan-left": "pan left",
               "pan-right": "pan right"},
    "scene": {"valley": "mountain valley at sunrise",
              "skyline": "city skyline at dusk"},
}  # fmt: skip


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@cache
def world_vocabulary() -> frozenset[str]:
    """Every word the world's captions use, with its attribute values."""
    phrases: list[str] = []
    for table in (
        COLOUR_WORDS,
        OBJECT_WORDS,
        SCENE_WORDS,
        MOTION_WORDS,
        CAMERA_PREFIX,
        CAMERA_SUFFIX,
    ):
        for options in table.values():
            phrases.extend(options)
    for values in ATTRIBUTES.values():
        phrases.extend(values)
    phrases.extend(DIRECTIONS)
    words: set[str] = set()
    for phrase in phrases:
        for word in _words(phrase):
            words.add(word)
            words.update(word.split("-"))
    return frozenset(words)


def _known(word: str, vocabulary: frozenset[str]) -> bool:
    if word in STOP_WORDS or word in vocabulary:
        return True
    # Plurals and other inflections of a world word ("balls", "bounces").
    for suffix in ("es", "s", "ing", "ed", "d"):
        if word.endswith(suffix) and word[: -len(suffix)] in vocabulary:
            return True
    if "-" in word:
        return all(_known(part, vocabulary) for part in word.split("-"))
    return False


@cache
def studio_words() -> dict[str, str]:
    """Words the model does not draw but the studio uses all the same: the
    music's mood and pace (the Sound panel reads them) and the names of the
    shipped looks (a style grades the picture). Each maps to what it does."""
    from generation.looks import SHIPPED
    from generation.sound.music import FAST_WORDS, PROFILES, SLOW_WORDS

    uses: dict[str, str] = {}
    for name in SHIPPED:
        for word in _words(name):
            uses.setdefault(word, f"names the “{name}” look: choose that style")
    for mood, profile in PROFILES.items():
        for word in profile.words:
            uses.setdefault(word, f"sets the music's mood ({mood}) when sound is on")
    for word in (*SLOW_WORDS, *FAST_WORDS):
        uses.setdefault(word, "sets the music's pace when sound is on")
    return uses


def unknown_words(text: str) -> tuple[list[str], int]:
    """The prompt's content words the world has no word for (and the studio
    has no other use for, see :func:`studio_words`), in order and once each,
    and how many content words the prompt has in all, those others not
    counted."""
    vocabulary = world_vocabulary()
    elsewhere = studio_words()
    content = [
        w
        for w in _words(text)
        if w not in STOP_WORDS and (w not in elsewhere or _known(w, vocabulary))
    ]
    unknown = [w for w in content if not _known(w, vocabulary)]
    return list(dict.fromkeys(unknown)), len(content)


def used_elsewhere(text: str) -> list[dict[str, str]]:
    """The prompt's words the model does not draw but the studio uses, once
    each: ``{"word", "use"}``."""
    vocabulary = world_vocabulary()
    elsewhere = studio_words()
    words = [
        w
        for w in dict.fromkeys(_words(text))
        if w in elsewhere and w not in STOP_WORDS and not _known(w, vocabulary)
    ]
    return [{"word": w, "use": elsewhere[w]} for w in words]


class ReaderOnly:
    """The denoiser's prompt reader alone, loaded from the shipped weights."""

    def __init__(self, weights_dir=WEIGHTS_DIR) -> None:
        folder = weights_dir / "transformer"
        config = json.loads((folder / "config.json").read_text())
        groups = tuple(config["attribute_groups"])
        if not groups:
            raise ValueError(f"the model in {weights_dir} has no prompt reader")
        self.device = torch.device("cpu")
        self.reader = PromptReader(config.get("text_dim", TEXT_DIM), groups)
        state = {}
        path = folder / "diffusion_pytorch_model.safetensors"
        with safe_open(str(path), framework="pt") as f:
            for key in f.keys():
                if key.startswith("reader."):
                    state[key.removeprefix("reader.")] = f.get_tensor(key).float()
        self.reader.load_state_dict(state)
        self.reader.eval()

    @torch.no_grad()
    def probabilities(self, text: str) -> list[torch.Tensor]:
        """Per attribute, the probabilities over "not stated" and its terms."""
        encoder = text_encoder_for(self.device)
        # Unpadded: MiniLM and the reader both mask padding, so the reading
        # is the same as in generation at a third of the tokens.
        tokens = encoder.tokenizer(
            [text], truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )
        states = encoder.model(**tokens).last_hidden_state.float()
        pooled = torch.nn.functional.normalize(states.mean(1), dim=-1)
        logits = self.reader(states, pooled, tokens["attention_mask"])
        return [g[0].softmax(-1) for g in logits]


@cache
def builtin_reader() -> ReaderOnly:
    """The shipped model's reader, loaded once per process."""
    return ReaderOnly()


def term_label(attribute: str, value: str) -> str:
    """How a term reads to a creator: "moving right", "static camera"."""
    shown = _DISPLAY.get(attribute, {}).get(value)
    if shown:
        return shown
    if attribute == "motion":
        return "moving " + value.replace("-", " ")
    return value


def mostly_outside(unknown: list[str], content: int) -> bool:
    """Whether too few of a prompt's ``content`` words are the world's own
    for its reading to stand for the prompt."""
    return content > 0 and len(unknown) > content * (1 - MOSTLY_KNOWN)


def _summary(terms: dict[str, dict], unknown: list[str], content: int) -> str:
    if content == 0:
        return "Type a prompt to see what the built-in model will draw."
    if mostly_outside(unknown, content):
        missing = ", ".join(unknown[:6])
        return (
            f"Most of this prompt is outside this model's world ({missing} "
            "not in it): it draws simple coloured shapes, birds and cars moving "
            "over a few skies, fields and seas, a mountain valley and a city "
            f"skyline. Try “{SUGGESTION}”."
        )
    main = [
        term_label(k, terms[k]["value"])
        for k in ("colour", "object", "motion", "scene", "camera")
        if k in terms
    ]
    second = " ".join(terms[k]["value"] for k in ("colour2", "object2") if k in terms)
    if second:
        side = terms.get("side2", {}).get("value")
        main.append(f"and a {second}" + (f" on the {side}" if side else ""))
    return "Will draw: " + " · ".join(main)


def read_prompt(text: str, reader: ReaderOnly | None = None) -> dict:
    """What the built-in model reads in ``text``.

    ``terms`` maps each attribute the prompt states to its most likely term
    and that term's probability; ``unknown`` lists the words the world has
    no word for; ``elsewhere`` the words it does not draw that the studio
    uses another way (the music's mood, a look's name); ``summary`` says it
    in one sentence.
    """
    reader = reader or builtin_reader()
    terms: dict[str, dict] = {}
    if text.strip():
        probs = reader.probabilities(text)
        for (attribute, values), p in zip(ATTRIBUTES.items(), probs, strict=True):
            top = int(p.argmax())
            if top:
                terms[attribute] = {
                    "value": values[top - 1],
                    "confidence": round(float(p[top]), 3),
                }
    unknown, content = unknown_words(text)
    return {
        "terms": terms,
        "unknown": unknown,
        "elsewhere": used_elsewhere(text),
        "summary": _summary(terms, unknown, content),
    }
