"""Snapshots of managed disks: create (Copy), get, list, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from azure_emulator.arm import lro
from azure_emulator.arm.common import (
    api_version,
    location_of,
    properties,
    public,
    request_body,
    resource_group,
    respond,
    tags,
)
from azure_emulator.arm.handlers.toplevel import ComputeResource
from azure_emulator.arm.models import snapshots as model

if TYPE_CHECKING:
    from azure_emulator.routing import Call

SNAPSHOTS = ComputeResource("snapshots", "snapshot", model.SNAPSHOTS, model.delete_snapshot, family="DiskOperations")


async def put(call: Call):
    api_version(call)
    resource_group(call)
    body = request_body(call, model.BODY)
    location = location_of(call.backend, body)
    doc, created, duration, error = model.put_snapshot(
        call.backend, SNAPSHOTS.resource_id(call), location, tags(body), body.get("sku"), properties(body)
    )
    op = lro.begin(call, location=location, duration=duration, family="DiskOperations", error=error)
    # Snapshots answer 202 to a create (the SDK rejects 201 here) and 200 to an update.
    return respond(
        public(call.backend.view(model.SNAPSHOTS, doc["id"])),
        202 if created else 200,
        lro.headers(call, op, location=False),
    )


ROUTES = SNAPSHOTS.routes(put)
