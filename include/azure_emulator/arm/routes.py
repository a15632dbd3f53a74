"""The ARM URL table: every family's routes, in one router."""

from __future__ import annotations

from azure_emulator.arm import lro
from azure_emulator.arm.handlers import (
    disks,
    galleries,
    galleryimageversions,
    images,
    marketplace,
    network,
    resourcegroups,
    snapshots,
    virtualmachines,
)
from azure_emulator.errors import AzureError
from azure_emulator.routing import Router

FAMILIES = (
    resourcegroups,
    galleries,
    galleryimageversions,
    virtualmachines,
    disks,
    snapshots,
    images,
    network,
    marketplace,
)


def _not_found(method: str, path: str) -> AzureError:
    return AzureError(
        "InvalidResourceType", f"The resource type could not be found for the request path '{path}'.", status=404
    )


def _not_allowed(method: str, path: str) -> AzureError:
    return AzureError(
        "HttpMethodNotAllowed", f"The HTTP method '{method}' is not supported for the request path '{path}'."
    )


def router() -> Router:
    r = Router(_not_found, _not_allowed)
    r.extend(lro.ROUTES)
    for family in FAMILIES:
        r.extend(family.ROUTES)
    return r
