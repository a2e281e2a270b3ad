"""A scene description or short script → a proposed shot list.

Plain rules, in order:
- Beats: a blank line, a ``NAME:`` dialogue line, or a sentence ends one. A
  sentence of fewer than ``MIN_WORDS`` words joins the beat before it.
- Type: the first beat is the establishing shot; dialogue is a close-up;
  a feeling shown is a reaction; a small object handled is an insert; a
  landscape or crowd is wide; anything else is medium.
- Characters: ``@name`` references, ``NAME:`` speakers, and capitalised words
  that are not the first word of a sentence (nor a common capitalised word).
- Caption: the spoken line when there is one, else the beat itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_SCRIPT_CHARS = 10_000
MAX_SHOTS = 40
MIN_WORDS = 4
CAPTION_CHARS = 160

SPEAKER = re.compile(r"^\s*([A-Z][A-Za-z'-]{1,30})\s*:\s*(.+)$")
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+")
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
    "button", "note", "photo", "photograph", "watch", "clock", "cup", "glass",
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
DURATIONS = {
    "establishing": 3.0,
    "wide": 3.0,
    "medium": 2.0,
    "close-up": 2.0,
    "reaction": 1.0,
    "insert": 1.0,
}


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
                if short and out and out[-1][0] and out[-1][1] is None:
                    out[-1] = (f"{out[-1][0]} {sentence}", None)
                else:
                    out.append((sentence, None))
        # A paragraph break always ends a beat, so nothing merges across it.
        out.append(("", None))
    return [(t, s) for t, s in out if t]


def shot_type(text: str, *, first: bool, spoken: bool) -> str:
    """The suggested shot type for one beat."""
    words = {w.lower() for w in WORD.findall(text)}
    if first:
        return "establishing"
    if spoken:
        return "close-up"
    if words & FEELING:
        return "reaction"
    if words & DETAIL:
        return "insert"
    if words & VISTA:
        return "wide"
    return "medium"


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


def propose_shots(text: str) -> list[ProposedShot]:
    """Propose one shot per beat of ``text`` (at most ``MAX_SHOTS``).

    Raises ValueError for an empty or over-long text.
    """
    if not text or not text.strip():
        raise ValueError("Paste a scene or a short script first.")
    if len(text) > MAX_SCRIPT_CHARS:
        raise ValueError(f"Keep the script under {MAX_SCRIPT_CHARS:,} characters.")
    found = beats(text)[:MAX_SHOTS]
    # A name seen mid-sentence anywhere is a name at a sentence's start too.
    known = {name for beat, speaker in found for name in characters(beat, speaker)}
    shots: list[ProposedShot] = []
    for n, (beat, speaker) in enumerate(found):
        spoken = _spoken(beat, speaker)
        is_dialogue = bool(spoken) or speaker is not None or _is_speech(beat)
        kind = shot_type(beat, first=n == 0, spoken=is_dialogue)
        names = characters(beat, speaker)
        starts = [WORD.match(s.lstrip(" \"'“(")) for s in SENTENCE_END.split(beat)]
        for match in starts:
            if match and match.group(0) in known and match.group(0) not in names:
                names.append(match.group(0))
        if speaker:
            prompt = f"{speaker} speaking: {QUOTED.sub('', beat).strip() or beat}"
        else:
            prompt = QUOTED.sub("", beat).strip(" ,") or beat
        caption = spoken or beat
        shots.append(
            ProposedShot(
                kind=kind,
                prompt=" ".join(prompt.split())[:500],
                caption=caption[:CAPTION_CHARS],
                duration=DURATIONS[kind],
                characters=names,
                source=beat,
            )
        )
    return shots
