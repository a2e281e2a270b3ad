"""The studio's URLs plus a small API of its own, for what the studio's routes
do not exercise yet: a crash, route-raised errors, query strings, ids in the
path, a raised body limit and a multipart upload with JSON settings."""

from __future__ import annotations

from django.urls import path
from ninja import Field, File, Form, Query, Schema, UploadedFile

from studio import urls as studio_urls
from studio.api import (
    ApiError,
    FieldErrors,
    RequestBody,
    Router,
    Uuid,
    body_limit,
    parse_json,
    validate,
)
from studio.api.auth import default_auth
from studio.api.site import StudioAPI

handler400 = studio_urls.handler400
handler403 = studio_urls.handler403
handler404 = studio_urls.handler404
handler500 = studio_urls.handler500

router = Router()


class Shot(RequestBody):
    prompt: str = Field(min_length=1, max_length=20)
    seconds: float = Field(gt=0, le=10)


class Board(RequestBody):
    title: str = Field(max_length=10, title="The title")
    fps: int = Field(8, ge=4, le=30)
    burn_captions: bool = False
    project: Uuid | None = None
    shots: list[Shot] = Field(default_factory=list, max_length=3)


class Page(Schema):
    page: int = Field(1, ge=1, le=1000)


@router.post("/trial/boards")
def board_create(request, payload: Board):
    return {"title": payload.title, "owner": request.user.username}


@router.get("/trial/boards")
def board_list(request, query: Query[Page]):
    return {"page": query.page}


@router.get("/trial/boards/{uuid:board_id}")
def board_detail(request, board_id: Uuid):
    raise ApiError(404, "No such board.")


@router.post("/trial/check")
def check(request):
    raise FieldErrors({"title": "Pick another title."}, status=409)


@router.post("/trial/uploads")
@body_limit(4 * 1024 * 1024)
def upload(request, settings: Form[str] = "{}", image: File[UploadedFile] = None):
    board = validate(Board, parse_json(settings))
    size = image.size if image is not None else 0
    return {"title": board.title, "bytes": size}


@router.get("/trial/broken")
def broken(request):
    raise RuntimeError("a bug in a route")


trial = StudioAPI(
    routers=(),
    urls_namespace="trial",
    openapi_url=None,
    docs_url=None,
    auth=default_auth(),
)
trial.add_router("", router)

urlpatterns = [path("api/", trial.urls), *studio_urls.urlpatterns]
