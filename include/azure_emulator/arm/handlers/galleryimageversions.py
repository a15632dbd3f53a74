"""Gallery image versions: create, update (target regions, replicas), get with replication status,
list, delete.
"""

from __future__ import annotations

from azure_emulator.arm import lro
from azure_emulator.arm.common import (
    api_version,
    compute_id,
    listing,
    location_of,
    not_found,
    properties,
    public,
    request_body,
    resource_group,
    respond,
    tags,
)
from azure_emulator.arm.handlers.galleries import IMAGE
from azure_emulator.arm.models import galleryimageversions as model
from azure_emulator.errors import AzureError
from azure_emulator.routing import NAME, Call

VERSION = rf"{IMAGE}/versions/(?P<version>{NAME})"
EXPANDS = {"replicationstatus": True, "uefisettings": False}


def _definition_id(call: Call) -> str:
    return compute_id(call, "galleries", call.params["gallery"], "images", call.params["image"])


def _version_id(call: Call) -> str:
    return f"{_definition_id(call)}/versions/{call.params['version']}"


def _missing(call: Call) -> AzureError:
    p = call.params
    return not_found("Microsoft.Compute/galleries/images/versions", f"{p['gallery']}/{p['image']}/{p['version']}", call)


def _started(call: Call, doc: dict, status: int, duration: float, error: dict | None):
    op = lro.begin(call, location=doc["location"], duration=duration, family="capsOperations", error=error)
    return respond(
        public(call.backend.view(model.VERSIONS, doc["id"])), status, lro.headers(call, op, location=False, hint=60)
    )


async def put(call: Call):
    api_version(call)
    resource_group(call)
    body = request_body(call, model.BODY)
    doc, created, duration, error = model.put_version(
        call.backend, _version_id(call), location_of(call.backend, body), tags(body), properties(body)
    )
    return _started(call, doc, 201 if created else 200, duration, error)


async def patch(call: Call):
    api_version(call)
    body = request_body(call, model.UPDATE_BODY)
    # Tags left out (or null) are kept; given, they replace the version's tags.
    updated = model.update_version(
        call.backend, _version_id(call), None if body.get("tags") is None else tags(body), properties(body)
    )
    if updated is None:
        raise _missing(call)
    doc, duration, error = updated
    # The SDK accepts only 200 for this PATCH: a 202 would raise.
    return _started(call, doc, 200, duration, error)


async def get(call: Call):
    api_version(call)
    expand = call.query.get("$expand")
    if expand is not None and expand.lower() not in EXPANDS:
        raise AzureError(
            "InvalidParameter",
            f"The value '{expand}' of parameter '$expand' is not allowed. Allowed "
            "values are: ReplicationStatus, UefiSettings.",
            target="$expand",
        )
    found = model.get_version(call.backend, _version_id(call), EXPANDS.get((expand or "").lower(), False))
    if found is None:
        raise _missing(call)
    return respond(public(found))


async def delete(call: Call):
    api_version(call)
    duration = model.delete_version(call.backend, _version_id(call))
    if duration is None:
        return respond(None, 204)
    op = lro.begin(call, location=call.backend.settings.location, duration=duration, family="capsOperations")
    return lro.accepted(call, op, hint=60)


async def list_versions(call: Call):
    api_version(call)
    definition_id = _definition_id(call)
    if call.backend.view(model.DEFINITIONS, definition_id) is None:
        raise not_found("Microsoft.Compute/galleries/images", f"{call.params['gallery']}/{call.params['image']}", call)
    return listing(model.list_versions(call.backend, definition_id))


ROUTES = [
    ("PUT", VERSION, put),
    ("PATCH", VERSION, patch),
    ("GET", VERSION, get),
    ("DELETE", VERSION, delete),
    ("GET", rf"{IMAGE}/versions", list_versions),
]
