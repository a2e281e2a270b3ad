from __future__ import annotations

import re

import pytest
from django.urls import reverse

from studio.generations.models import Generation
from studio.projects.models import Project

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
        "seed": "",
        "variations": "1",
    }
    return {**data, **overrides}


def test_alice_creates_a_project_and_lands_on_it(alice, alice_client):
    response = alice_client.post(
        reverse("projects:list"), {"name": "Teaser", "description": "For Mia"}
    )
    project = Project.objects.get(owner=alice)
    assert response.status_code == 302
    assert response.url == project.get_absolute_url()
    page = alice_client.get(project.get_absolute_url())
    assert page.status_code == 200
    assert b'id="composer"' in page.content


def test_the_project_list_shows_only_your_own_projects(project, bob, bob_client):
    Project.objects.create(owner=bob, name="Bob's reel")
    content = bob_client.get(reverse("projects:list")).content.decode()
    assert "Bob&#x27;s reel" in content
    assert "Harbour teaser" not in content


@pytest.mark.parametrize("name", ["detail", "edit", "delete"])
def test_another_users_project_is_a_404(project, bob_client, name):
    response = bob_client.get(reverse(f"projects:{name}", args=[project.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["detail", "edit", "delete"])
def test_anonymous_visitors_are_sent_to_log_in(project, anonymous_client, name):
    response = anonymous_client.get(reverse(f"projects:{name}", args=[project.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_bob_cannot_generate_in_alices_project(project, bob_client):
    response = bob_client.post(
        reverse("projects:generate", args=[project.pk]), settings_form()
    )
    assert response.status_code == 404
    assert not Generation.objects.exists()


def test_alice_renames_and_describes_her_project(project, alice_client):
    alice_client.post(
        reverse("projects:edit", args=[project.pk]),
        {"name": "Summer campaign", "description": "Beach shots"},
    )
    project.refresh_from_db()
    assert (project.name, project.description) == ("Summer campaign", "Beach shots")


def test_archiving_moves_a_project_to_the_archive(project, alice_client):
    alice_client.post(reverse("projects:archive", args=[project.pk]))
    project.refresh_from_db()
    assert project.archived
    assert project not in alice_client.get("/").context["projects"]
    archive = alice_client.get("/?archived=1").content.decode()
    assert "Harbour teaser" in archive


def test_deleting_needs_the_project_name(project, alice_client):
    url = reverse("projects:delete", args=[project.pk])
    response = alice_client.post(url, {"confirm_name": "spring"})
    assert response.status_code == 200
    assert Project.objects.filter(pk=project.pk).exists()
    response = alice_client.post(url, {"confirm_name": "Harbour teaser"})
    assert response.status_code == 302
    assert not Project.objects.filter(pk=project.pk).exists()


def test_the_prompt_box_queues_a_clip_with_exact_frames_and_a_seed(
    project, alice_client
):
    response = alice_client.post(
        reverse("projects:generate", args=[project.pk]),
        settings_form(duration="1.5", fps="16", aspect="16:9"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    generation = Generation.objects.get(project=project)
    assert generation.settings["num_frames"] == 24
    # 16:9 on a 64 px short side, in the built-in model's even sizes.
    assert (generation.settings["width"], generation.settings["height"]) == (114, 64)
    assert generation.settings["seed"] == generation.seed
    assert f'data-generation="{generation.pk}"' in response.content.decode()


def test_variations_queue_one_clip_per_seed(project, alice_client):
    alice_client.post(
        reverse("projects:generate", args=[project.pk]),
        settings_form(seed="41", variations="3"),
    )
    seeds = sorted(Generation.objects.values_list("seed", flat=True))
    assert seeds == [41, 42, 43]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("prompt", "", "prompt is empty"),
        ("prompt", "x" * 100_000, "keep it under"),
        ("duration", "0", "greater than or equal to"),
        ("duration", "soon", "Enter a number"),
        # The engine's own sentences, naming the model.
        ("steps", "500", "500 steps is too many"),
        ("guidance", "-1", "-1 is too low"),
        ("model", "nope", "Select a valid choice"),
        ("seed", "-5", "The seed must be between"),
        ("variations", "9", "less than or equal to"),
    ],
)
def test_bad_settings_re_render_the_form_with_a_message(
    project, alice_client, field, value, message
):
    response = alice_client.post(
        reverse("projects:generate", args=[project.pk]),
        settings_form(**{field: value}),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Generation.objects.exists()


def test_use_these_settings_again_fills_the_form(project, alice, alice_client):
    source = Generation.objects.create(
        owner=alice,
        project=project,
        prompt="a blue box",
        seed=99,
        settings={
            "prompt": "a blue box",
            "negative_prompt": "",
            "model": "builtin",
            "num_frames": 24,
            "fps": 12,
            "width": 128,
            "height": 128,
            "num_inference_steps": 9,
            "guidance_scale": 4.5,
            "seed": 99,
        },
    )
    response = alice_client.get(project.get_absolute_url() + f"?from={source.pk}")
    form = response.context["form"]
    assert form.initial["prompt"] == "a blue box"
    assert form.initial["seed"] == 99
    assert form.initial["duration"] == 2
    response = alice_client.get(
        project.get_absolute_url() + f"?from={source.pk}&seed=new"
    )
    assert response.context["form"].initial["seed"] is None


def test_every_setting_sits_in_its_own_cell_with_its_help_linked(project, alice_client):
    # Help text and errors belong to their input: a screen reader announces
    # them with it, and the settings grid keeps each label above its input.
    html = alice_client.get(project.get_absolute_url()).content.decode()
    start = html.index('class="settings-grid"')
    grid = html[start : html.index("</details>", start)]
    for name in ("model", "duration", "steps", "guidance", "seed", "strength"):
        assert re.search(rf'<div class="field[^"]*">\s*<label for="id_{name}"', grid)
    for name in ("seed", "strength"):
        input_tag = re.search(rf'<input[^>]*id="id_{name}"[^>]*>', grid).group(0)
        assert f'aria-describedby="id_{name}_helptext"' in input_tag
        assert f'id="id_{name}_helptext"' in grid


def test_a_bad_seed_shows_its_message_in_the_seed_cell(project, alice_client):
    response = alice_client.post(
        reverse("projects:generate", args=[project.pk]),
        settings_form(seed="-5"),
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    start = html.index('<label for="id_seed"')  # the last cell of the grid
    cell = html[start : html.index("</details>", start)]
    assert 'class="errorlist' in cell
    assert not Generation.objects.exists()


def test_the_project_gallery_shows_only_starred_clips_when_asked(
    project, alice, alice_client
):
    def clip(prompt: str, starred: bool) -> Generation:
        return Generation.objects.create(
            owner=alice,
            project=project,
            prompt=prompt,
            seed=1,
            settings={
                "prompt": prompt,
                "model": "builtin",
                "seed": 1,
                "num_frames": 16,
                "fps": 8,
                "width": 64,
                "height": 64,
            },
            status=Generation.Status.SUCCEEDED,
            starred=starred,
        )

    keeper = clip("a gull over the harbour, the keeper", starred=True)
    other = clip("a gull over the harbour, a miss", starred=False)
    url = project.get_absolute_url()

    everything = alice_client.get(url).content.decode()
    starred = alice_client.get(url, {"starred": "1"}).content.decode()
    partial = alice_client.get(
        url, {"partial": "gallery", "starred": "1"}, headers={"HX-Request": "true"}
    ).content.decode()

    assert f"clip-{keeper.pk}" in everything and f"clip-{other.pk}" in everything
    for html in (starred, partial):
        assert f"clip-{keeper.pk}" in html
        assert f"clip-{other.pk}" not in html
        # The live refresh after a new clip keeps the filter.
        assert 'data-url="' + url + '?partial=gallery&amp;starred=1"' in html
    assert re.search(r'<a href="[^"]*\?starred=1"[^>]*aria-current="true"', starred)

    Generation.objects.filter(pk=keeper.pk).update(starred=False)
    none = alice_client.get(url, {"starred": "1"}).content.decode()
    assert "No starred clips in this project yet." in none


def test_each_project_card_shows_its_latest_poster_and_clip_count(
    project, alice, alice_client, django_assert_max_num_queries
):
    def clip(poster: str, status=Generation.Status.SUCCEEDED) -> Generation:
        return Generation.objects.create(
            owner=alice,
            project=project,
            prompt="a gull over the harbour",
            seed=1,
            settings={"prompt": "a gull over the harbour"},
            status=status,
            poster=poster,
        )

    clip("clips/a/old.jpg")
    clip("clips/a/new.jpg")
    clip("", status=Generation.Status.FAILED)
    empty = Project.objects.create(owner=alice, name="Night drive")
    for n in range(5):
        Project.objects.create(owner=alice, name=f"Spare {n}")

    with django_assert_max_num_queries(8):
        html = alice_client.get(reverse("projects:list")).content.decode()

    cards = {
        re.search(r"<h2><a [^>]*>([^<]+)</a>", card)[1]: card
        for card in re.findall(
            r'<article class="card project-card">.*?</article>', html, re.S
        )
    }
    assert '<img src="/media/clips/a/new.jpg"' in cards["Harbour teaser"]
    assert "old.jpg" not in html
    assert "2 clips · last one 0" in cards["Harbour teaser"]
    assert "<img" not in cards[empty.name]
    assert "0 clips · updated" in cards[empty.name]
    assert len(cards) == 7


def test_the_project_page_is_never_served_from_a_cache(project, alice_client):
    """Back from a clip asks the studio again: no stale, empty gallery."""
    response = alice_client.get(project.get_absolute_url())
    cache_control = response.headers["Cache-Control"]
    assert "no-store" in cache_control
    assert "private" in cache_control


def test_the_settings_start_folded_with_the_look_line_hidden(project, alice_client):
    content = alice_client.get(project.get_absolute_url()).content.decode()
    settings = re.search(r'<details class="settings"[^>]*>', content).group(0)
    assert " open" not in settings
    look = re.search(r'<p class="look-chosen"[^>]*>', content).group(0)
    assert "hidden" in look


def test_settings_with_an_error_open_to_show_it(project, alice_client):
    response = alice_client.post(
        reverse("projects:generate", args=[project.pk]),
        settings_form(steps="0"),
    )
    assert response.status_code == 400
    settings = re.search(
        r'<details class="settings"[^>]*>', response.content.decode()
    ).group(0)
    assert " open" in settings
