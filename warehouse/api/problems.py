"""Errors as RFC 9457 problem details: a plain title and detail, never a host, SQL or trace.

Every error the API answers (401, 403, 404, 422, 503, 500) is `application/problem+json`
with `type`, `title`, `status` and `detail`; what an operator needs to mend it goes to the
server log instead.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from streams.crosstab_publication import OutOfStep
from warehouse.connection import WarehouseUnavailable

log = logging.getLogger("hub.api")

MEDIA_TYPE = "application/problem+json"
UNAVAILABLE = "The hub's data store is not available at the moment; try again later."
REBUILDING = "The hub's figures are being rebuilt at the moment; try again shortly."


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field("about:blank", description="A URI naming the kind of problem.")
    title: str = Field(description="The HTTP status phrase.")
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="What went wrong, in plain words.")
    errors: list[dict[str, str]] | None = Field(
        None, description="For 422: each parameter refused and why."
    )


def problem(
    status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    body |= {"detail": detail, **extra}
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses, as problem details."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
        }
        for status in statuses
    }


def as_problems_in(schema: dict[str, Any]) -> dict[str, Any]:
    """Document every error answer of an OpenAPI schema as `application/problem+json`."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status.isdigit() and int(status) >= 400 and "application/json" in content:
                    response["content"] = {MEDIA_TYPE: content["application/json"]}
    return schema


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    return problem(error.status_code, detail, dict(error.headers or {}))


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    refused = [
        {
            "parameter": ".".join(str(part) for part in item.get("loc", ()) if part != "body")
            or "body",
            "reason": str(item.get("msg", "not valid")),
        }
        for item in error.errors()
    ]
    detail = "; ".join(f"{item['parameter']}: {item['reason']}" for item in refused)
    return problem(422, detail or "the request is not valid", errors=refused)


async def _warehouse_unavailable(request: Request, error: Exception) -> JSONResponse:
    log.warning("%s %s: %s", request.method, request.url.path, error)
    return problem(503, UNAVAILABLE)


async def _out_of_step(request: Request, error: Exception) -> JSONResponse:
    log.warning("%s %s: %s", request.method, request.url.path, error)
    return problem(503, REBUILDING)


async def _internal_error(request: Request, error: Exception) -> JSONResponse:
    log.error("%s %s failed: %s", request.method, request.url.path, type(error).__name__)
    return problem(500, "The hub could not answer this request; the error is in its log.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(WarehouseUnavailable, _warehouse_unavailable)
    app.add_exception_handler(OutOfStep, _out_of_step)
    app.add_exception_handler(Exception, _internal_error)
