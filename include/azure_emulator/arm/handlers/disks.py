"""Managed disks: create (Empty, Copy, FromImage), get, list, delete."""

from __future__ import annotations

from ...routing import NAME, Call
from .. import lro
from ..common import COMPUTE, SUB, api_version, compute_id, listing, location_of, not_found, properties, public, \
    request_body, resource_group, respond, tags
from ..models import disks as model

DISK = rf"{COMPUTE}/disks/(?P<disk>{NAME})"


def _disk_id(call: Call) -> str:
    return compute_id(call, "disks", call.params["disk"])


async def put(call: Call):
    api_version(call)
    resource_group(call)
    body = request_body(call, model.BODY)
    location = location_of(body)
    doc, created, duration = model.put_disk(call.backend, _disk_id(call), location, tags(body), body.get("sku"),
                                            properties(body))
    op = lro.begin(call, location=location, duration=duration, family="DiskOperations")
    # Disks answer 202 to a create (the SDK rejects 201 here) and 200 to an update.
    return respond(public(call.backend.view(model.DISKS, doc["id"])), 202 if created else 200,
                   lro.headers(call, op, location=False))


async def get(call: Call):
    api_version(call)
    found = call.backend.view(model.DISKS, _disk_id(call))
    if found is None:
        raise not_found("Microsoft.Compute/disks", call.params["disk"], call)
    return respond(public(found))


async def delete(call: Call):
    api_version(call)
    duration = model.delete_disk(call.backend, _disk_id(call))
    if duration is None:
        return respond(None, 204)
    op = lro.begin(call, location=call.backend.settings.location, duration=duration, family="DiskOperations")
    return lro.accepted(call, op)


async def list_in_group(call: Call):
    api_version(call)
    resource_group(call)
    return listing(call.backend.views(model.DISKS, compute_id(call, "disks", "")))


async def list_in_subscription(call: Call):
    api_version(call)
    return listing(call.backend.views(model.DISKS, f"/subscriptions/{call.params['subscription']}/"))


ROUTES = [
    ("PUT", DISK, put), ("GET", DISK, get), ("DELETE", DISK, delete),
    ("GET", rf"{COMPUTE}/disks", list_in_group),
    ("GET", rf"{SUB}/providers/Microsoft\.Compute/disks", list_in_subscription),
]
