"""The ARM URL table: every family's routes, in one router."""

from __future__ import annotations

from azure_emulator.arm import lro
from azure_emulator.arm.common import api_version, resource_group
from azure_emulator.arm.handlers import (
    batchaccounts,
    disks,
    galleries,
    galleryimageversions,
    images,
    marketplace,
    metadata,
    network,
    resourcegroups,
    skus,
    snapshots,
    subscriptions,
    virtualmachines,
)
from azure_emulator.errors import AzureError
from azure_emulator.routing import Call, Handler, Router

FAMILIES = (
    subscriptions,
    metadata,
    resourcegroups,
    galleries,
    galleryimageversions,
    virtualmachines,
    disks,
    snapshots,
    images,
    network,
    marketplace,
    skus,
    batchaccounts,
)
# Served without a token, as ARM serves them.
UNAUTHENTICATED = {"/metadata/endpoints"}


def _not_found(method: str, path: str) -> AzureError:
    return AzureError(
        "InvalidResourceType", f"The resource type could not be found for the request path '{path}'.", status=404
    )


def _not_allowed(method: str, path: str) -> AzureError:
    return AzureError(
        "HttpMethodNotAllowed", f"The HTTP method '{method}' is not supported for the request path '{path}'."
    )


def _in_existing_group(handler: Handler) -> Handler:
    """ARM answers any operation inside a resource group that does not exist with 404 ResourceGroupNotFound,
    before the resource provider sees it (after checking the api-version).
    """

    async def checked(call: Call):
        api_version(call)
        resource_group(call)
        return await handler(call)

    return checked


def router() -> Router:
    r = Router(_not_found, _not_allowed)
    r.extend(lro.ROUTES)
    for family in FAMILIES:
        for method, pattern, handler in family.ROUTES:
            inside_group = "(?P<resource_group>" in pattern and family is not resourcegroups
            r.add(method, pattern, _in_existing_group(handler) if inside_group else handler)
    return r
