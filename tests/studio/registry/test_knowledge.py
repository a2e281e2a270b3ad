"""The page of everything the built-in model knows, with looping examples."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from generation.builtin import world
from generation.builtin.reading import unknown_words
from studio.projects.models import Project
from studio.prompts.models import Draft
from studio.registry import knowledge

pytestmark = pytest.mark.django_db
URL = "/models/builtin/knows/"


@pytest.fixture
def project(alice) -> Project:
    return Project.objects.create(owner=alice, name="Shapes")


def test_the_page_lists_every_term_of_the_world(alice_client):
    response = alice_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for title in ("Colours", "Subjects", "Motions", "Scenes", "Camera moves"):
        assert f'data-kind="{title}"' in html
    for colour in world.COLOURS:
        assert f'data-term="colour-{colour}"' in html
    for camera in world.CAMERAS:
        assert f'data-term="camera-{camera}"' in html
    total = len(world.COLOURS) + len(world.OBJECTS) + len(world.MOTIONS)
    total += len(world.SCENES) + len(world.CAMERAS)
    assert html.count('class="knowledge-term"') == total


def test_every_example_prompt_is_in_the_world_s_words():
    for term in knowledge.all_terms():
        assert unknown_words(term.prompt)[0] == [], term.prompt
    for text in knowledge.PROMPTS_TO_TRY:
        assert unknown_words(text)[0] == [], text


def test_without_the_model_s_examples_the_world_s_renders_stand_in_labelled(
    alice_client,
):
    html = alice_client.get(URL).content.decode()
    assert 'data-by-model="false"' in html and 'data-by-model="true"' not in html
    assert "world render" in html
    assert "manage.py knowledge_examples" in html
    response = alice_client.get(URL + "motion-bounce.webp")
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    # It moves (identical frames in a row are merged into one longer frame).
    assert image.format == "WEBP" and image.n_frames > 1


def test_the_command_makes_the_model_s_own_looping_examples(alice_client, capsys):
    # Two terms are enough to show it: the rest stay the world's renders.
    call_command("knowledge_examples", only="colour-red,colour-orange")
    folder = knowledge.model_folder()
    assert capsys.readouterr().out.strip() == str(folder)
    assert folder.name == knowledge.examples_key()
    assert folder.name.startswith(knowledge.weights_hash() + "-")
    made = sorted(p.name for p in folder.iterdir())
    assert made == ["colour-orange.webp", "colour-red.webp"]
    with Image.open(folder / "colour-red.webp") as image:
        assert image.n_frames > 1 and image.info.get("loop") == 0
    html = alice_client.get(URL).content.decode()
    assert html.count('data-by-model="true"') == 2
    assert "2 of " in html


@pytest.mark.parametrize("slug", ["colour-teal", "nothing", "..%2F..%2Fsecret", "a"])
def test_an_unknown_example_is_a_404(alice_client, slug):
    assert alice_client.get(URL + f"{slug}.webp").status_code == 404


def test_one_click_puts_a_prompt_to_try_in_the_prompt_box(alice, alice_client, project):
    html = alice_client.get(URL + f"?project={project.pk}").content.decode()
    assert f'action="/models/builtin/knows/try/{project.pk}/"' in html
    text = knowledge.PROMPTS_TO_TRY[1]
    response = alice_client.post(URL + f"try/{project.pk}/", {"prompt": text})
    assert response.status_code == 302
    assert response["Location"] == project.get_absolute_url()
    assert Draft.objects.get(project=project).text == text
    page = alice_client.get(project.get_absolute_url()).content.decode()
    assert text in page


def test_trying_a_prompt_in_another_creator_s_project_is_a_404(bob_client, project):
    response = bob_client.post(URL + f"try/{project.pk}/", {"prompt": "a red ball"})
    assert response.status_code == 404
    assert not Draft.objects.exists()


def test_an_empty_or_over_long_prompt_to_try_is_refused_in_words(alice_client, project):
    for text in ("", "a" * 5000):
        response = alice_client.post(URL + f"try/{project.pk}/", {"prompt": text})
        assert response.status_code == 302 and response["Location"] == URL
    assert not Draft.objects.exists()
    page = alice_client.get(URL).content.decode()
    assert "Choose one of the prompts on the page to try." in page


def test_the_models_page_and_the_prompt_box_link_to_it(alice_client, project):
    assert URL in alice_client.get("/models/").content.decode()
    page = alice_client.get(project.get_absolute_url()).content.decode()
    assert f'href="{URL}?project={project.pk}"' in page


def test_the_command_refuses_an_unknown_term():
    with pytest.raises(CommandError, match="Unknown terms: colour-teal."):
        call_command("knowledge_examples", only="colour-teal")


def test_anonymous_visitors_are_sent_to_log_in(anonymous_client):
    for url in (URL, URL + "colour-red.webp"):
        response = anonymous_client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_the_suggestion_keeps_what_it_can_and_stays_in_the_world():
    cat = "a fluffy orange cat walking across a wooden floor"
    assert knowledge.in_world_suggestion(cat).startswith("an orange ball moving right")
    sea = knowledge.in_world_suggestion("a surfer riding a wave on the ocean")
    assert "over the sea" in sea
    city = knowledge.in_world_suggestion("a neon-lit street in a rainy city at night")
    assert "skyline" in city
    hills = knowledge.in_world_suggestion("a dragon flying over snowy mountains")
    assert "valley" in hills
    for text in (cat, "a dragon flying at night", "xyzzy", ""):
        assert unknown_words(knowledge.in_world_suggestion(text))[0] == []


def test_examples_are_made_again_when_the_sampling_code_changes(tmp_path):
    copies = []
    for source in knowledge.SAMPLER_FILES:
        copy = tmp_path / source.name
        copy.write_bytes(source.read_bytes())
        copies.append(copy)
    copies = tuple(copies)
    assert knowledge.sampler_hash(copies) == knowledge.sampler_hash()
    # Say, the guidance stop moves: examples made before it are not today's.
    pipeline = copies[0]
    pipeline.write_text(
        pipeline.read_text().replace("GUIDANCE_STOP = 0.3", "GUIDANCE_STOP = 0.4")
    )
    assert knowledge.sampler_hash(copies) != knowledge.sampler_hash()
