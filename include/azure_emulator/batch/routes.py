"""The Batch URL table."""

from __future__ import annotations

from ..errors import AzureError
from ..routing import Router
from .handlers import jobs, nodes, pools, supportedimages

FAMILIES = (pools, nodes, jobs, supportedimages)


def _not_found(method: str, path: str) -> AzureError:
    return AzureError("InvalidUri", f"The requested URI does not represent any resource on the server: {path}")


def _not_allowed(method: str, path: str) -> AzureError:
    return AzureError("InvalidUri", f"The HTTP verb {method} is not supported for the URI {path}.")


def router() -> Router:
    r = Router(_not_found, _not_allowed)
    for family in FAMILIES:
        r.extend(family.ROUTES)
    return r
