from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from studio.generations.models import Generation
from studio.projects.models import Project
from studio.prompts.models import (
    Character,
    DirectorProfile,
    Draft,
    Prompt,
    PromptClip,
    StylePreset,
    WordList,
)
from studio.prompts.services import prompt_create
from studio.prompts.views import LIBRARY_PAGE_SIZE

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(alice) -> Project:
    return Project.objects.create(owner=alice, name="Harbour teaser")


def settings_form(**overrides) -> dict:
    data = {
        "prompt": "a red ball bouncing to the right, slow push-in",
        "negative_prompt": "",
        "model": "builtin",
        "duration": "1",
        "fps": "8",
        "aspect": "1:1",
        "size": "64",
        "steps": "2",
        "guidance": "3",
        "seed": "11",
        "variations": "1",
    }
    return {**data, **overrides}


def test_the_library_lists_searches_and_filters_by_tag(alice_client, noir, meadow):
    page = alice_client.get(reverse("prompts:library"))
    assert page.status_code == 200
    assert "Rainy alley" in page.content.decode()
    found = alice_client.get(reverse("prompts:library"), {"q": "meadow"}).content
    assert b"Meadow" in found and b"Rainy alley" not in found
    tagged = alice_client.get(reverse("prompts:library"), {"tag": "noir"}).content
    assert b"Rainy alley" in tagged and b">Meadow<" not in tagged


def test_an_htmx_search_returns_only_the_results(alice_client, noir):
    response = alice_client.get(
        reverse("prompts:library"), {"q": "alley"}, headers={"HX-Request": "true"}
    )
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="results"')
    assert 'data-count="1"' in content


def test_the_library_pager_keeps_the_search_tags_sort_and_favourites(
    alice, alice_client
):
    for n in range(LIBRARY_PAGE_SIZE + 3):
        prompt_create(
            owner=alice,
            title=f"Harbour {n:02d}",
            text=f"a harbour at dawn, take {n}, slow push-in",
            tags=["harbour"],
            favourite=True,
        )
    prompt_create(owner=alice, title="Not a favourite", text="a harbour at noon")
    filters = {"q": "harbour", "tag": "harbour", "sort": "title", "favourite": "1"}

    first = alice_client.get(reverse("prompts:library"), filters).content.decode()
    second = alice_client.get(
        reverse("prompts:library"), {**filters, "page": "2"}
    ).content.decode()

    def pager_link(html: str) -> dict[str, list[str]]:
        href = re.search(r'<nav class="pager">.*?<a href="\?([^"]+)"', html, re.S)[1]
        return parse_qs(unescape(href))

    assert "Page 1 of 2" in first
    assert pager_link(first) == {**{k: [v] for k, v in filters.items()}, "page": ["2"]}
    assert pager_link(second) == {**{k: [v] for k, v in filters.items()}, "page": ["1"]}
    # The second page holds the last three favourites, not the other prompt.
    assert second.count('prompt-card" data-prompt') == 3
    assert "Not a favourite" not in second


def test_alice_saves_a_prompt_from_the_library_form(alice, alice_client):
    response = alice_client.post(
        reverse("prompts:library"),
        {
            "title": "Fox",
            "text": "a fox trotting through snow, pan left",
            "tags": "winter, Animals",
            "notes": "",
            "rating": "3",
        },
    )
    prompt = Prompt.objects.get(owner=alice)
    assert response.status_code == 302 and response.url == prompt.get_absolute_url()
    assert prompt.tag_names() == ["animals", "winter"]
    assert prompt.rating == 3


def test_the_library_form_points_at_a_duplicate(alice_client, noir):
    response = alice_client.post(
        reverse("prompts:library"),
        {"title": "", "text": noir.text.upper(), "rating": "0"},
    )
    assert response.status_code == 200
    assert "already in your library" in response.content.decode()
    assert noir.get_absolute_url() in response.content.decode()


def test_editing_a_prompt_keeps_a_version_to_compare_and_restore(alice_client, noir):
    url = noir.get_absolute_url()
    alice_client.post(
        url,
        {
            "title": "Rainy alley",
            "text": "a detective running down a rainy alley at night, slow push-in",
            "tags": "noir, city",
            "notes": noir.notes,
            "rating": "4",
        },
    )
    assert noir.versions.count() == 2
    compare = alice_client.get(
        url, {"compare": 1, "with": 2}, headers={"HX-Request": "true"}
    ).content.decode()
    assert '<span class="removed">walking</span>' in compare
    assert '<span class="added">running</span>' in compare

    response = alice_client.post(reverse("prompts:restore", args=[noir.pk, 1]))
    assert response.status_code == 302
    noir.refresh_from_db()
    assert "walking" in noir.text
    assert noir.versions.count() == 3


def test_the_prompt_page_lists_the_clips_made_from_it(alice, alice_client, noir):
    generation = Generation.objects.create(
        owner=alice, prompt=noir.text, seed=1,
        settings={"prompt": noir.text, "seed": 1, "num_frames": 8, "fps": 8,
                  "width": 64, "height": 64},
    )  # fmt: skip
    PromptClip.objects.create(prompt=noir, generation=generation)
    page = alice_client.get(noir.get_absolute_url()).content.decode()
    assert f"clip-{generation.pk}" in page


def test_save_this_prompt_from_a_clip_links_it(alice, alice_client, generation):
    response = alice_client.post(
        reverse("prompts:save_from_generation", args=[generation.pk])
    )
    prompt = Prompt.objects.get(owner=alice)
    assert response.status_code == 302 and response.url == prompt.get_absolute_url()
    assert prompt.text == generation.prompt
    assert PromptClip.objects.get(generation=generation).prompt == prompt
    # Saving it again finds the same prompt rather than a duplicate.
    alice_client.post(reverse("prompts:save_from_generation", args=[generation.pk]))
    assert Prompt.objects.filter(owner=alice).count() == 1


def test_the_clip_player_offers_save_this_prompt(alice_client, generation):
    page = alice_client.get(reverse("generations:detail", args=[generation.pk]))
    assert b"Save this prompt" in page.content


def test_quick_save_from_the_prompt_box(alice, alice_client):
    response = alice_client.post(
        reverse("prompts:quick_save"),
        {"prompt": "a kite rising over a beach, drone rise"},
        headers={"HX-Request": "true"},
    )
    assert "Saved to your library" in response.content.decode()
    again = alice_client.post(
        reverse("prompts:quick_save"),
        {"prompt": "a kite rising over a beach, drone rise"},
        headers={"HX-Request": "true"},
    )
    assert "Already in your library" in again.content.decode()
    assert Prompt.objects.filter(owner=alice).count() == 1


def test_the_coach_panel_shows_hints_and_the_variation_count(alice_client, mia):
    response = alice_client.post(
        reverse("prompts:coach"),
        {"prompt": "@mia in a {red|blue} car", "duration": "2", "fps": "8",
         "variations": "2", "composer": "1"},
    )  # fmt: skip
    content = response.content.decode()
    assert 'data-code="no_camera"' in content
    assert "4 clips in all" in content
    assert "Generate all 4" in content


def test_the_coach_panel_explains_a_bad_wildcard(alice_client):
    response = alice_client.post(reverse("prompts:coach"), {"prompt": "a {red ball"})
    assert "never closed" in response.content.decode()


def test_generating_a_wildcard_prompt_queues_every_variation(
    alice, alice_client, project, mia, noir
):
    response = alice_client.post(
        reverse("projects:generate", args=[project.pk]),
        settings_form(
            prompt="@mia in a {red|blue} car, slow push-in",
            variations="2",
            library_prompt=str(noir.pk),
        ),
    )
    assert response.status_code == 302
    clips = Generation.objects.filter(project=project).order_by("prompt", "seed")
    assert [(g.prompt, g.seed) for g in clips] == [
        ("a young woman in a red coat in a blue car, slow push-in", 11),
        ("a young woman in a red coat in a blue car, slow push-in", 12),
        ("a young woman in a red coat in a red car, slow push-in", 11),
        ("a young woman in a red coat in a red car, slow push-in", 12),
    ]
    assert len({g.batch for g in clips}) == 1
    assert PromptClip.objects.filter(prompt=noir).count() == 4


def test_a_prompt_that_cannot_expand_shows_why(alice_client, project):
    response = alice_client.post(
        reverse("projects:generate", args=[project.pk]),
        settings_form(prompt="@nobody walks"),
    )
    assert response.status_code == 400
    assert "No character named @nobody" in response.content.decode()
    assert not Generation.objects.exists()


def test_too_many_variations_for_the_queue_are_refused_whole(alice_client, project):
    response = alice_client.post(
        reverse("projects:generate", args=[project.pk]),
        settings_form(prompt="{a|b|c|d|e} ball bouncing", variations="2"),
    )
    assert response.status_code == 429
    assert not Generation.objects.exists()


def test_the_draft_autosaves_and_comes_back(alice, alice_client, project):
    url = reverse("prompts:draft", args=[project.pk])
    assert alice_client.post(url, {"prompt": "a fox at dusk"}).status_code == 204
    assert Draft.objects.get(project=project).text == "a fox at dusk"
    page = alice_client.get(project.get_absolute_url()).content.decode()
    assert "a fox at dusk</textarea>" in page


def test_a_library_prompt_opens_in_a_project(alice_client, project, noir):
    response = alice_client.post(
        reverse("prompts:use", args=[noir.pk]), {"project": str(project.pk)}
    )
    assert response.url == f"{project.get_absolute_url()}?prompt={noir.pk}"
    page = alice_client.get(response.url).content.decode()
    assert f'name="library_prompt" value="{noir.pk}"' in page
    assert "rainy alley at night" in page


def test_the_prompt_box_offers_characters_styles_and_the_director(
    alice, alice_client, project, mia
):
    DirectorProfile.objects.create(
        owner=alice, camera="slow push-in", look="warm light", negative_prompt="text"
    )
    page = alice_client.get(project.get_absolute_url()).content.decode()
    assert 'data-insert="@mia "' in page
    assert "Film noir" in page
    assert 'data-append="slow push-in, warm light"' in page
    assert 'data-testid="apply-director"' in page


def test_characters_and_lists_are_created_and_show_their_users(
    alice, alice_client, noir
):
    response = alice_client.post(
        reverse("prompts:characters"),
        {"name": "@Rex", "kind": "character", "description": "a scruffy grey dog"},
    )
    assert response.status_code == 302
    rex = Character.objects.get(owner=alice, name="rex")
    prompt_create(owner=alice, title="Dog", text="@rex runs along a beach, pan left")
    prompt_create(owner=alice, title="Not him", text="@rexford sleeps, static")
    page = alice_client.get(rex.get_absolute_url()).content.decode()
    assert ">Dog<" in page and "Not him" not in page

    alice_client.post(
        reverse("prompts:characters"),
        {"action": "list", "name": "animal", "options": "fox\nowl\n\nhare"},
    )
    assert WordList.objects.get(owner=alice, name="animal").options == [
        "fox", "owl", "hare",
    ]  # fmt: skip


def test_a_character_name_must_be_unique_and_well_formed(alice_client, mia):
    taken = alice_client.post(
        reverse("prompts:characters"),
        {"name": "mia", "kind": "character", "description": "someone else"},
    )
    assert "already have a character" in taken.content.decode()
    bad = alice_client.post(
        reverse("prompts:characters"),
        {"name": "9 lives", "kind": "character", "description": "a cat"},
    )
    assert "Names start with a letter" in bad.content.decode()


def test_styles_default_set_is_shared_and_read_only(alice, alice_client, bob_client):
    default = StylePreset.objects.get(owner=None, name="Film noir")
    assert StylePreset.objects.filter(owner=None).count() >= 7
    response = alice_client.post(reverse("prompts:style_delete", args=[default.pk]))
    assert response.status_code == 404
    alice_client.post(
        reverse("prompts:styles"),
        {"name": "Teal", "snippet": "teal and orange grade", "negative_prompt": ""},
    )
    mine = StylePreset.objects.get(owner=alice, name="Teal")
    assert b"Teal" not in bob_client.get(reverse("prompts:styles")).content
    assert (
        bob_client.post(reverse("prompts:style_delete", args=[mine.pk])).status_code
        == 404
    )


def test_the_director_profile_is_saved(alice, alice_client):
    alice_client.post(
        reverse("prompts:styles"),
        {"action": "director", "camera": "low angle orbit", "pacing": "unhurried",
         "look": "", "negative_prompt": "flicker"},
    )  # fmt: skip
    profile = DirectorProfile.objects.get(owner=alice)
    assert profile.snippet() == "low angle orbit, unhurried"


def test_export_and_import_through_the_pages(alice_client, bob, bob_client, noir):
    exported = alice_client.get(reverse("prompts:export"))
    assert exported["Content-Disposition"].startswith("attachment")
    upload = SimpleUploadedFile("library.json", exported.content, "application/json")
    response = bob_client.post(reverse("prompts:import"), {"file": upload})
    assert response.status_code == 302
    assert Prompt.objects.get(owner=bob).title == "Rainy alley"


def test_a_broken_import_file_changes_nothing(bob, bob_client):
    data = {"format": "studio.prompt-library", "version": 1,
            "prompts": [{"text": "fine"}, {"text": ""}]}  # fmt: skip
    upload = SimpleUploadedFile("l.json", json.dumps(data).encode())
    response = bob_client.post(reverse("prompts:import"), {"file": upload})
    assert response.status_code == 200
    assert "nothing was imported" in response.content.decode()
    assert "prompts[1].text" in response.content.decode()
    assert not Prompt.objects.filter(owner=bob).exists()
    junk = SimpleUploadedFile("l.json", b"\xff not json")
    response = bob_client.post(reverse("prompts:import"), {"file": junk})
    assert "not valid JSON" in response.content.decode()


OWNED_PAGES = [
    ("prompts:detail", "prompt", "get"),
    ("prompts:detail", "prompt", "post"),
    ("prompts:restore", "version", "post"),
    ("prompts:delete", "prompt", "post"),
    ("prompts:favourite", "prompt", "post"),
    ("prompts:use", "prompt", "post"),
    ("prompts:character", "character", "get"),
    ("prompts:character_delete", "character", "post"),
    ("prompts:list_delete", "list", "post"),
    ("prompts:draft", "project", "post"),
    ("prompts:save_from_generation", "generation", "post"),
]


@pytest.fixture
def owned(alice, noir, mia, project, generation) -> dict:
    word_list = WordList.objects.create(owner=alice, name="animal", options=["fox"])
    return {
        "prompt": [noir.pk],
        "version": [noir.pk, 1],
        "character": [mia.pk],
        "list": [word_list.pk],
        "project": [project.pk],
        "generation": [generation.pk],
    }


@pytest.mark.parametrize(("name", "kind", "method"), OWNED_PAGES)
def test_bob_gets_a_404_for_everything_of_alices(bob_client, owned, name, kind, method):
    url = reverse(name, args=owned[kind])
    response = getattr(bob_client, method)(url, {"project": "", "prompt": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize(("name", "kind", "method"), OWNED_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(
    anonymous_client, owned, name, kind, method
):
    response = getattr(anonymous_client, method)(reverse(name, args=owned[kind]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    "name",
    ["library", "characters", "styles", "export", "import"],
)
def test_library_pages_need_a_login_and_show_only_your_own(
    anonymous_client, bob_client, noir, mia, name
):
    assert anonymous_client.get(reverse(f"prompts:{name}")).status_code == 302
    page = bob_client.get(reverse(f"prompts:{name}")).content.decode()
    assert "Rainy alley" not in page and "@mia<" not in page
