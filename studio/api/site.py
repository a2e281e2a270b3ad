"""The studio's NinjaAPI: its routers, answers, URLs and OpenAPI document.

ninja's defaults differ from the API's contract in a few places, each set
right here: errors are ``{"error"}`` / ``{"errors"}`` JSON with 400 for
invalid input (not 422), a wrong method is a JSON 405 that names the right
ones, bodies are bounded and read by :mod:`studio.api.parsers`, every route
documents the error answers it can give, and ``/api/schema`` also carries the
hand-written schema of routes not yet written as ninja routes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from importlib import import_module
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, path, reverse
from ninja import NinjaAPI
from ninja.errors import ValidationErrorContext
from ninja.openapi.docs import Swagger
from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema
from ninja.operation import Operation
from ninja.schema import NinjaGenerateJsonSchema

from studio.api.errors import (
    ApiError,
    FieldErrors,
    answer,
    error_response,
    field_errors,
)
from studio.api.parsers import JsonParser, check_length
from studio.api.schemas import ErrorMessage, ErrorsByField
from studio.errors import MESSAGES
from studio.security_headers import DOCS_CONTENT_SECURITY_POLICY

# The order a 405 lists the methods in.
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def method_not_allowed(allowed: Iterable[str]) -> HttpResponse:
    order = {method: rank for rank, method in enumerate(METHOD_ORDER)}
    methods = sorted(set(allowed), key=lambda m: (order.get(m, len(order)), m))
    response = error_response(405, f"Use {' or '.join(methods)}.")
    response["Allow"] = ", ".join(methods)
    return response


def _json_answers(pattern: URLPattern) -> URLPattern:
    """``pattern`` with ninja's plain-text 405 answered as JSON."""
    view = pattern.callback

    def translate(response: HttpResponse) -> HttpResponse:
        if isinstance(response, HttpResponseNotAllowed):
            allowed = [m.strip() for m in response["Allow"].split(",") if m.strip()]
            return method_not_allowed(allowed)
        return response

    if iscoroutinefunction(view):

        @functools.wraps(view)
        async def answered_async(request: HttpRequest, *args: Any, **kwargs: Any):
            return translate(await view(request, *args, **kwargs))

        callback: Callable[..., Any] = answered_async
    else:

        @functools.wraps(view)
        def answered(request: HttpRequest, *args: Any, **kwargs: Any):
            return translate(view(request, *args, **kwargs))

        callback = answered
    return URLPattern(pattern.pattern, callback, pattern.default_args, pattern.name)


class Docs(Swagger):
    """ninja's Swagger UI from its own static files, under a policy that lets
    its stylesheet's data: images show and nothing else in."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any):
        response = super().render_page(request, api, **kwargs)
        response["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response


def _json_ref(name: str, description: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{name}"}
    return {
        "description": description,
        "content": {"application/json": {"schema": ref}},
    }


class StudioSchema(OpenAPISchema):
    """ninja's document, with the studio's security scheme names and the
    error answers every route can give."""

    def operation_security(self, operation: Operation) -> list[dict[str, Any]] | None:
        if not operation.auth_callbacks:
            return None
        result = []
        for auth in operation.auth_callbacks:
            if hasattr(auth, "openapi_security_schema"):
                name = getattr(auth, "scheme_name", type(auth).__name__)
                result.append({name: []})
                self.securitySchemes[name] = auth.openapi_security_schema
        return result

    def responses(self, operation: Operation) -> dict[int, dict[str, Any]]:
        result = super().responses(operation)
        self.add_schema_definitions(
            {
                model.__name__: model.model_json_schema(
                    ref_template=REF_TEMPLATE, schema_generator=NinjaGenerateJsonSchema
                )
                for model in (ErrorMessage, ErrorsByField)
            }
        )
        sources = {model.__ninja_param_source__ for model in operation.models}
        if sources - {"path"}:
            result.setdefault(
                400, _json_ref("ErrorsByField", "Invalid input; messages per field.")
            )
        if operation.auth_callbacks:
            result.setdefault(
                401, _json_ref("ErrorMessage", "Log in or send an API token.")
            )
            if set(operation.methods) - set(SAFE_METHODS):
                result.setdefault(
                    403,
                    _json_ref("ErrorMessage", "CSRF check failed (session requests)."),
                )
        if "path" in sources:
            result.setdefault(
                404, _json_ref("ErrorMessage", "Nothing of yours by that name.")
            )
        if sources & {"body", "form", "file"}:
            result.setdefault(
                413, _json_ref("ErrorsByField", "The request body is too large.")
            )
        return result


class StudioAPI(NinjaAPI):
    """A NinjaAPI whose routers are named by import path and mounted when the
    URLs or the document are first asked for, so that an app's router module
    can import :mod:`studio.api` without an import cycle."""

    def __init__(self, *, routers: Iterable[str], **kwargs: Any) -> None:
        kwargs.setdefault("parser", JsonParser())
        kwargs.setdefault("docs", Docs(settings={"validatorUrl": None}))
        super().__init__(**kwargs)
        self.router_paths = tuple(routers)
        self._mounted = False

    def mount_routers(self) -> None:
        if self._mounted:
            return
        self._mounted = True
        for dotted in self.router_paths:
            module, _, name = dotted.rpartition(".")
            self.add_router("", getattr(import_module(module), name))

    @property
    def urls(self) -> tuple[list[Any], str, str]:
        self.mount_routers()
        patterns, app_name, namespace = super().urls
        patterns = [p for p in patterns if p.name != "api-root"]
        for pattern in list(patterns):
            if pattern.name == "openapi-json" and self.openapi_url != "/openapi.json":
                # Where other OpenAPI tools look first.
                patterns.append(
                    path("openapi.json", pattern.callback, name="openapi-file")
                )
        return [_json_answers(p) for p in patterns], app_name, namespace

    def get_root_path(self, path_params: dict[str, Any]) -> str:
        schema = reverse(f"{self.urls_namespace}:openapi-json", kwargs=path_params)
        return schema.removesuffix((self.openapi_url or "").lstrip("/"))

    def get_openapi_schema(
        self,
        *,
        path_prefix: str | None = None,
        path_params: dict[str, Any] | None = None,
    ) -> Any:
        self.mount_routers()
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        document = dict(StudioSchema(self, path_prefix))
        components = dict(document["components"])
        schemes = {auth.scheme_name: auth.openapi_security_schema for auth in self.auth}
        components["securitySchemes"] = schemes
        # Either way of authenticating opens every route.
        return {
            **document,
            "components": components,
            "security": [{name: []} for name in schemes],
        }

    def create_temporal_response(self, request: HttpRequest) -> HttpResponse:
        # Runs once per request after authentication and before any
        # parameter is read: where a body is refused unread.
        check_length(request)
        return super().create_temporal_response(request)

    def get_content_type(self) -> str:
        return "application/json"

    def set_default_exception_handlers(self) -> None:
        self.add_exception_handler(Exception, answer)

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext]
    ) -> Exception:  # type: ignore[override]
        errors: dict[str, list[str]] = {}
        for context in error_contexts:
            model = context.model
            if model.__ninja_param_source__ == "path":
                # A path that names nothing, like an unknown id.
                return ApiError(404, MESSAGES[404])
            single = getattr(model, "__read_from_single_attr__", None)
            reverse_map = getattr(model, "__ninja_flatten_map_reverse__", {})
            owner: Any = model
            found = []
            for error in context.pydantic_validation_error.errors(include_url=False):
                loc = tuple(reverse_map.get(error["loc"], error["loc"]))
                if single and loc[:1] == (single,):
                    loc = loc[1:]
                    owner = model.model_fields[single].annotation
                found.append({**error, "loc": loc})
            for key, messages in field_errors(found, owner).items():
                errors.setdefault(key, messages)
        return FieldErrors(errors)
