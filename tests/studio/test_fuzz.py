"""The JSON API against its own OpenAPI schema, fuzzed with a fixed seed.

Schemathesis reads /api/schema from the real WSGI application and sends every
operation generated requests, valid and invalid, with alice's API token. Each
case goes out twice where the path names an object: once with the generated
id and once with a real object of alice's of that kind, so PATCH and DELETE
bodies reach real rows. The pass mark is no server error and no answer the
schema does not describe.
"""

from __future__ import annotations

import pytest
import schemathesis
import werkzeug.test
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import load_all_checks
from schemathesis.generation import GenerationMode

from studio.accounts.services import api_token_create
from studio.generations.models import Generation

pytestmark = pytest.mark.django_db

load_all_checks()
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

APP = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/schema", APP)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
SHAPE_CHECKS = [check for check in CHECKS if check is not negative_data_rejection]
# About two and a half minutes on two busy cores: 37 operations, a few
# hundred generated cases each way.
EXAMPLES = 25


@pytest.fixture
def token(alice, settings, request_keeps_connection) -> str:
    settings.STUDIO_MAX_QUEUED_PER_USER = 10_000
    return api_token_create(user=alice, name="fuzz")[1]


@pytest.fixture
def request_keeps_connection():
    """The WSGI handler closes the database connection after each request,
    which would end the test's transaction; Django's test client keeps it
    open the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def made(token) -> dict[str, str]:
    """One object of alice's of each kind, made through the API itself."""
    headers = {"Authorization": f"Bearer {token}"}
    client = werkzeug.test.Client(APP)

    def post(path: str, body: dict) -> dict:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    made = {"generation": post("/api/generations", {"prompt": "a red ball"})["id"]}
    # Only a finished clip goes into a gallery; no worker runs here.
    finished = post("/api/generations", {"prompt": "a blue box"})["id"]
    Generation.objects.filter(pk=finished).update(
        status=Generation.Status.SUCCEEDED, video="clip.mp4", poster="clip.jpg"
    )
    made["prompt"] = post("/api/prompts", {"text": "a red ball rolling"})["id"]
    made["gallery"] = post("/api/galleries", {"title": "Reel"})["id"]
    made["share"] = post(f"/api/galleries/{made['gallery']}/shares", {})["id"]
    made["item"] = post(
        f"/api/galleries/{made['gallery']}/items", {"generation": finished}
    )["id"]
    board = post("/api/storyboards", {"title": "Board"})["id"]
    made["storyboard"] = board
    made["shot"] = post(
        f"/api/storyboards/{board}/shots",
        {"type": "establishing", "prompt": "a red ball", "duration": 2},
    )["id"]
    return made


KINDS = {
    "generations": "generation",
    "prompts": "prompt",
    "galleries": "gallery",
    "shares": "share",
}


def with_real_ids(case, made: dict[str, str]) -> dict[str, str] | None:
    names = set(case.path_parameters or {})
    if not names:
        return None
    kind = KINDS.get(case.operation.path.split("/")[2], "")
    named = {"id": made.get(kind), "storyboard_id": made["storyboard"]}
    named.update(shot_id=made["shot"], item=made["item"])
    return {name: named.get(name) for name in names}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_every_generated_request_as_its_schema_says(case, token, made):
    headers = {"Authorization": f"Bearer {token}"}
    case.call_and_validate(headers=headers, checks=CHECKS)
    real = with_real_ids(case, made) if case.path_parameters else None
    if real and all(real.values()):
        # The generated case may have been invalid only in its path; with
        # real ids it may be valid, so only the answer's shape is judged.
        case.path_parameters = {**case.path_parameters, **real}
        case.call_and_validate(headers=headers, checks=SHAPE_CHECKS)
