"""Words the editor offers and the coach looks for.

Plain data: the helpers' menus, the built-in named lists, and the small
vocabularies the coach's rules match against.
"""

from __future__ import annotations

import re

# Names of characters, places and lists: what may follow `@` or `$`.
NAME_PATTERN = r"[A-Za-z][A-Za-z0-9_]{0,39}"
NAME_RE = re.compile(rf"^{NAME_PATTERN}$")

CAMERA_MOVES = [
    "static wide shot",
    "slow push-in",
    "slow pull-out",
    "pan left",
    "pan right",
    "tilt up",
    "tilt down",
    "drone rise",
    "orbit around the subject",
    "handheld tracking shot",
    "dolly zoom",
    "crane down",
    "close-up, locked-off",
]

PACING = [
    "slow and measured",
    "steady pace",
    "brisk pace",
    "frenetic, quick motion",
    "slow motion",
    "time-lapse",
]

# Named lists every creator has; their own lists of the same name win.
BUILTIN_LISTS: dict[str, list[str]] = {
    "colour": ["red", "orange", "yellow", "green", "blue", "purple"],
    "color": ["red", "orange", "yellow", "green", "blue", "purple"],
    "camera": ["static wide shot", "slow push-in", "pan left", "pan right"],
    "time": ["at dawn", "at noon", "at sunset", "at night"],
    "weather": ["in light rain", "in fog", "under a clear sky", "in falling snow"],
}

CAMERA_WORDS = {
    "camera", "pan", "pans", "panning", "tilt", "tilts", "tilting", "dolly",
    "zoom", "zooms", "zooming", "push-in", "pull-out", "push", "pull", "tracking",
    "track", "handheld", "drone", "aerial", "orbit", "orbits", "orbiting", "crane",
    "static", "locked-off", "close-up", "closeup", "wide", "pov", "overhead",
    "shot", "angle", "steadicam", "gimbal", "follow", "follows",
}  # fmt: skip

# Stems of verbs that put something in motion; matched by prefix.
MOTION_STEMS = (
    "mov", "walk", "run", "jump", "bounc", "drift", "fly", "flie", "flew", "fall",
    "rise", "rising", "rose", "spin", "rotat", "roll", "swim", "danc", "turn",
    "flow", "sway", "float", "slid", "glid", "grow", "shrink", "chas", "rid",
    "driv", "wav", "blow", "crash", "splash", "climb", "sprint", "approach",
    "enter", "leav", "exit", "pour", "burn", "melt", "explod", "open", "clos",
    "sit", "stand", "look", "smil", "laugh", "cry", "sing", "play", "throw",
    "catch", "kick", "march", "stroll", "wander", "dash", "rac", "hover",
    "flutter", "ripple", "crawl", "leap", "hop", "skat", "surf", "sail", "tumbl",
    "twirl", "shak", "nod", "wander", "emerg", "disappear", "appear", "travel",
    "cross", "circl", "descend", "ascend", "sink", "lift", "rais", "wander",
    "swirl", "crumbl", "break", "shatter", "bloom", "unfold", "eat", "drink",
    "sweep", "stream", "fad", "drip", "trot", "gallop", "blink", "wobbl",
    "cook", "writ", "read", "paint", "typ", "talk", "speak", "hug", "kiss",
    "fight", "punch", "push", "pull", "drop", "swing", "flicker", "glow", "pulse",
    "left", "right", "upward", "downward", "toward", "across", "away",
)  # fmt: skip

ACTION_STEMS = tuple(
    stem
    for stem in MOTION_STEMS
    if stem not in ("left", "right", "upward", "downward", "toward", "across", "away")
)

COLOURS = {
    "red", "orange", "yellow", "green", "blue", "purple", "violet", "pink",
    "black", "white", "grey", "gray", "brown", "gold", "golden", "silver",
    "blonde", "blond", "auburn", "teal", "navy", "beige", "crimson",
}  # fmt: skip

TEXT_WORDS = (
    "text", "logo", "logos", "lettering", "caption", "captions", "subtitle",
    "subtitles", "sign that reads", "sign saying", "words", "typography",
    "title card", "headline", "brand name", "written", "says", "reads",
)  # fmt: skip

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "sixty": 60, "an": 1,
}  # fmt: skip
