"""Managed images: create (from snapshots, disks or a generalized VM), get, list, delete."""

from __future__ import annotations

from ...routing import NAME, Call
from .. import lro
from ..common import COMPUTE, SUB, api_version, compute_id, listing, location_of, not_found, properties, public, \
    request_body, resource_group, respond, tags
from ..models import images as model

IMAGE = rf"{COMPUTE}/images/(?P<image>{NAME})"


def _image_id(call: Call) -> str:
    return compute_id(call, "images", call.params["image"])


async def put(call: Call):
    api_version(call)
    resource_group(call)
    body = request_body(call, model.BODY)
    location = location_of(body)
    doc, created, duration, error = model.put_image(call.backend, _image_id(call), location, tags(body),
                                                    properties(body))
    op = lro.begin(call, location=location, duration=duration, error=error)
    return respond(public(call.backend.view(model.IMAGES, doc["id"])), 201 if created else 200,
                   lro.headers(call, op, location=False))


async def get(call: Call):
    # ``$expand`` is accepted: a managed image has nothing the emulator leaves out by default.
    api_version(call)
    found = call.backend.view(model.IMAGES, _image_id(call))
    if found is None:
        raise not_found("Microsoft.Compute/images", call.params["image"], call)
    return respond(public(found))


async def delete(call: Call):
    api_version(call)
    duration = model.delete_image(call.backend, _image_id(call))
    if duration is None:
        return respond(None, 204)
    op = lro.begin(call, location=call.backend.settings.location, duration=duration)
    return lro.accepted(call, op)


async def list_in_group(call: Call):
    api_version(call)
    resource_group(call)
    return listing(call.backend.views(model.IMAGES, compute_id(call, "images", "")))


async def list_in_subscription(call: Call):
    api_version(call)
    return listing(call.backend.views(model.IMAGES, f"/subscriptions/{call.params['subscription']}/"))


ROUTES = [
    ("PUT", IMAGE, put), ("GET", IMAGE, get), ("DELETE", IMAGE, delete),
    ("GET", rf"{COMPUTE}/images", list_in_group),
    ("GET", rf"{SUB}/providers/Microsoft\.Compute/images", list_in_subscription),
]
