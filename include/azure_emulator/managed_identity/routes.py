from __future__ import annotations

from azure_emulator.errors import AzureError
from azure_emulator.managed_identity import handlers
from azure_emulator.routing import Router

ROUTES = [
    ("GET", r"/msi/token", handlers.token),
]


def _not_found(method: str, path: str) -> AzureError:
    return AzureError("NotFound", f"No managed identity operation at {method} {path}.")


def router() -> Router:
    r = Router(_not_found, _not_found)
    r.extend(ROUTES)
    return r
