"""Entra ID handlers: parse the OAuth2 form, answer with JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from starlette.responses import JSONResponse

from azure_emulator.entra import models

if TYPE_CHECKING:
    from azure_emulator.routing import Call


async def openid_configuration(call: Call) -> JSONResponse:
    tenant = models.known_tenant(call.backend, call.params["tenant"])
    return JSONResponse(models.openid_configuration(call.base_url, tenant))


async def keys(call: Call) -> JSONResponse:
    models.known_tenant(call.backend, call.params["tenant"])
    return JSONResponse(call.backend.tokens.jwks())


async def token(call: Call) -> JSONResponse:
    form = {k: v[0] for k, v in parse_qs(call.raw_body.decode("utf-8", "replace")).items()}
    models.known_tenant(call.backend, call.params["tenant"])
    # A client assertion's audience is the URL it was posted to.
    token_url = f"{call.base_url}{call.request.url.path}"
    return JSONResponse(
        models.client_credentials_token(call.backend, form, token_url), headers={"Cache-Control": "no-store"}
    )
