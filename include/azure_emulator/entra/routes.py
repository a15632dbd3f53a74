from __future__ import annotations

from azure_emulator.entra import handlers
from azure_emulator.errors import AzureError
from azure_emulator.routing import NAME, Router

TENANT = rf"/(?P<tenant>{NAME})"

ROUTES = [
    ("GET", rf"{TENANT}/v2\.0/\.well-known/openid-configuration", handlers.openid_configuration),
    ("GET", rf"{TENANT}/\.well-known/openid-configuration", handlers.openid_configuration),
    ("GET", rf"{TENANT}/discovery/v2\.0/keys", handlers.keys),
    ("POST", rf"{TENANT}/oauth2/v2\.0/token", handlers.token),
]


def _not_found(method: str, path: str) -> AzureError:
    return AzureError(
        "invalid_request", f"AADSTS900561: The endpoint only accepts known requests ({method} {path}).", status=404
    )


def router() -> Router:
    r = Router(_not_found, _not_found)
    r.extend(ROUTES)
    return r
