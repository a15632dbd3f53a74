"""ARM's cloud metadata endpoint (``GET /metadata/endpoints``): where a client, the Azure CLI's
``az cloud register --endpoint-resource-manager`` first of all, learns a cloud's endpoints. Served without
authentication, as ARM serves it.

Three shapes, by api-version: 2022-09-01 answers the cloud behind this Resource Manager (one object, what
``az cloud register`` reads); 2019-05-01 the list of clouds (here the one emulated); 2015-01-01 the legacy
shape older clients read. The login endpoint and Resource Manager are the emulator's own; the other
services' endpoints and suffixes are the played cloud's (not served here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from azure_emulator.arm.common import respond
from azure_emulator.errors import AzureError

if TYPE_CHECKING:
    from azure_emulator.routing import Call

SINGLE, LISTED, LEGACY = "2022-09-01", "2019-05-01", "2015-01-01"
VERSIONS = (SINGLE, LISTED, LEGACY)


def cloud_document(call: Call) -> dict:
    cloud = call.backend.cloud
    return {
        "portal": cloud.portal,
        "authentication": {
            "loginEndpoint": call.base_url,
            "audiences": [cloud.management, cloud.resource_manager],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "graphAudience": cloud.graph,
        "graph": cloud.graph,
        "name": cloud.metadata_name,
        "suffixes": dict(cloud.suffixes),
        "batch": cloud.batch,
        "resourceManager": f"{call.base_url}/",
        "microsoftGraphResourceId": cloud.microsoft_graph,
    }


async def endpoints(call: Call):
    version = call.query.get("api-version")
    if not version:
        raise AzureError(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if version == SINGLE:
        return respond(cloud_document(call))
    if version == LISTED:
        return respond([cloud_document(call)])
    if version == LEGACY:
        cloud = call.backend.cloud
        return respond(
            {
                "galleryEndpoint": "",
                "graphEndpoint": cloud.graph,
                "portalEndpoint": cloud.portal,
                "authentication": {
                    "loginEndpoint": call.base_url,
                    "audiences": [cloud.management, cloud.resource_manager],
                },
            }
        )
    raise AzureError(
        "InvalidApiVersionParameter",
        f"The api-version '{version}' is invalid. The supported versions are '{','.join(VERSIONS)}'.",
    )


ROUTES = [("GET", r"/metadata/endpoints", endpoints)]
