"""A scene description or short script → a proposed shot list.

Plain rules, in order:
- Beats: a blank line, a ``NAME:`` dialogue line, or a sentence ends one. A
  sentence of fewer than ``MIN_WORDS`` words joins the beat before it.
- Type: the first beat is the establishing shot; dialogue is a close-up;
  a beat right after dialogue, or a feeling shown, is a reaction; a face or
  eyes is a close-up; a small object handled is an insert (the detail's
  close-up); a landscape or crowd is wide; anything else is medium.
- Characters: ``@name`` references, ``NAME:`` speakers, and capitalised words
  that are not the first word of a sentence (nor a common capitalised word).
- Duration: longer for more action: 2 s, plus 0.12 s a word and 0.5 s an
  action verb, within 2–6 s and what the model can make, in whole frames.
- Context: a later beat's "he", "she", "it" or "they" is replaced in its
  prompt by the subject it most likely means (the last named character, or
  the last "the X" noun phrase), and the place the scene opens in ("in a
  lighthouse kitchen") is carried into every later prompt.
- Prompt: the shot type's framing, then the beat with its context.
- Caption: the spoken line when there is one, else the beat's first clause,
  at most ``CAPTION_WORDS`` words; always shorter than the prompt.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

MAX_SCRIPT_CHARS = 10_000
MAX_SHOTS = 40
MIN_WORDS = 4
CAPTION_CHARS = 160
CAPTION_WORDS = 8
MIN_SECONDS = 2.0
MAX_SECONDS = 6.0

SPEAKER = re.compile(r"^\s*([A-Z][A-Za-z'-]{1,30})\s*:\s*(.+)$")
# A sentence ends at . ! ? or …, or at a closing quote after a full stop; a
# quoted question or exclamation runs on into its speech tag ("Who?" she asks).
SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.…][\"'”’)]))\s+")
QUOTED = re.compile(r"[\"“]([^\"”]{1,300})[\"”]")
AT_NAME = re.compile(r"(?<![\w@])@([A-Za-z][\w-]{0,39})")
CAPITALISED = re.compile(r"\b([A-Z][a-z]{1,30}(?:-[A-Z][a-z]+)?)\b")
WORD = re.compile(r"[A-Za-z']+")

SPEECH = {
    "says", "said", "asks", "asked", "whispers", "whispered", "shouts",
    "shouted", "replies", "replied", "calls", "called", "tells", "told",
    "cries out", "murmurs", "answers",
}  # fmt: skip
FEELING = {
    "cries", "crying", "tears", "smiles", "smiling", "laughs", "laughing",
    "gasps", "frowns", "stares", "shocked", "surprised", "afraid", "scared",
    "fear", "angry", "sighs", "blushes", "nods", "flinches", "grins", "weeps",
    "terrified", "relieved", "stunned", "freezes",
}  # fmt: skip
DETAIL = {
    "hand", "hands", "key", "keys", "letter", "phone", "screen", "ring",
    "button", "note", "photo", "photograph", "clock", "cup", "glass",
    "map", "envelope", "coin", "knife", "book", "finger", "fingers",
}  # fmt: skip
VISTA = {
    "valley", "mountain", "mountains", "city", "skyline", "horizon", "sky",
    "field", "fields", "sea", "ocean", "desert", "forest", "crowd", "street",
    "landscape", "canyon", "plain", "lake", "river", "coast", "hills",
}  # fmt: skip
NOT_NAMES = {
    "The", "A", "An", "And", "But", "Or", "He", "She", "They", "It", "We",
    "I", "You", "His", "Her", "Their", "Its", "Then", "Now", "When", "While",
    "As", "In", "On", "At", "Of", "To", "With", "From", "By", "For", "After",
    "Before", "Suddenly", "Meanwhile", "Later", "There", "This", "That",
    "These", "Those", "Slowly", "Outside", "Inside", "Above", "Below",
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
    "Sunday", "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December", "God", "Yes",
    "No", "Oh", "Hey", "Okay", "OK", "Close", "Wide", "Cut", "Fade", "Night",
    "Day", "Morning", "Evening", "Everyone", "Nobody", "Somebody",
}  # fmt: skip
FACE = {
    "face", "eyes", "eye", "lips", "mouth", "tear", "gaze", "expression",
}  # fmt: skip
ACTION = {
    "walks", "runs", "climbs", "opens", "closes", "turns", "looks", "picks",
    "holds", "takes", "sits", "stands", "enters", "leaves", "falls", "jumps",
    "reaches", "pulls", "pushes", "throws", "drops", "grabs", "steps",
    "moves", "rises", "drifts", "flies", "waves", "reads", "writes", "lifts",
    "carries", "watches", "finds", "hides", "kneels", "lights", "pours",
    "circles", "crosses", "races", "rolls", "spins", "slams", "knocks",
    "breaks", "catches", "chases", "dives", "swims", "dances", "hugs",
    "kisses", "fights", "follows", "points", "shakes", "slips", "wakes",
    "unfolds", "folds", "touches", "glances", "leans", "crawls", "burns",
    "flickers", "crashes", "sways", "bursts", "tears", "cuts", "builds",
}  # fmt: skip
NOT_NOUNS = {
    "and", "or", "but", "with", "in", "on", "at", "of", "to", "from", "by",
    "for", "as", "over", "under", "above", "below", "into", "onto", "through",
    "across", "behind", "near", "while", "then", "is", "are", "was", "were",
    "that", "which", "who", "who's", "up", "down", "out", "off", "away",
}  # fmt: skip
PEOPLE = {
    "man", "woman", "boy", "girl", "child", "kid", "keeper", "stranger",
    "driver", "soldier", "doctor", "nurse", "teacher", "farmer", "fisherman",
    "officer", "detective", "mother", "father", "sister", "brother", "king",
    "queen", "knight", "pilot", "guard", "captain", "friend", "lady",
    "traveller", "traveler", "figure", "baker", "student", "dancer", "singer",
}  # fmt: skip
FRAMING = {
    "establishing": "Establishing wide shot",
    "wide": "Wide shot",
    "medium": "Medium shot",
    "close-up": "Close-up",
    "reaction": "Reaction shot",
    "insert": "Insert close-up",
}
PRONOUN = re.compile(r"\b(he|she|it|they)\b", re.IGNORECASE)
NOUN_PHRASE = re.compile(
    r"\b(?:the|a|an|two|three|four|five|some|several|many)\s+"
    r"([a-z][a-z'-]*(?:\s+[a-z][a-z'-]*){0,2})",
    re.IGNORECASE,
)
PLACE = re.compile(
    r"\b(in|inside|at|on|outside|across|along|above|over|by|near)\s+(?:a|an|the)\s+"
    r"([a-z][a-z'-]*(?:\s+[a-z][a-z'-]*){0,2})",
    re.IGNORECASE,
)


@dataclass
class ProposedShot:
    kind: str
    prompt: str
    caption: str
    duration: float
    characters: list[str] = field(default_factory=list)
    source: str = ""


def beats(text: str) -> list[tuple[str, str | None]]:
    """Split text into beats: (text, speaker or None)."""
    out: list[tuple[str, str | None]] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        for line in paragraph.splitlines():
            line = " ".join(line.split())
            if not line:
                continue
            speaker = SPEAKER.match(line)
            if speaker and speaker.group(1) not in NOT_NAMES:
                out.append((speaker.group(2).strip(), speaker.group(1)))
                continue
            for sentence in SENTENCE_END.split(line):
                sentence = sentence.strip()
                if not sentence:
                    continue
                short = len(WORD.findall(sentence)) < MIN_WORDS
                speech = bool(QUOTED.search(sentence))
                if short and not speech and out and out[-1][0] and out[-1][1] is None:
                    out[-1] = (f"{out[-1][0]} {sentence}", None)
                else:
                    out.append((sentence, None))
        # A paragraph break always ends a beat, so nothing merges across it.
        out.append(("", None))
    return [(t, s) for t, s in out if t]


def shot_type(
    text: str, *, first: bool, spoken: bool, after_dialogue: bool = False
) -> str:
    """The suggested shot type for one beat."""
    words = {w.lower() for w in WORD.findall(text)}
    if first:
        return "establishing"
    if spoken:
        return "close-up"
    if after_dialogue or words & FEELING:
        return "reaction"
    if words & FACE:
        return "close-up"
    if words & DETAIL:
        return "insert"
    if words & VISTA:
        return "wide"
    return "medium"


def duration(
    text: str, *, low: float = MIN_SECONDS, high: float = MAX_SECONDS, fps: int = 0
) -> float:
    """Seconds for a beat: more words and more action verbs, a longer shot.

    Bounded by ``low``–``high`` and, with ``fps``, a whole number of frames."""
    words = [w.lower() for w in WORD.findall(text)]
    verbs = sum(1 for w in words if w in ACTION or w in FEELING or w in SPEECH)
    seconds = MIN_SECONDS + 0.12 * len(words) + 0.5 * verbs
    seconds = round(seconds * 2) / 2  # half seconds read well on a board
    seconds = min(max(seconds, low), high)
    if fps > 0:
        frames = min(max(round(seconds * fps), math.ceil(low * fps)), int(high * fps))
        return frames / fps
    return seconds


def noun_phrases(text: str) -> list[str]:
    """ "the X" noun phrases: an article and up to three words, stopping at
    a verb, a preposition or a conjunction; each as "the X"."""
    found = []
    for match in NOUN_PHRASE.finditer(text):
        kept = []
        for word in match.group(1).split():
            lower = word.lower()
            if lower in NOT_NOUNS or lower in ACTION or lower in FEELING:
                break
            if lower in SPEECH or lower.endswith(("ly", "ing", "ed")):
                break
            kept.append(lower)
            if lower.endswith("s") and not lower.endswith("ss"):
                break  # a plural ends its phrase: "dogs race"
        if kept:
            found.append("the " + " ".join(kept))
    return found


def scene_place(text: str) -> str:
    """Where a beat happens, as "in the X", or ""."""
    match = PLACE.search(text)
    if not match:
        return ""
    place = noun_phrases("the " + match.group(2))
    preposition = match.group(1).lower()
    preposition = {"across": "on", "along": "on", "over": "above"}.get(
        preposition, preposition
    )
    return f"{preposition} {place[0]}" if place else ""


@dataclass
class Context:
    """What earlier beats introduced: who and what a pronoun may mean, and
    where the scene is."""

    person: str = ""
    thing: str = ""
    group: str = ""
    place: str = ""
    learned: bool = False

    def learn(self, text: str, names: list[str]) -> None:
        phrases = noun_phrases(text)
        people = [p for p in phrases if p.split()[-1] in PEOPLE]
        if names:
            self.person = names[0]
            if len(names) > 1:
                self.group = f"{names[0]} and {names[1]}"
        elif people:
            self.person = people[0]
        things = [p for p in phrases if p not in people]
        if things:
            # The beat's subject, else the last thing it names.
            self.thing = things[0] if _opens(text, things[0]) else things[-1]
            plural = [p for p in things if p.endswith("s") and not p.endswith("ss")]
            if plural and len(names) < 2:
                self.group = plural[-1]
        if not self.learned:
            # The scene is where its first beat is.
            self.place = scene_place(text)
        self.learned = True

    def resolve(self, text: str) -> tuple[str, str]:
        """``text`` with its first pronoun replaced, and the name used."""
        match = PRONOUN.search(text)
        if not match:
            return text, ""
        word = match.group(1).lower()
        meant = {"he": self.person, "she": self.person, "it": self.thing}.get(
            word, self.group or self.person
        )
        if not meant:
            return text, ""
        at_start = not text[: match.start()].strip(" \"'“(")
        shown = meant[0].upper() + meant[1:] if at_start else meant
        return text[: match.start()] + shown + text[match.end() :], meant


def _opens(text: str, phrase: str) -> bool:
    """Whether ``text`` starts with the noun phrase ("the X")."""
    words = text.lstrip(" \"'“(").lower().split()
    if words and words[0] in {"the", "a", "an"}:
        words = words[1:]
    return " ".join(words).startswith(phrase.removeprefix("the "))


def short_caption(text: str) -> str:
    """The beat's first clause, at most ``CAPTION_WORDS`` words."""
    clause = re.split(r"[,;:—–]|\s-\s|\b(?:and then|while|as)\b", text, maxsplit=1)[0]
    words = clause.split()
    if len(words) > CAPTION_WORDS:
        return " ".join(words[:CAPTION_WORDS]).rstrip(" ,.") + "…"
    clause = clause.strip()
    return clause.rstrip(" ,") if clause else text


def characters(text: str, speaker: str | None = None) -> list[str]:
    """Names found in a beat: @references, the speaker, capitalised names."""
    found: list[str] = []

    def add(name: str) -> None:
        if name.lower() not in {f.lower() for f in found}:
            found.append(name)

    if speaker:
        add(speaker)
    for match in AT_NAME.finditer(text):
        add(match.group(1))
    for sentence in SENTENCE_END.split(text):
        for match in CAPITALISED.finditer(sentence):
            name = match.group(1)
            at_start = not sentence[: match.start()].strip(" \"'“(")
            preceded_by_at = sentence[max(0, match.start() - 1)] == "@"
            if at_start or preceded_by_at or name in NOT_NAMES:
                continue
            add(name)
    return found


def _spoken(text: str, speaker: str | None) -> str:
    if speaker:
        return text
    quoted = QUOTED.findall(text)
    if quoted:
        return " ".join(q.strip() for q in quoted)
    return ""


def _is_speech(text: str) -> bool:
    lower = text.lower()
    return any(re.search(rf"\b{verb}\b", lower) for verb in SPEECH)


def propose_shots(
    text: str,
    *,
    min_seconds: float = MIN_SECONDS,
    max_seconds: float = MAX_SECONDS,
    fps: int = 0,
) -> list[ProposedShot]:
    """Propose one shot per beat of ``text`` (at most ``MAX_SHOTS``), each
    between ``min_seconds`` and ``max_seconds`` (the model's limits at
    ``fps`` where known) and, with ``fps``, a whole number of frames.

    Raises ValueError for an empty or over-long text.
    """
    if not text or not text.strip():
        raise ValueError("Paste a scene or a short script first.")
    if len(text) > MAX_SCRIPT_CHARS:
        raise ValueError(f"Keep the script under {MAX_SCRIPT_CHARS:,} characters.")
    low = max(MIN_SECONDS, min_seconds)
    high = min(MAX_SECONDS, max_seconds)
    low = min(low, high)
    found = beats(text)[:MAX_SHOTS]
    # A name seen mid-sentence anywhere is a name at a sentence's start too.
    known = {name for beat, speaker in found for name in characters(beat, speaker)}
    context = Context()
    after_dialogue = False
    shots: list[ProposedShot] = []
    for n, (beat, speaker) in enumerate(found):
        spoken = _spoken(beat, speaker)
        is_dialogue = bool(spoken) or speaker is not None or _is_speech(beat)
        kind = shot_type(
            beat, first=n == 0, spoken=is_dialogue, after_dialogue=after_dialogue
        )
        after_dialogue = is_dialogue
        names = characters(beat, speaker)
        starts = [WORD.match(s.lstrip(" \"'“(")) for s in SENTENCE_END.split(beat)]
        for match in starts:
            if match and match.group(0) in known and match.group(0) not in names:
                names.append(match.group(0))
        if speaker:
            action = f"{speaker} speaking: {QUOTED.sub('', beat).strip() or beat}"
        else:
            action = QUOTED.sub("", beat).strip(" ,") or beat
        action = " ".join(action.split())
        if n:
            # The beat as written says where it is, or the scene's place is added.
            said = {w.lower() for w in WORD.findall(action)}
            action, meant = context.resolve(action)
            if meant and meant[0].isupper() and meant not in names:
                names.append(meant)
            if context.place and context.place.split()[-1] not in said:
                action = f"{action.rstrip('.!?…')}, {context.place}"
        context.learn(QUOTED.sub("", beat), names)
        prompt = f"{FRAMING[kind]}: {action}"[:500]
        caption = (spoken or short_caption(beat))[:CAPTION_CHARS]
        if len(caption) >= len(prompt):
            caption = " ".join(caption.split()[: max(1, len(caption.split()) - 1)])
        shots.append(
            ProposedShot(
                kind=kind,
                prompt=prompt,
                caption=caption,
                duration=duration(
                    QUOTED.sub("", beat) or beat, low=low, high=high, fps=fps
                ),
                characters=names,
                source=beat,
            )
        )
    return shots
