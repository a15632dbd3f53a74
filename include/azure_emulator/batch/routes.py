"""The Batch URL table."""

from __future__ import annotations

from azure_emulator.batch.handlers import jobs, nodes, pools, supportedimages
from azure_emulator.batch.handlers.common import api_version
from azure_emulator.errors import AzureError
from azure_emulator.routing import Call, Handler, Router

FAMILIES = (pools, nodes, jobs, supportedimages)


def _not_found(method: str, path: str) -> AzureError:
    return AzureError("InvalidUri", f"The requested URI does not represent any resource on the server: {path}")


def _not_allowed(method: str, path: str) -> AzureError:
    return AzureError("UnsupportedHttpVerb", "The resource doesn't support the specified HTTP verb.")


def _versioned(handler: Handler) -> Handler:
    """Every Batch operation takes the api-version query parameter: checked before the operation runs."""

    async def checked(call: Call):
        api_version(call)
        return await handler(call)

    return checked


def router() -> Router:
    r = Router(_not_found, _not_allowed)
    for family in FAMILIES:
        r.extend([(method, pattern, _versioned(handler)) for method, pattern, handler in family.ROUTES])
    return r
