"""The JSON API's foundation: its OpenAPI document, its answers to wrong paths
and methods, its auth, and the shapes of its errors.

The studio's own routes are used where they exercise a rule; the rest runs
against a small API of the same kind in tests/studio/api_urls.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from openapi_spec_validator import validate

from studio.accounts.services import api_token_create
from studio.api import MAX_BODY_BYTES
from studio.jsontext import NOT_FINITE

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"
READING = "/api/models/builtin/reading"
METHODS = "GET|POST|PUT|PATCH|DELETE"
trial = pytest.mark.urls("tests.studio.api_urls")


def post(client, url: str, body, **extra):
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, raw, content_type="application/json", **extra)


@pytest.fixture
def token(alice) -> str:
    return api_token_create(user=alice, name="cli")[1]


# ------------------------------------------------------------------ document


def test_the_served_document_is_valid_openapi(anonymous_client):
    document = anonymous_client.get("/api/schema").json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert anonymous_client.get("/api/openapi.json").json() == document


def readme_routes() -> set[tuple[str, str]]:
    """Every ``METHOD /api/...`` the README's API sections name, with
    ``GET/PATCH/DELETE /api/x`` read as three routes."""
    text = README.read_text()
    section = text[text.index("## JSON API") : text.index("## The built-in model")]
    routes = set()
    for methods, route in re.findall(
        rf"\b((?:{METHODS})(?:/(?:{METHODS}))*) (/api/[^\s`?]*)", section
    ):
        for method in methods.split("/"):
            routes.add((method.lower(), re.sub(r"<[^>]+>", "{}", route)))
    return routes


def test_every_route_the_readme_names_is_in_the_document(anonymous_client):
    document = anonymous_client.get("/api/schema").json()
    documented = {
        (method, re.sub(r"\{[^}]+\}", "{}", route))
        for route, operations in document["paths"].items()
        for method in operations
    }
    named = readme_routes()
    assert len(named) > 30
    assert ("post", "/api/models/{}/reading") in named
    assert named - documented == set()


def test_both_ways_to_authenticate_are_documented_on_every_route(anonymous_client):
    document = anonymous_client.get("/api/schema").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearer"]["description"],
    }
    assert (schemes["session"]["type"], schemes["session"]["in"]) == (
        "apiKey",
        "cookie",
    )
    assert schemes["session"]["name"] == "sessionid"
    assert document["security"] == [{"bearer": []}, {"session": []}]
    reading = document["paths"]["/api/models/{name}/reading"]["post"]
    assert reading["security"] == [{"bearer": []}, {"session": []}]


def test_a_generated_route_documents_every_error_it_can_answer(anonymous_client):
    document = anonymous_client.get("/api/schema").json()
    reading = document["paths"]["/api/models/{name}/reading"]["post"]
    assert set(reading["responses"]) == {"200", "400", "401", "403", "404", "413"}
    errors = reading["responses"]["400"]["content"]["application/json"]["schema"]
    assert errors == {"$ref": "#/components/schemas/ErrorsByField"}
    shape = document["components"]["schemas"]["ErrorsByField"]
    assert shape["properties"]["errors"]["additionalProperties"]["type"] == "array"
    listing = document["paths"]["/api/models"]["get"]
    assert set(listing["responses"]) == {"200", "401"}


def test_the_request_class_is_the_documented_body(anonymous_client):
    from generation.specs import MAX_PROMPT_CHARS

    document = anonymous_client.get("/api/schema").json()
    body = document["paths"]["/api/models/{name}/reading"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert schema["properties"]["text"]["maxLength"] == MAX_PROMPT_CHARS
    assert schema["required"] == ["text"]
    assert schema["additionalProperties"] is False


# ------------------------------------------------------- paths and methods


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    "url",
    [
        "/api/nope",
        "/api/",
        "/api/models/",
        "/api/nope/deeper/still",
        "/api/models/builtin/reading/more",
    ],  # fmt: skip
)
def test_an_unknown_api_path_is_a_json_404(alice_client, settings, debug, url):
    settings.DEBUG = debug
    response = alice_client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Not found."}


def test_a_write_to_an_unknown_api_path_is_a_404_not_a_csrf_refusal(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    for method in ("post", "patch", "delete"):
        response = getattr(client, method)("/api/prompts/9223372036854775808")
        assert response.status_code == 404
        assert response.json() == {"error": "Not found."}


def test_a_wrong_method_is_a_json_405_that_names_the_right_ones(
    alice_client, anonymous_client
):
    for client in (alice_client, anonymous_client):
        response = client.put("/api/models")
        assert response.status_code == 405
        assert response["Allow"] == "GET"
        assert response.json() == {"error": "Use GET."}
    response = alice_client.delete(READING)
    assert (response["Allow"], response.json()) == ("POST", {"error": "Use POST."})
    # A route the API has not taken over answers the same way.
    response = alice_client.put("/api/generations")
    assert response.status_code == 405
    assert (response["Allow"], response.json()) == (
        "GET, POST",
        {"error": "Use GET or POST."},
    )


# --------------------------------------------------------------------- auth


def test_alice_reads_with_her_token_and_without_a_csrf_token(alice, token):
    client = Client(enforce_csrf_checks=True)
    response = post(client, READING, {"text": "a red ball"},
                    headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert response.status_code == 200
    assert response.json()["terms"]["colour"]["value"] == "red"


def test_a_bad_token_is_refused_even_from_a_logged_in_browser(alice_client):
    for header in ("Bearer not-a-token", "Basic YWxpY2U6eA==", "Bearer"):
        response = alice_client.get("/api/models", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.json() == {"error": "Invalid API token."}


def test_a_session_write_without_the_csrf_token_is_refused(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get("/api/models").status_code == 200
    response = post(client, READING, {"text": "a red ball"})
    assert response.status_code == 403
    assert response.json() == {"error": "CSRF check failed."}


def test_a_session_write_with_the_csrf_token_goes_through(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get("/accounts/login/")  # sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = post(client, READING, {"text": "a red ball"},
                    headers={"X-CSRFToken": csrf})  # fmt: skip
    assert response.status_code == 200


def test_an_anonymous_visitor_is_asked_to_log_in(anonymous_client):
    for response in (
        anonymous_client.get("/api/models"),
        post(anonymous_client, READING, {"text": "a red ball"}),
        # Who is asking comes before how large the body is.
        post(anonymous_client, READING, "x" * (MAX_BODY_BYTES + 1)),
    ):
        assert response.status_code == 401
        assert response.json() == {"error": "Log in or send an API token."}


# ------------------------------------------------------------------ bodies


def test_invalid_fields_are_a_400_by_field_in_plain_words(alice_client):
    response = post(alice_client, READING, {"text": 3, "colour": "red"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": {"text": ["The prompt must be text."], "colour": ["Unknown field."]}
    }
    response = post(alice_client, READING, {})
    assert response.json() == {"errors": {"text": ["This field is required."]}}
    response = post(alice_client, READING, {"text": "x" * 5000})
    assert response.json()["errors"]["text"] == [
        "The prompt must be at most 2000 characters."
    ]


def test_a_field_with_an_empty_name_is_a_400_not_a_server_error(alice_client):
    response = post(alice_client, READING, {"text": "a red ball", "": 1})
    assert response.status_code == 400
    assert response.json() == {"errors": {"": ["Unknown field."]}}


@pytest.mark.parametrize("raw", ["[1, 2]", "null", '"text"', "7", ""])
def test_a_body_that_is_not_an_object_is_a_400(alice_client, raw):
    response = post(alice_client, READING, raw)
    assert response.status_code == 400
    assert response.json() == {"errors": {"__all__": ["Send a JSON object."]}}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"text": NaN}', NOT_FINITE),
        ('{"text": Infinity}', NOT_FINITE),
        ('{"text": 1e999}', NOT_FINITE),
        ('{"text": "a', "This is not valid JSON."),
        (b'{"text": "\xff"}', "This is not valid JSON."),
        ('{"text": "a \\u0000"}', "Text can't contain NUL characters or unpaired surrogates."),
    ],
)  # fmt: skip
def test_json_the_studio_cannot_take_is_a_400_with_the_reason(
    alice_client, raw, message
):
    response = post(alice_client, READING, raw)
    assert response.status_code == 400
    assert response.json() == {"errors": {"__all__": [message]}}


def test_a_body_over_the_limit_is_a_413(alice_client):
    body = json.dumps({"text": "x" * MAX_BODY_BYTES})
    response = post(alice_client, READING, body)
    assert response.status_code == 413
    assert response.json() == {
        "errors": {"__all__": ["The request body is too large."]}
    }


@pytest.mark.parametrize(
    ("length", "status"),
    [("abc", 400), ("-1", 400), ("1e3", 400), ("²", 400), ("9" * 40, 413),
     (str(MAX_BODY_BYTES + 1), 413)],
)  # fmt: skip
def test_an_unreadable_or_absurd_content_length_is_a_4xx(alice_client, length, status):
    response = alice_client.generic(
        "POST",
        READING,
        b'{"text": "a red ball"}',
        content_type="application/json",
        CONTENT_LENGTH=length,
    )
    assert response.status_code == status
    assert list(response.json()["errors"]) == ["__all__"]


# ------------------------------------------------- the rest, on a trial API


@trial
def test_a_crash_in_a_route_is_the_studios_json_500(alice, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    response = client.get("/api/trial/broken")
    assert response.status_code == 500
    assert response.json() == {
        "error": "Something went wrong on the server. Try again in a moment."
    }


@trial
def test_errors_a_route_raises_answer_in_the_two_shapes(alice_client):
    response = alice_client.get(
        "/api/trial/boards/3fa85f64-5717-4562-b3fc-2c963f66afa6"
    )
    assert (response.status_code, response.json()) == (404, {"error": "No such board."})
    response = alice_client.post("/api/trial/check")
    assert response.status_code == 409
    assert response.json() == {"errors": {"title": ["Pick another title."]}}


@trial
def test_a_path_that_names_nothing_is_a_404(alice_client):
    response = alice_client.get("/api/trial/boards/not-an-id")
    assert (response.status_code, response.json()) == (404, {"error": "Not found."})


@trial
@pytest.mark.parametrize(
    ("page", "message"),
    [("x", "Page must be a whole number."), ("0", "Page must be at least 1."),
     ("9" * 30, "Page must be at most 1000.")],
)  # fmt: skip
def test_a_bad_query_string_is_a_400_naming_the_parameter(alice_client, page, message):
    response = alice_client.get("/api/trial/boards", {"page": page})
    assert response.status_code == 400
    assert response.json() == {"errors": {"page": [message]}}
    assert alice_client.get("/api/trial/boards", {"page": "3"}).json() == {"page": 3}


@trial
def test_a_body_is_taken_as_json_means_it(alice_client):
    body = {"title": "Harbour", "fps": "8", "burn_captions": 1, "project": "nope"}
    response = post(alice_client, "/api/trial/boards", body)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "fps": ["Fps must be a whole number."],
        "burn_captions": ["Burn captions must be true or false."],
        "project": [
            "Project must be an id such as 3fa85f64-5717-4562-b3fc-2c963f66afa6."
        ],
    }
    for fps in (8.0, 8.5, True):
        response = post(alice_client, "/api/trial/boards", {"title": "H", "fps": fps})
        assert response.json()["errors"] == {"fps": ["Fps must be a whole number."]}
    good = {"title": "Harbour", "fps": 8, "burn_captions": True,
            "project": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}  # fmt: skip
    response = post(alice_client, "/api/trial/boards", good)
    assert response.json() == {"title": "Harbour", "owner": "alice"}


@trial
def test_a_mistake_inside_a_list_names_where_it_is(alice_client):
    body = {
        "title": "H",
        "shots": [{"prompt": "a", "seconds": 2}, {"prompt": "", "seconds": 0}],
    }
    response = post(alice_client, "/api/trial/boards", body)
    assert response.json()["errors"] == {
        "shots": ["Prompt of item 2 of shots can't be empty."]
    }
    body = {"title": "H", "shots": [{"prompt": "a", "seconds": 2}] * 4}
    response = post(alice_client, "/api/trial/boards", body)
    assert response.json()["errors"] == {"shots": ["Shots must have at most 3 items."]}
    response = post(alice_client, "/api/trial/boards", {"title": "H", "shots": "x"})
    assert response.json()["errors"] == {"shots": ["Shots must be a list."]}


@trial
def test_an_upload_carries_json_settings_checked_by_the_same_class(alice_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    image = SimpleUploadedFile("still.png", b"x" * (2 * MAX_BODY_BYTES))
    settings = json.dumps({"title": "Harbour"})
    response = alice_client.post(
        "/api/trial/uploads", {"settings": settings, "image": image}
    )
    assert response.status_code == 200
    assert response.json() == {"title": "Harbour", "bytes": 2 * MAX_BODY_BYTES}
    for settings, errors in (
        ('{"title": 3}', {"title": ["The title must be text."]}),
        ("{nope", {"__all__": ["This is not valid JSON."]}),
        ('{"fps": NaN}', {"__all__": [NOT_FINITE]}),
    ):
        response = alice_client.post("/api/trial/uploads", {"settings": settings})
        assert (response.status_code, response.json()) == (400, {"errors": errors})


@trial
def test_an_upload_over_its_own_limit_is_a_413(alice_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    image = SimpleUploadedFile("still.png", b"x" * (5 * 1024 * 1024))
    response = alice_client.post("/api/trial/uploads", {"image": image})
    assert response.status_code == 413
    assert response.json() == {
        "errors": {"__all__": ["The request body is too large."]}
    }


# --------------------------------------------------------------------- docs


def test_the_docs_page_loads_swagger_from_the_studios_own_static_files(
    anonymous_client,
):
    response = anonymous_client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts == [
        "/static/ninja/swagger-ui-bundle.js",
        "/static/ninja/swagger-ui-init.js",
    ]
    assert "http://" not in html and "https://" not in html
    for name in ("swagger-ui-bundle.js", "swagger-ui-init.js", "swagger-ui.css"):
        assert finders.find(f"ninja/{name}")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe" not in policy
    settings = json.loads(
        re.search(r'id="swagger-settings">(.*?)</script>', html, re.S)[1]
    )
    assert settings["url"] == "/api/schema"
    assert settings["validatorUrl"] is None
