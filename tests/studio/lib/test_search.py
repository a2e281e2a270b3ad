"""One search behaviour: the Clips page and the library read words alike."""

from __future__ import annotations

import pytest
from django.urls import reverse

from studio.generations.models import Generation
from studio.lib.search import stem, terms
from studio.prompts.models import Prompt
from studio.prompts.search import prompt_search
from studio.prompts.services import prompt_create


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("cats", "cat"),
        ("boxes", "box"),
        ("puppies", "puppy"),
        ("glasses", "glass"),
        ("bus", "bus"),
        ("cat", "cat"),
        ("is", "is"),
    ],
)
def test_a_plural_loses_its_ending(word, expected):
    assert stem(word) == expected


def test_terms_are_lower_case_words_and_bounded():
    assert terms("Red, CATS!") == ["red", "cats"]
    assert len(terms(" ".join(["word"] * 40))) == 12


def clip(owner, prompt: str) -> Generation:
    return Generation.objects.create(
        owner=owner,
        prompt=prompt,
        seed=1,
        settings={"prompt": prompt, "model": "builtin", "num_frames": 16, "fps": 8},
        status="succeeded",
    )


def clips_found(client, query: str) -> set[str]:
    html = client.get(reverse("generations:list"), {"q": query}).content.decode()
    return {g.prompt for g in Generation.objects.all() if f"clip-{g.pk}" in html}


@pytest.mark.django_db
def test_clips_and_library_find_the_same_prompts_for_a_plural(alice, alice_client):
    texts = [
        "a cat sleeping on a red sofa",
        "two cats chasing a ball",
        "a concatenated sign, static shot",
        "a dog in the rain",
    ]
    for text in texts:
        clip(alice, text)
        prompt_create(owner=alice, title=text[:20], text=text)

    for query in ("cat", "cats", "CATS"):
        in_library = {
            p.text
            for p in prompt_search(Prompt.objects.filter(owner=alice), query=query)
        }
        in_clips = clips_found(alice_client, query)
        assert in_clips == in_library == set(texts[:2]), query


@pytest.mark.django_db
def test_clip_search_matches_the_start_of_words_only(alice, alice_client):
    clip(alice, "a bouncing ball")
    clip(alice, "a ball that bounces")
    clip(alice, "a rebound")
    assert clips_found(alice_client, "bounc") == {
        "a bouncing ball",
        "a ball that bounces",
    }
    assert clips_found(alice_client, "balls") == {
        "a bouncing ball",
        "a ball that bounces",
    }
    assert clips_found(alice_client, "puppies") == set()
