"""The Clips page and GET /api/generations: every clip, across projects."""

from __future__ import annotations

import io
import json
import re
import zipfile
from html import unescape
from urllib.parse import parse_qs
from uuid import uuid4

import pytest
from django.urls import reverse

from studio.galleries.models import Gallery
from studio.generations.forms import MAX_BULK_CLIPS
from studio.generations.models import Generation
from studio.generations.store import output_dir
from studio.generations.views import CLIPS_PAGE_SIZE
from studio.projects.models import Project

pytestmark = pytest.mark.django_db


def clip(owner, prompt: str, *, project=None, status="succeeded", model="builtin"):
    settings = {"prompt": prompt, "model": model, "seed": 1, "num_frames": 16}
    settings["fps"] = 8
    return Generation.objects.create(
        owner=owner,
        project=project,
        prompt=prompt,
        seed=1,
        settings=settings,
        status=status,
    )


@pytest.fixture
def library(alice, bob):
    harbour = Project.objects.create(owner=alice, name="Harbour teaser")
    night = Project.objects.create(owner=alice, name="Night drive")
    return {
        "harbour": harbour,
        "night": night,
        "boat": clip(alice, "a red boat leaving the harbour at dawn", project=harbour),
        "gull": clip(alice, "a gull over the harbour, pan left", project=harbour),
        "car": clip(alice, "a car on a wet road at night", project=night),
        "failed": clip(alice, "a red car drifting", project=night, status="failed"),
        "other": clip(alice, "a red kite", model="wan-local"),
        "bobs": clip(bob, "a red boat, bob's"),
    }


def shown(response) -> set[str]:
    html = response.content.decode()
    return {g.prompt for g in Generation.objects.all() if f"clip-{g.pk}" in html}


def test_the_clips_page_shows_all_of_alices_clips_and_none_of_bobs(
    alice_client, library
):
    response = alice_client.get(reverse("generations:list"))
    assert response.status_code == 200
    assert shown(response) == {
        "a red boat leaving the harbour at dawn",
        "a gull over the harbour, pan left",
        "a car on a wet road at night",
        "a red car drifting",
        "a red kite",
    }
    # Each card names its project.
    assert "Harbour teaser" in response.content.decode()


def test_search_matches_every_word_and_filters_combine(alice_client, library):
    url = reverse("generations:list")
    assert shown(alice_client.get(url, {"q": "red harbour"})) == {
        "a red boat leaving the harbour at dawn"
    }
    assert shown(alice_client.get(url, {"q": "RED", "status": "failed"})) == {
        "a red car drifting"
    }
    night = str(library["night"].pk)
    assert shown(alice_client.get(url, {"project": night, "status": "succeeded"})) == {
        "a car on a wet road at night"
    }
    assert shown(alice_client.get(url, {"model": "wan-local"})) == {"a red kite"}


def test_the_search_box_answers_htmx_with_the_results_alone(alice_client, library):
    response = alice_client.get(
        reverse("generations:list"),
        {"q": "gull"},
        headers={"HX-Request": "true", "HX-Target": "gallery"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="gallery"')
    assert "<html" not in html
    assert shown(response) == {"a gull over the harbour, pan left"}


def test_bad_filters_are_explained_and_nothing_is_hidden(alice_client, bob, library):
    bobs_project = Project.objects.create(owner=bob, name="Bob's")
    url = reverse("generations:list")
    for params, message in [
        ({"status": "exploded"}, "Status is one of"),
        ({"project": "not-a-uuid"}, "No such project."),
        ({"project": str(bobs_project.pk)}, "No such project."),
        ({"q": "x" * 201}, "at most 200 characters"),
    ]:
        response = alice_client.get(url, params)
        assert response.status_code == 200
        assert message in response.content.decode()
        assert len(shown(response)) == 5


def test_anonymous_visitors_are_sent_to_log_in(anonymous_client):
    response = anonymous_client.get(reverse("generations:list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_api_lists_alices_generations_a_page_at_a_time(alice_client, library):
    response = alice_client.get("/api/generations", {"q": "red", "page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["page"], body["pages"]) == (3, 1, 2)
    assert len(body["results"]) == 2
    second = alice_client.get(
        "/api/generations", {"q": "red", "page_size": 2, "page": 2}
    ).json()
    prompts = [g["settings"]["prompt"] for g in body["results"] + second["results"]]
    assert sorted(prompts) == [
        "a red boat leaving the harbour at dawn",
        "a red car drifting",
        "a red kite",
    ]
    assert all(g["ws_url"] and g["status"] for g in body["results"])


def test_the_api_gives_queued_generations_their_place_in_line(alice, alice_client):
    first = clip(alice, "first in line", status="queued")
    second = clip(alice, "second in line", status="queued")
    results = alice_client.get("/api/generations", {"status": "queued"}).json()[
        "results"
    ]
    assert {g["id"]: g["position"] for g in results} == {
        str(first.pk): 1,
        str(second.pk): 2,
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "exploded"}, "status"),
        ({"project": "not-a-uuid"}, "project"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "201"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"q": "x" * 201}, "q"),
        ({"q": "nul \x00"}, "q"),
        ({"model": "nul \x00"}, "model"),
    ],
)
def test_the_api_refuses_bad_filters_with_a_message(alice_client, params, field):
    response = alice_client.get("/api/generations", params)
    assert response.status_code == 400
    assert response.json()["errors"][field]


def test_the_api_list_never_shows_another_creators_generations(bob_client, library):
    prompts = [
        g["settings"]["prompt"]
        for g in bob_client.get("/api/generations").json()["results"]
    ]
    assert prompts == ["a red boat, bob's"]
    alices = str(library["harbour"].pk)
    response = bob_client.get("/api/generations", {"project": alices})
    assert response.status_code == 400


def test_a_page_of_clips_is_read_in_index_order_not_sorted(alice, library):
    # Sorting every clip of a long history for each page made the Clips page
    # 30–51 ms at 10 000 clips; in index order it is 14–20 ms (bench/gallery.py).
    from django.db import connection, transaction

    from studio.generations.search import generation_search

    page = generation_search(Generation.objects.filter(owner=alice))[48:96]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        plan = page.explain()
    assert "generation_owner_created" in plan


# -- stars --------------------------------------------------------------------


def test_alice_stars_a_clip_and_finds_it_under_starred(alice_client, library):
    boat = library["boat"]
    response = alice_client.post(
        reverse("generations:star", args=[boat.pk]),
        {"starred": "1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'aria-pressed="true"' in response.content.decode()
    assert json.loads(response["HX-Trigger"]) == {
        "clip-starred": {"id": str(boat.pk), "starred": True}
    }
    boat.refresh_from_db()
    assert boat.starred
    url = reverse("generations:list")
    assert shown(alice_client.get(url, {"starred": "1"})) == {boat.prompt}
    assert boat.prompt not in shown(alice_client.get(url, {"starred": "0"}))
    alice_client.post(reverse("generations:star", args=[boat.pk]), {"starred": "0"})
    boat.refresh_from_db()
    assert not boat.starred


def test_bob_cannot_star_alices_clip(bob_client, library):
    boat = library["boat"]
    response = bob_client.post(
        reverse("generations:star", args=[boat.pk]), {"starred": "1"}
    )
    assert response.status_code == 404
    boat.refresh_from_db()
    assert not boat.starred


def test_the_api_stars_with_patch_and_filters_by_it(alice_client, library):
    car = library["car"]
    url = f"/api/generations/{car.pk}"
    response = alice_client.patch(
        url, json.dumps({"starred": True}), content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["starred"] is True
    listed = alice_client.get("/api/generations", {"starred": "true"}).json()
    assert [g["id"] for g in listed["results"]] == [str(car.pk)]
    assert alice_client.get(url).json()["starred"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"starred": "yes"}, "starred"),
        ({"starred": 1}, "starred"),
        ({"starred": True, "prompt": "rewritten"}, "prompt"),
        ({}, "__all__"),
        ([True], "__all__"),
    ],
)
def test_the_api_refuses_a_patch_it_cannot_apply(alice_client, library, body, field):
    car = library["car"]
    response = alice_client.patch(
        f"/api/generations/{car.pk}",
        json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][field]
    car.refresh_from_db()
    assert not car.starred and car.prompt == "a car on a wet road at night"


def test_bob_cannot_patch_alices_generation(bob_client, library):
    car = library["car"]
    response = bob_client.patch(
        f"/api/generations/{car.pk}",
        json.dumps({"starred": True}),
        content_type="application/json",
    )
    assert response.status_code == 404
    car.refresh_from_db()
    assert not car.starred


def pager_links(html: str) -> list[dict[str, list[str]]]:
    nav = re.search(r'<nav class="pager">(.*?)</nav>', html, re.S)[1]
    return [parse_qs(unescape(href)) for href in re.findall(r'href="\?([^"]*)"', nav)]


def test_the_clips_pager_keeps_the_filters_and_the_project_pager_its_page(
    alice, alice_client
):
    harbour = Project.objects.create(owner=alice, name="Harbour teaser")
    for n in range(CLIPS_PAGE_SIZE + 2):
        clip(alice, f"a red boat, take {n}", project=harbour)
    filters = {"q": "red boat", "project": str(harbour.pk), "status": "succeeded"}

    middle = alice_client.get(reverse("generations:list"), {**filters, "page": "2"})
    html = middle.content.decode()

    assert "Page 2 of 2" in html
    assert pager_links(html) == [
        {**{k: [v] for k, v in filters.items()}, "page": ["1"]}
    ]
    assert "← Newer" in html

    gallery = alice_client.get(harbour.get_absolute_url()).content.decode()
    assert "Page 1 of 3" in gallery
    assert pager_links(gallery) == [{"page": ["2"]}]
    assert "Older →" in gallery


def bulk(client, action: str, clips, *, htmx: bool = True, **fields):
    data = {"action": action, "clip": [str(c) for c in clips], **fields}
    headers = {"HX-Request": "true", "HX-Target": "bulk"} if htmx else {}
    return client.post(reverse("generations:bulk"), data, headers=headers)


def test_alice_stars_ticked_clips_together_and_bobs_stay_as_they_were(
    alice_client, library
):
    picked = [library["boat"].pk, library["gull"].pk, library["bobs"].pk]
    response = bulk(alice_client, "star", picked, query="q=harbour")

    assert response.status_code == 200
    html = response.content.decode()
    assert "2 clips starred." in html
    # The same list comes back, filters kept: only the harbour clips.
    assert html.lstrip().startswith('<section id="gallery"')
    assert shown(response) == {
        "a red boat leaving the harbour at dawn",
        "a gull over the harbour, pan left",
    }
    starred = set(Generation.objects.filter(starred=True).values_list("pk", flat=True))
    assert starred == {library["boat"].pk, library["gull"].pk}

    bulk(alice_client, "unstar", [library["boat"].pk])
    assert not Generation.objects.get(pk=library["boat"].pk).starred


def test_deleting_ticked_clips_removes_them_and_their_files(
    alice_client, library, django_capture_on_commit_callbacks
):
    folders = [output_dir(library[name]) for name in ("boat", "car")]
    for folder in folders:
        folder.mkdir(parents=True)
        (folder / "clip.mp4").write_bytes(b"not really a video")

    with django_capture_on_commit_callbacks(execute=True):
        response = bulk(
            alice_client,
            "delete",
            [library["boat"].pk, library["car"].pk, library["bobs"].pk],
            htmx=False,
            query="status=succeeded",
        )

    assert response.status_code == 302
    assert response["Location"] == reverse("generations:list") + "?status=succeeded"
    remaining = set(Generation.objects.values_list("prompt", flat=True))
    assert "a red boat leaving the harbour at dawn" not in remaining
    assert "a car on a wet road at night" not in remaining
    assert "a red boat, bob's" in remaining
    assert not any(folder.exists() for folder in folders)
    page = alice_client.get(response["Location"]).content.decode()
    assert "2 clips deleted." in page


def test_ticked_clips_go_into_a_gallery_and_unfinished_ones_are_left_out(
    alice, alice_client, library
):
    picks = Gallery.objects.create(owner=alice, title="Picks")
    chosen = [library["boat"].pk, library["gull"].pk, library["failed"].pk]
    for name in ("boat", "gull"):
        Generation.objects.filter(pk=library[name].pk).update(video="x.mp4")

    response = bulk(alice_client, "gallery", chosen, gallery=str(picks.pk))

    assert "2 clips in “Picks”. 1 not finished, so left out." in (
        response.content.decode()
    )
    assert set(picks.items.values_list("generation", flat=True)) == {
        library["boat"].pk,
        library["gull"].pk,
    }


@pytest.mark.parametrize(
    ("action", "clips", "extra", "message"),
    [
        ("star", [], {}, "Tick at least one clip first."),
        ("star", ["not-a-clip"], {}, "One of the picked clips is not a clip."),
        ("star", [uuid4() for _ in range(MAX_BULK_CLIPS + 1)], {}, "at most 200"),
        ("explode", "ONE", {}, "Choose star, unstar, add, download or delete."),
        ("gallery", "ONE", {}, "Choose a gallery to add the clips to."),
        ("gallery", "ONE", {"gallery": "nope"}, "Choose one of your galleries."),
        ("gallery", "ONE", {"gallery": "BOBS"}, "Choose one of your galleries."),
    ],
)
def test_a_bulk_action_it_cannot_apply_is_explained_and_changes_nothing(
    alice_client, bob, library, action, clips, extra, message
):
    bobs_gallery = Gallery.objects.create(owner=bob, title="Bob's")
    if clips == "ONE":
        clips = [library["boat"].pk]
    extra = {k: str(bobs_gallery.pk) if v == "BOBS" else v for k, v in extra.items()}

    page = bulk(alice_client, action, clips, htmx=False, **extra)
    partial = bulk(alice_client, action, clips, **extra)

    assert page.status_code == 400
    assert message in page.content.decode()
    assert partial.status_code == 200  # htmx shows only 2xx answers
    assert message in partial.content.decode()
    assert not Generation.objects.filter(starred=True).exists()
    assert Generation.objects.count() == 6
    assert not bobs_gallery.items.exists()


def test_bob_cannot_touch_alices_clips_by_ticking_their_ids(bob_client, library):
    ids = [library[name].pk for name in ("boat", "gull", "car")]
    for action in ("star", "delete"):
        response = bulk(bob_client, action, ids)
        assert "0 clips" in response.content.decode()
    assert Generation.objects.filter(pk__in=ids, starred=False).count() == 3


def test_ticked_finished_clips_download_as_one_zip_with_their_settings(
    alice_client, library, settings
):
    for name in ("boat", "gull", "bobs"):
        generation = library[name]
        video = output_dir(generation) / "clip.mp4"
        video.parent.mkdir(parents=True)
        video.write_bytes(f"video of {name}".encode())
        Generation.objects.filter(pk=generation.pk).update(
            video=video.relative_to(settings.MEDIA_ROOT).as_posix()
        )
    ticked = [library[name].pk for name in ("boat", "gull", "failed", "bobs")]

    response = bulk(alice_client, "download", ticked, htmx=False)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="clips.zip"' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    manifest = json.loads(archive.read("clips.json"))
    assert sorted(archive.read(r["files"]["video"]) for r in manifest) == [
        b"video of boat",
        b"video of gull",
    ]
    assert {r["prompt"] for r in manifest} == {
        "a red boat leaving the harbour at dawn",
        "a gull over the harbour, pan left",
    }
    assert all(r["settings"]["seed"] == 1 for r in manifest)
    assert len(archive.namelist()) == 3


def test_downloading_only_unfinished_clips_says_so(alice_client, library):
    response = bulk(alice_client, "download", [library["failed"].pk], htmx=False)
    assert response.status_code == 400
    assert "None of the ticked clips has finished yet." in response.content.decode()


# -- clips on their way: the "In progress" filter and the top bar's count --------


def test_in_progress_lists_queued_and_running_clips_as_live_cards(alice_client, alice):
    running = clip(alice, "a kite climbing", status="running")
    queued = clip(alice, "a kite falling", status="queued")
    clip(alice, "a kite landed")
    response = alice_client.get(reverse("generations:list"), {"status": "active"})
    html = response.content.decode()
    assert shown(response) == set()  # no finished clip card
    for generation in (running, queued):
        assert f'data-live="/ws/generations/{generation.pk}"' in html
    assert "a kite landed" not in html
    assert '<option value="active" selected>In progress</option>' in html
    Generation.objects.filter(owner=alice).update(status="succeeded")
    response = alice_client.get(reverse("generations:list"), {"status": "active"})
    assert "Nothing is rendering or waiting right now." in response.content.decode()


def test_the_api_filters_clips_on_their_way_with_status_active(alice_client, alice):
    clip(alice, "a kite climbing", status="running")
    clip(alice, "a kite falling", status="queued")
    clip(alice, "a kite landed")
    results = alice_client.get("/api/generations", {"status": "active"}).json()
    # In the order they render: the running clip, then the one in line.
    assert [g["status"] for g in results["results"]] == ["running", "queued"]
    schema = alice_client.get("/api/schema").json()
    [status] = [
        p
        for p in schema["paths"]["/api/generations"]["get"]["parameters"]
        if p["name"] == "status"
    ]
    assert "active" in status["schema"]["enum"]


def badge(response) -> str:
    match = re.search(
        r'<(a|span)\b[^>]*id="queue-badge"[^>]*>(.*?)</\1>', response, re.S
    )
    assert match, "no queue badge"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(2))).split())


def test_the_top_bar_counts_alices_clips_on_their_way_and_not_bobs(
    alice_client, alice, bob
):
    page = alice_client.get(reverse("projects:list")).content.decode()
    assert 'data-active="0"' in page and "every 3s" not in page
    clip(alice, "a kite climbing", status="running")
    clip(alice, "a kite falling", status="queued")
    clip(alice, "a kite drifting", status="queued")
    clip(alice, "a kite landed")
    clip(bob, "bob's kite", status="queued")

    page = alice_client.get(reverse("projects:list")).content.decode()
    assert badge(page) == "1 rendering · 2 queued"
    assert 'data-active="3"' in page
    assert "/clips/?status=active" in page
    # The badge refreshes itself while clips are on their way.
    polled = alice_client.get(reverse("generations:queue"), HTTP_HX_REQUEST="true")
    assert polled.status_code == 200
    # Recounted when a clip is queued, starts or ends, and polled meanwhile.
    trigger = 'hx-trigger="clips-queued from:body, clips-changed from:body, every 3s"'
    assert trigger in polled.content.decode()
    assert badge(polled.content.decode()) == "1 rendering · 2 queued"

    Generation.objects.filter(owner=alice).update(status="succeeded")
    polled = alice_client.get(reverse("generations:queue")).content.decode()
    assert badge(polled) == "" and 'data-active="0"' in polled
    assert "every 3s" not in polled  # nothing on its way: no more polling


def test_a_signed_out_page_stops_polling_the_queue(anonymous_client):
    response = anonymous_client.get(reverse("generations:queue"))
    assert response.status_code == 286
    assert response.content == b""


def test_queueing_from_the_project_page_tells_the_top_bar(alice_client, alice):
    project = Project.objects.create(owner=alice, name="Kites")
    response = alice_client.post(
        reverse("projects:generate", args=[project.pk]),
        {"prompt": "a red kite rising", "duration": "1", "fps": "8",
         "aspect": "1:1", "size": "64", "steps": "2", "guidance": "5",
         "variations": "1", "model": "builtin"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"clips-queued": {}}
    refused = alice_client.post(
        reverse("projects:generate", args=[project.pk]),
        {"prompt": "", "duration": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert "HX-Trigger" not in refused


def test_alice_cancels_every_clip_on_its_way_and_bobs_go_on(alice_client, alice, bob):
    running = clip(alice, "a kite climbing", status="running")
    queued = clip(alice, "a kite falling", status="queued")
    landed = clip(alice, "a kite landed")
    bobs = clip(bob, "bob's kite", status="queued")
    page = alice_client.get(reverse("generations:list"), {"status": "active"})
    assert "Cancel all 2" in page.content.decode()
    assert alice_client.get(reverse("generations:cancel_all")).status_code == 405

    response = alice_client.post(reverse("generations:cancel_all"), follow=True)
    assert response.redirect_chain[-1][0] == "/clips/?status=active"
    assert "2 clips cancelled." in response.content.decode()
    for generation in (running, queued, landed, bobs):
        generation.refresh_from_db()
    assert queued.status == "cancelled"
    assert running.cancel_requested  # it stops at its next step
    assert (landed.status, bobs.status) == ("succeeded", "queued")

    again = alice_client.post(reverse("generations:cancel_all"), follow=True)
    assert "Nothing was rendering or waiting." in again.content.decode()


def test_anonymous_visitors_cannot_cancel_anything(anonymous_client, bob):
    queued = clip(bob, "bob's kite", status="queued")
    response = anonymous_client.post(reverse("generations:cancel_all"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    queued.refresh_from_db()
    assert queued.status == "queued"
