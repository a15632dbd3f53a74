"""Managed identity handlers: read the query and the identity header, answer with JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import JSONResponse

from azure_emulator.managed_identity import models

if TYPE_CHECKING:
    from azure_emulator.routing import Call


async def token(call: Call) -> JSONResponse:
    return JSONResponse(models.token(call.backend, call.request.headers.get("x-identity-header"), call.query))
