"""Managed identity handlers: read the query and the identity header, answer with JSON."""

from __future__ import annotations

from starlette.responses import JSONResponse

from ..routing import Call
from . import models


async def token(call: Call) -> JSONResponse:
    return JSONResponse(models.token(call.backend, call.request.headers.get("x-identity-header"), call.query))
