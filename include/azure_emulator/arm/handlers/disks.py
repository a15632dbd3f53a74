"""Managed disks: create (Empty, Copy, FromImage), get, list, delete."""

from __future__ import annotations

from ...routing import Call
from .. import lro
from ..common import api_version, location_of, properties, public, request_body, resource_group, respond, tags
from ..models import disks as model
from .toplevel import ComputeResource

DISKS = ComputeResource("disks", "disk", model.DISKS, model.delete_disk, family="DiskOperations")


async def put(call: Call):
    api_version(call)
    resource_group(call)
    body = request_body(call, model.BODY)
    location = location_of(body)
    doc, created, duration = model.put_disk(call.backend, DISKS.resource_id(call), location, tags(body),
                                            body.get("sku"), properties(body))
    op = lro.begin(call, location=location, duration=duration, family="DiskOperations")
    # Disks answer 202 to a create (the SDK rejects 201 here) and 200 to an update.
    return respond(public(call.backend.view(model.DISKS, doc["id"])), 202 if created else 200,
                   lro.headers(call, op, location=False))


ROUTES = DISKS.routes(put)
