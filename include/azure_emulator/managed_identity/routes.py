from __future__ import annotations

from ..errors import AzureError
from ..routing import Router
from . import handlers

ROUTES = [
    ("GET", r"/msi/token", handlers.token),
]


def _not_found(method: str, path: str) -> AzureError:
    return AzureError("NotFound", f"No managed identity operation at {method} {path}.")


def router() -> Router:
    r = Router(_not_found, _not_found)
    r.extend(ROUTES)
    return r
