from __future__ import annotations

import json

import pytest

from generation.specs import MAX_PROMPT_CHARS
from studio.prompts.models import (
    MAX_NOTES_CHARS,
    Character,
    Prompt,
    PromptVersion,
    StylePreset,
)
from studio.prompts.search import MAX_QUERY_CHARS
from studio.prompts.services import prompt_create
from studio.prompts.transfer import MAX_IMPORT_BYTES, MAX_IMPORT_PROMPTS
from studio.prompts.validation import MAX_RATING, MAX_TAG_CHARS, MAX_TAGS
from tests.studio.prompts.conftest import send

pytestmark = pytest.mark.django_db


def test_alice_saves_a_prompt_with_a_bearer_token(alice, token, anonymous_client):
    response = send(
        anonymous_client,
        "post",
        "/api/prompts",
        {
            "title": "Harbour",
            "text": "boats rocking in a harbour at dawn, drone rise",
            "tags": ["Sea", "dawn", "sea"],
            "notes": "for the intro",
            "rating": 5,
        },
        Authorization=f"Bearer {token}",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["tags"] == ["dawn", "sea"]
    assert body["rating"] == 5
    prompt = Prompt.objects.get(pk=body["id"])
    assert prompt.owner == alice
    assert prompt.versions.count() == 1


def test_an_untitled_prompt_is_named_by_its_words(alice_client):
    response = send(alice_client, "post", "/api/prompts", {"text": "a fox, pan left"})
    assert response.status_code == 201
    assert response.json()["title"] == "a fox, pan left"


def test_saving_the_same_text_again_is_a_duplicate(alice_client, noir):
    response = send(
        alice_client,
        "post",
        "/api/prompts",
        {"title": "Again", "text": "  A detective walking down a RAINY alley at "
         "night,   slow push-in"},
    )  # fmt: skip
    assert response.status_code == 409
    assert response.json()["duplicate_of"] == noir.pk
    assert "already in your library" in response.json()["error"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "x"}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": "a", "tags": ["t"] * 1 + [f"tag{n}" for n in range(25)]}, "tags"),
        ({"text": "a", "tags": ["x" * 41]}, "tags"),
        ({"text": "a", "tags": ["<script>"]}, "tags"),
        ({"text": "a", "tags": "noir"}, None),
        ({"text": "a", "rating": 6}, "rating"),
        ({"text": "a", "rating": True}, "rating"),
        ({"text": "a", "favourite": "yes"}, "favourite"),
        ({"text": "a", "colour": "red"}, "colour"),
        (["not", "an", "object"], "__all__"),
    ],
)
def test_bad_prompt_input_is_a_400_naming_the_field(alice_client, data, field):
    response = send(alice_client, "post", "/api/prompts", data)
    if field is None:
        assert response.status_code == 201
        return
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_malformed_json_and_huge_bodies_are_refused(alice_client):
    assert send(alice_client, "post", "/api/prompts", "{nope").status_code == 400
    huge = json.dumps({"text": "a" * (300 * 1024)})
    assert send(alice_client, "post", "/api/prompts", huge).status_code == 413


def test_search_finds_words_in_title_text_notes_and_tags(alice_client, noir, meadow):
    def ids(query: str) -> list[int]:
        body = alice_client.get("/api/prompts", {"q": query}).json()
        assert body["count"] == len(body["results"])
        return [p["id"] for p in body["results"]]

    assert ids("detective") == [noir.pk]
    assert ids("rainy alley") == [noir.pk]
    assert ids("meadow") == [meadow.pk]
    assert ids("noir") == [noir.pk]  # a tag, and a word in the notes
    assert ids("nature") == [meadow.pk]
    assert ids("detect") == [noir.pk]  # words match as prefixes while typing
    assert ids("submarine") == []
    assert set(ids("")) == {noir.pk, meadow.pk}


def test_search_survives_query_syntax(alice_client, noir):
    for query in ['"', "AND OR NOT", "alley*", "(", "title:x", "'; drop table", "é"]:
        response = alice_client.get("/api/prompts", {"q": query})
        assert response.status_code == 200


def test_search_combines_words_and_tags(alice, alice_client, noir, meadow):
    prompt_create(
        owner=alice, title="Ball at night", text="a ball in a city at night",
        tags=["city"],
    )  # fmt: skip
    body = alice_client.get("/api/prompts", {"q": "night", "tag": "noir"}).json()
    assert [p["id"] for p in body["results"]] == [noir.pk]
    body = alice_client.get("/api/prompts", {"tag": ["city", "noir"]}).json()
    assert body["count"] == 1
    body = alice_client.get("/api/prompts", {"tag": "city"}).json()
    assert body["count"] == 2


def test_sorting_by_title_and_rating(alice_client, noir, meadow):
    titles = [
        p["title"]
        for p in alice_client.get("/api/prompts", {"sort": "title"}).json()["results"]
    ]
    assert titles == ["Meadow", "Rainy alley"]
    rated = alice_client.get("/api/prompts", {"sort": "rating"}).json()["results"]
    assert rated[0]["id"] == noir.pk
    assert alice_client.get("/api/prompts", {"sort": "bogus"}).status_code == 400


def test_search_never_shows_another_users_prompts(bob, bob_client, noir):
    prompt_create(owner=bob, title="Bob's alley", text="a rainy alley, static")
    body = bob_client.get("/api/prompts", {"q": "alley"}).json()
    assert [p["title"] for p in body["results"]] == ["Bob's alley"]


def test_editing_keeps_versions_and_the_search_index_up_to_date(alice_client, noir):
    response = send(
        alice_client,
        "patch",
        f"/api/prompts/{noir.pk}",
        {"text": "a detective running through a flooded tunnel, handheld tracking",
         "tags": ["noir", "tunnel"]},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["tags"] == ["noir", "tunnel"]
    versions = alice_client.get(f"/api/prompts/{noir.pk}/versions").json()
    assert versions["count"] == 2
    assert versions["results"][0]["number"] == 2
    assert versions["results"][1]["text"].startswith("a detective walking")
    assert versions["results"][1]["tags"] == ["city", "noir"]
    found = alice_client.get("/api/prompts", {"q": "tunnel"}).json()
    assert found["count"] == 1
    assert alice_client.get("/api/prompts", {"q": "walking"}).json()["count"] == 0
    assert alice_client.get("/api/prompts", {"tag": "city"}).json()["count"] == 0


def test_rating_and_favourite_changes_do_not_add_versions(alice_client, noir):
    send(alice_client, "patch", f"/api/prompts/{noir.pk}", {"favourite": True})
    assert noir.versions.count() == 1
    assert alice_client.get("/api/prompts", {"favourite": "1"}).json()["count"] == 1


def test_an_empty_title_in_a_patch_is_refused(alice_client, noir):
    response = send(alice_client, "patch", f"/api/prompts/{noir.pk}", {"title": ""})
    assert response.status_code == 400


def test_deleting_removes_the_prompt_and_its_search_entry(alice_client, noir):
    assert alice_client.delete(f"/api/prompts/{noir.pk}").status_code == 204
    assert not Prompt.objects.filter(pk=noir.pk).exists()
    assert not PromptVersion.objects.filter(prompt_id=noir.pk).exists()
    assert alice_client.get("/api/prompts", {"q": "detective"}).json()["count"] == 0


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("patch", ""), ("delete", ""), ("get", "/versions")],
)
def test_another_users_prompt_is_a_404(bob_client, noir, method, suffix):
    response = send(bob_client, method, f"/api/prompts/{noir.pk}{suffix}", {})
    assert response.status_code == 404
    assert Prompt.objects.filter(pk=noir.pk, title="Rainy alley").exists()


@pytest.mark.parametrize("prompt_id", ["999999", "abc", "1e3", "-1"])
def test_unknown_or_malformed_ids_are_a_json_404(alice_client, prompt_id):
    response = alice_client.get(f"/api/prompts/{prompt_id}")
    assert response.status_code == 404
    assert response.json()["error"]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/prompts"),
        ("post", "/api/prompts"),
        ("get", "/api/prompts/1"),
        ("get", "/api/prompts/1/versions"),
        ("get", "/api/prompts/export"),
        ("post", "/api/prompts/import"),
        ("post", "/api/prompts/expand"),
        ("post", "/api/prompts/coach"),
    ],
)
def test_anonymous_requests_get_a_401(anonymous_client, method, url):
    response = send(anonymous_client, method, url, {"text": "a"})
    assert response.status_code == 401


def test_expand_returns_variations_and_count(alice_client, mia):
    response = send(
        alice_client,
        "post",
        "/api/prompts/expand",
        {"text": "@mia in a {red|blue} car"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["variations"] == [
        "a young woman in a red coat in a red car",
        "a young woman in a red coat in a blue car",
    ]


def test_expand_uses_only_your_own_characters(bob_client, mia):
    response = send(bob_client, "post", "/api/prompts/expand", {"text": "@mia waves"})
    assert response.status_code == 400
    assert "No character named @mia" in response.json()["errors"]["text"][0]


def test_expand_reports_the_cap(alice_client):
    body = send(
        alice_client, "post", "/api/prompts/expand", {"text": "{a|b}" * 8}
    ).json()
    assert body["count"] == 256 and body["truncated"]
    assert len(body["variations"]) == 64


@pytest.mark.parametrize(
    "data", [{}, {"text": ""}, {"text": 5}, {"text": "x" * 2001}, {"text": "{a"}, []]
)
def test_expand_refuses_bad_input_with_a_400(alice_client, data):
    assert send(alice_client, "post", "/api/prompts/expand", data).status_code == 400


def test_coach_returns_hints_with_fixes(alice_client):
    response = send(alice_client, "post", "/api/prompts/coach", {"text": "a cat"})
    assert response.status_code == 200
    hints = response.json()["hints"]
    assert [h["code"] for h in hints] == ["bare_subject", "no_camera"]
    assert hints[1]["fix"]["text"] == "a cat, slow push-in"


def test_coach_reads_the_clip_length(alice_client):
    text = "a flower blooming over 4 seconds, static shot"
    short = send(alice_client, "post", "/api/prompts/coach", {"text": text})
    right = send(
        alice_client,
        "post",
        "/api/prompts/coach",
        {"text": text, "num_frames": 32, "fps": 8},
    )
    assert "duration_mismatch" in [h["code"] for h in short.json()["hints"]]
    assert right.json()["hints"] == []


@pytest.mark.parametrize(
    "data",
    [
        {"text": "a cat", "num_frames": 4000},
        {"text": "a cat", "fps": "fast"},
        {"text": "a cat", "mood": "sad"},
        {"text": ""},
    ],
)
def test_coach_refuses_bad_input_with_a_400(alice_client, data):
    assert send(alice_client, "post", "/api/prompts/coach", data).status_code == 400


def test_coach_knows_only_your_own_characters(alice_client, bob_client, mia):
    text = "@mia walks left, pan left"
    mine = send(alice_client, "post", "/api/prompts/coach", {"text": text}).json()
    theirs = send(bob_client, "post", "/api/prompts/coach", {"text": text}).json()
    assert "unknown_character" not in [h["code"] for h in mine["hints"]]
    assert "unknown_character" in [h["code"] for h in theirs["hints"]]


def test_export_import_round_trip_is_lossless(
    alice, alice_client, bob, bob_client, noir, meadow, mia
):
    send(alice_client, "patch", f"/api/prompts/{noir.pk}", {"notes": "v2 notes"})
    StylePreset.objects.create(owner=alice, name="Mine", snippet="teal and orange")
    exported = alice_client.get("/api/prompts/export").json()
    assert len(exported["prompts"]) == 2
    assert exported["characters"] == [
        {"name": "mia", "kind": "character", "description": "a young woman in a red coat"}
    ]  # fmt: skip

    response = send(bob_client, "post", "/api/prompts/import", exported)
    assert response.status_code == 200
    assert response.json()["imported"] == {
        "prompts": 2, "characters": 1, "lists": 0, "styles": 1,
    }  # fmt: skip
    again = bob_client.get("/api/prompts/export").json()
    exported.pop("exported"), again.pop("exported")
    assert again == exported
    # The imported library is searchable and keeps its history.
    found = bob_client.get("/api/prompts", {"q": "detective"}).json()["results"]
    assert len(found) == 1
    versions = bob_client.get(f"/api/prompts/{found[0]['id']}/versions").json()
    assert versions["count"] == 2


def test_importing_into_the_same_library_skips_what_it_has(alice_client, noir):
    exported = alice_client.get("/api/prompts/export").json()
    body = send(alice_client, "post", "/api/prompts/import", exported).json()
    assert body["imported"]["prompts"] == 0
    assert body["skipped"]["prompts"] == 1


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(format="something-else"),
        lambda d: d.update(version=99),
        lambda d: d["prompts"].append({"title": "no text"}),
        lambda d: d["prompts"].append({"text": "ok", "tags": ["x" * 99]}),
        lambda d: d["prompts"].append({"text": "ok", "created": "yesterday"}),
        lambda d: d["characters"].append({"name": "9lives", "description": "a cat"}),
        lambda d: d.update(prompts="not a list"),
        lambda d: d.update(prompts=[{"text": f"p{n}"} for n in range(10_001)]),
    ],
)
def test_a_bad_import_is_refused_and_changes_nothing(
    alice_client, bob, bob_client, noir, mutate
):
    exported = alice_client.get("/api/prompts/export").json()
    mutate(exported)
    response = send(bob_client, "post", "/api/prompts/import", exported)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not Prompt.objects.filter(owner=bob).exists()
    assert not Character.objects.filter(owner=bob).exists()


def test_an_import_over_the_size_limit_is_refused(alice_client):
    body = b'{"format": "' + b"x" * (MAX_IMPORT_BYTES + 1) + b'"}'
    response = send(alice_client, "post", "/api/prompts/import", body)
    assert response.status_code == 413
    assert "KiB" in response.json()["error"]


def test_the_schema_describes_the_prompt_api(alice_client):
    schema = alice_client.get("/api/schema").json()
    for path in (
        "/api/prompts",
        "/api/prompts/{id}",
        "/api/prompts/{id}/versions",
        "/api/prompts/export",
        "/api/prompts/import",
        "/api/prompts/expand",
        "/api/prompts/coach",
    ):
        assert path in schema["paths"]
    assert "Prompt" in schema["components"]["schemas"]


def test_a_left_out_or_null_field_is_refused_in_the_librarys_words(alice_client):
    response = send(alice_client, "post", "/api/prompts", {"title": "Harbour"})
    assert response.json() == {"errors": {"text": ["Text is empty."]}}
    response = send(alice_client, "post", "/api/prompts", {"text": "a", "notes": None})
    assert response.json() == {
        "errors": {"notes": ["Give a value, or leave the field out."]}
    }
    response = send(alice_client, "post", "/api/prompts", {"text": "a", "rating": 9})
    assert response.json() == {
        "errors": {"rating": ["Rating must be from 0 to 5; got 9."]}
    }


def test_a_prompt_body_over_its_limit_is_a_413_in_kib(alice_client):
    huge = json.dumps({"text": "a" * (300 * 1024)})
    response = send(alice_client, "post", "/api/prompts", huge)
    assert response.status_code == 413
    assert response.json() == {"error": "The request body is over 256 KiB."}


def test_someone_elses_prompt_is_a_404_whatever_the_body(bob_client, noir):
    for body in ("{nope", json.dumps({"rating": "five"}), "[]"):
        response = send(bob_client, "patch", f"/api/prompts/{noir.pk}", body)
        assert response.status_code == 404
        assert response.json() == {"error": "No such prompt."}


def test_a_prompt_reads_back_with_its_times_to_the_microsecond(alice_client, noir):
    body = alice_client.get(f"/api/prompts/{noir.pk}").json()
    assert body["created"] == noir.created.isoformat()
    assert list(body) == [
        "id", "title", "text", "negative_prompt", "notes", "tags", "rating",
        "favourite", "created", "updated", "url", "clips",
    ]  # fmt: skip


def test_the_export_downloads_as_a_file(alice_client, noir):
    response = alice_client.get("/api/prompts/export")
    assert response["Content-Disposition"] == (
        'attachment; filename="prompt-library.json"'
    )
    version = response.json()["prompts"][0]["versions"][0]
    assert version["created"] == noir.versions.get().created.isoformat()


def test_a_hint_without_a_fix_has_no_fix_key(alice_client):
    text = "@nobody walks left, pan left"
    hints = send(alice_client, "post", "/api/prompts/coach", {"text": text}).json()
    unknown = [h for h in hints["hints"] if h["code"] == "unknown_character"]
    assert list(unknown[0]) == ["code", "message"]


def test_expand_reads_only_an_object_with_text(alice_client):
    for body, field, message in (
        ([], "__all__", "Send a JSON object."),
        ({}, "text", "Send the prompt text."),
        ({"text": "x" * 2001}, "text", "Keep the prompt under 2,000 characters."),
    ):
        response = send(alice_client, "post", "/api/prompts/expand", body)
        assert response.json() == {"errors": {field: [message]}}


def test_a_search_is_bounded_like_the_index_reads_it(alice_client):
    response = alice_client.get("/api/prompts", {"q": "x" * (MAX_QUERY_CHARS + 1)})
    assert response.status_code == 400
    assert "200 characters" in response.json()["errors"]["q"][0]
    response = alice_client.get("/api/prompts", {"page_size": "0"})
    assert response.json() == {
        "errors": {"page_size": ["Page size must be from 1 to 200; got 0."]}
    }


def test_the_schema_takes_its_bounds_from_the_library(alice_client):
    document = alice_client.get("/api/schema").json()
    schemas = document["components"]["schemas"]
    fields = schemas["PromptInput"]["properties"]
    assert fields["text"]["maxLength"] == MAX_PROMPT_CHARS
    assert fields["notes"]["maxLength"] == MAX_NOTES_CHARS
    assert fields["rating"]["maximum"] == MAX_RATING
    listed, _ = fields["tags"]["anyOf"]
    assert listed["maxItems"] == MAX_TAGS
    assert listed["items"]["maxLength"] == MAX_TAG_CHARS
    search = document["paths"]["/api/prompts"]["get"]["parameters"]
    assert {p["name"]: p for p in search}["q"]["schema"]["maxLength"] == (
        MAX_QUERY_CHARS
    )
    upload = document["paths"]["/api/prompts/import"]["post"]["requestBody"]
    prompts = upload["content"]["application/json"]["schema"]["properties"]["prompts"]
    assert prompts["anyOf"][0]["maxItems"] == MAX_IMPORT_PROMPTS


def test_a_field_with_no_name_is_a_400_not_a_crash(alice_client, noir):
    for method, url in (
        ("post", "/api/prompts"),
        ("patch", f"/api/prompts/{noir.pk}"),
        ("post", "/api/prompts/coach"),
    ):
        response = send(alice_client, method, url, {"text": "a fox", "": 1})
        assert response.status_code == 400
        assert response.json() == {"errors": {"__all__": ["Every field needs a name."]}}
