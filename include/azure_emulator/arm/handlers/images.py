"""Managed images: create (from snapshots, disks or a generalized VM), get, list, delete.

``$expand`` on GET is accepted: a managed image has nothing the emulator leaves out by default.
"""

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
from azure_emulator.arm.models import images as model

if TYPE_CHECKING:
    from azure_emulator.routing import Call

IMAGES = ComputeResource("images", "image", model.IMAGES, model.delete_image)


async def put(call: Call):
    api_version(call)
    resource_group(call)
    body = request_body(call, model.BODY)
    location = location_of(call.backend, body)
    doc, created, duration, error = model.put_image(
        call.backend, IMAGES.resource_id(call), location, tags(body), properties(body)
    )
    op = lro.begin(call, location=location, duration=duration, error=error)
    return respond(
        public(call.backend.view(model.IMAGES, doc["id"])),
        201 if created else 200,
        lro.headers(call, op, location=False),
    )


ROUTES = IMAGES.routes(put)
