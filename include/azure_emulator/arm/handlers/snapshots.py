"""Snapshots of managed disks: create (Copy), get, list, delete."""

from __future__ import annotations

from ...routing import NAME, Call
from .. import lro
from ..common import COMPUTE, SUB, api_version, compute_id, listing, location_of, not_found, properties, public, \
    request_body, resource_group, respond, tags
from ..models import snapshots as model

SNAPSHOT = rf"{COMPUTE}/snapshots/(?P<snapshot>{NAME})"


def _snapshot_id(call: Call) -> str:
    return compute_id(call, "snapshots", call.params["snapshot"])


async def put(call: Call):
    api_version(call)
    resource_group(call)
    body = request_body(call, model.BODY)
    location = location_of(body)
    doc, created, duration, error = model.put_snapshot(call.backend, _snapshot_id(call), location, tags(body),
                                                       body.get("sku"), properties(body))
    op = lro.begin(call, location=location, duration=duration, family="DiskOperations", error=error)
    # Snapshots answer 202 to a create (the SDK rejects 201 here) and 200 to an update.
    return respond(public(call.backend.view(model.SNAPSHOTS, doc["id"])), 202 if created else 200,
                   lro.headers(call, op, location=False))


async def get(call: Call):
    api_version(call)
    found = call.backend.view(model.SNAPSHOTS, _snapshot_id(call))
    if found is None:
        raise not_found("Microsoft.Compute/snapshots", call.params["snapshot"], call)
    return respond(public(found))


async def delete(call: Call):
    api_version(call)
    duration = model.delete_snapshot(call.backend, _snapshot_id(call))
    if duration is None:
        return respond(None, 204)
    op = lro.begin(call, location=call.backend.settings.location, duration=duration, family="DiskOperations")
    return lro.accepted(call, op)


async def list_in_group(call: Call):
    api_version(call)
    resource_group(call)
    return listing(call.backend.views(model.SNAPSHOTS, compute_id(call, "snapshots", "")))


async def list_in_subscription(call: Call):
    api_version(call)
    return listing(call.backend.views(model.SNAPSHOTS, f"/subscriptions/{call.params['subscription']}/"))


ROUTES = [
    ("PUT", SNAPSHOT, put), ("GET", SNAPSHOT, get), ("DELETE", SNAPSHOT, delete),
    ("GET", rf"{COMPUTE}/snapshots", list_in_group),
    ("GET", rf"{SUB}/providers/Microsoft\.Compute/snapshots", list_in_subscription),
]
