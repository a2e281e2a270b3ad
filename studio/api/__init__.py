"""The JSON API under /api/: one django-ninja API, one Router per app.

The class that validates a request is the class that documents it: a route's
parameters and its request and response classes are the OpenAPI document at
``/api/schema`` (browsable at ``/api/docs``), so the two cannot drift.

Adding an app's routes
----------------------
Write ``studio/<app>/api.py`` with a Router, and add its import path to
``ROUTERS`` below. Routers mount at the API's root, so a route's path is its
address minus ``/api``::

    from studio.api import ApiError, RequestBody, Router, Uuid

    router = Router(tags=["Prompts"])

    @router.get("/prompts/{prompt_id}", response=PromptOut, summary="A prompt")
    def prompt_detail(request, prompt_id: str):
        prompt = own_prompt(request.user, prompt_id)  # None for bob's or a bad id
        if prompt is None:
            raise ApiError(404, "No such prompt.")
        return prompt

Every route gets the API's auth (an API token, else a logged-in session with
its CSRF token for anything but GET); ``request.user`` is the creator either
way. A wrong method answers a JSON 405 naming the right ones; an unknown path
under /api/ answers ``{"error": "Not found."}``.

Request and response classes
----------------------------
- A JSON body is a :class:`RequestBody` subclass taken as a parameter
  (``def prompt_create(request, payload: PromptIn)``). It is strict, as
  JSON is: ``"8"`` is not a whole number, ``1`` is not true, and a field it
  does not declare is "Unknown field.". Ids and dates sent as strings take
  :data:`Uuid` and :data:`Moment`. Put every bound in the field
  (``Field(ge=1, le=MAX_SHOTS)``), from the constant the engine or model
  already has: the document shows it and the check enforces it.
- A field's ``title`` names it in error sentences
  (``text: str = Field(max_length=MAX, title="The prompt")`` → "The prompt
  must be at most 2000 characters."); without one the field's name is used.
  For a sentence of your own, raise ``ValueError("...")`` in a
  ``field_validator``: its text is the message, as written.
- Query strings are plain parameters or a ``Query[SomeSchema]``; they are
  lax (a query string is text), so bound them as above.
- Responses are ``Schema`` classes given as ``response=`` (or a dict of
  status → class, e.g. ``{201: GenerationOut, 429: Error}``); ninja checks
  what the route returns against them. The error answers every route can
  give (400, 401, 403, 404, 413) are documented for you.
- Return a status other than 200 with ``Status(201, obj)`` (from ninja), or
  ``HttpResponse(status=204)`` for no body.

Errors
------
``raise ApiError(status, "Sentence.")`` answers ``{"error": "Sentence."}``;
``raise FieldErrors({"field": ["Sentence."]})`` (or ``status=413`` etc.)
answers ``{"errors": {...}}``; ``"__all__"`` is for the request as a whole.
Validation failures become 400 ``{"errors": {field: [sentence]}}`` (never
ninja's 422), keyed by the field the client sent; a path parameter that does
not validate is a 404, like an unknown id. Bodies over :data:`MAX_BODY_BYTES`
are a 413 before anyone reads them; malformed JSON, NaN, Infinity, 1e999 and
NUL characters are a 400 with the reason. Anything else raised is a server
fault: Django answers it as JSON 500 under /api/.

Uploads (multipart)
-------------------
Take the files with ninja's ``File[UploadedFile]`` and the JSON settings as a
form field, then parse and check the settings with the same class a JSON body
uses, so both forms of the request share one definition::

    from ninja import File, Form, UploadedFile
    from studio.api import body_limit, parse_json, validate

    @router.post("/generations", response={201: GenerationOut, 429: Error})
    @body_limit(MAX_MULTIPART_BYTES)
    def generation_create(request, settings: Form[str] = "{}",
                          image: File[UploadedFile] = None):
        spec_in = validate(GenerationIn, parse_json(settings))

One route that takes either a JSON body or a multipart form reads the body
itself when ``request.content_type == "application/json"``:
``validate(GenerationIn, parse_json(request.body))``; document both forms
with ``openapi_extra={"requestBody": {...}}`` built from
``GenerationIn.model_json_schema()``. :func:`body_limit` raises the body
limit for that one route.

Names to import: ``from studio.api import api, Router, RequestBody, Schema,
Uuid, Moment, Error, ApiError, FieldErrors, body_limit, parse_json, validate,
MAX_BODY_BYTES``.
"""

from __future__ import annotations

from ninja import Router, Schema

from studio.api.auth import default_auth
from studio.api.errors import ApiError, FieldErrors
from studio.api.parsers import MAX_BODY_BYTES, body_limit, parse_json, validate
from studio.api.schemas import Error, Moment, RequestBody, Uuid
from studio.api.site import StudioAPI

# Each app's Router, by import path; all mount at /api/.
ROUTERS = (
    "studio.registry.api.router",
    "studio.generations.api.router",
    "studio.prompts.api.router",
    "studio.galleries.api.router",
    "studio.storyboards.api.router",
    "studio.live.api.router",
    "studio.provenance.api.router",
)

api = StudioAPI(
    routers=ROUTERS,
    title="Studio API",
    version="1",
    description=(
        "Queue AI video generations and follow them. Live previews stream "
        "over the websocket at ws_url; see the README."
    ),
    openapi_url="/schema",
    docs_url="/docs",
    servers=[{"url": "/"}],
    urls_namespace="api",
    auth=default_auth(),
)

__all__ = [
    "MAX_BODY_BYTES",
    "ApiError",
    "Error",
    "FieldErrors",
    "Moment",
    "RequestBody",
    "Router",
    "Schema",
    "Uuid",
    "api",
    "body_limit",
    "parse_json",
    "validate",
]
