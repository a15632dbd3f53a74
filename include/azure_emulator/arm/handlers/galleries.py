"""Galleries and gallery image definitions."""

from __future__ import annotations

from azure_emulator.arm import lro
from azure_emulator.arm.common import (
    COMPUTE,
    SUB,
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
from azure_emulator.arm.models import galleries as model
from azure_emulator.routing import NAME, Call

GALLERY = rf"{COMPUTE}/galleries/(?P<gallery>{NAME})"
IMAGE = rf"{GALLERY}/images/(?P<image>{NAME})"


def _gallery_id(call: Call) -> str:
    return compute_id(call, "galleries", call.params["gallery"])


def _image_id(call: Call) -> str:
    return compute_id(call, "galleries", call.params["gallery"], "images", call.params["image"])


async def put_gallery(call: Call):
    api_version(call)
    resource_group(call)
    body = request_body(call, model.GALLERY_BODY)
    location = location_of(call.backend, body)
    doc, created, duration = model.put_gallery(call.backend, _gallery_id(call), location, tags(body), properties(body))
    op = lro.begin(call, location=location, duration=duration, family="capsOperations")
    return respond(
        public(call.backend.view(model.GALLERIES, doc["id"])),
        201 if created else 200,
        lro.headers(call, op, location=False, hint=60),
    )


async def get_gallery(call: Call):
    api_version(call)
    found = call.backend.view(model.GALLERIES, _gallery_id(call))
    if found is None:
        raise not_found("Microsoft.Compute/galleries", call.params["gallery"], call)
    return respond(public(found))


async def delete_gallery(call: Call):
    api_version(call)
    duration = model.delete_gallery(call.backend, _gallery_id(call))
    if duration is None:
        return respond(None, 204)
    op = lro.begin(call, location=call.backend.settings.location, duration=duration, family="capsOperations")
    return lro.accepted(call, op, hint=60)


async def list_galleries(call: Call):
    api_version(call)
    resource_group(call)
    return listing(call.backend.views(model.GALLERIES, compute_id(call, "galleries", "")))


async def list_galleries_in_subscription(call: Call):
    api_version(call)
    return listing(call.backend.views(model.GALLERIES, f"/subscriptions/{call.params['subscription']}/"))


async def put_image(call: Call):
    api_version(call)
    resource_group(call)
    body = request_body(call, model.IMAGE_BODY)
    location = location_of(call.backend, body)
    doc, created, duration = model.put_image(
        call.backend, _gallery_id(call), _image_id(call), location, tags(body), properties(body)
    )
    op = lro.begin(call, location=location, duration=duration, family="capsOperations")
    return respond(
        public(call.backend.view(model.IMAGES, doc["id"])),
        201 if created else 200,
        lro.headers(call, op, location=False, hint=60),
    )


async def get_image(call: Call):
    api_version(call)
    found = call.backend.view(model.IMAGES, _image_id(call))
    if found is None:
        raise not_found("Microsoft.Compute/galleries/images", f"{call.params['gallery']}/{call.params['image']}", call)
    return respond(public(found))


async def delete_image(call: Call):
    api_version(call)
    duration = model.delete_image(call.backend, _image_id(call))
    if duration is None:
        return respond(None, 204)
    op = lro.begin(call, location=call.backend.settings.location, duration=duration, family="capsOperations")
    return lro.accepted(call, op, hint=60)


async def list_images(call: Call):
    api_version(call)
    if call.backend.view(model.GALLERIES, _gallery_id(call)) is None:
        raise not_found("Microsoft.Compute/galleries", call.params["gallery"], call)
    images = compute_id(call, "galleries", call.params["gallery"], "images", "")
    return listing(call.backend.views(model.IMAGES, images))


ROUTES = [
    ("PUT", GALLERY, put_gallery),
    ("GET", GALLERY, get_gallery),
    ("DELETE", GALLERY, delete_gallery),
    ("GET", rf"{COMPUTE}/galleries", list_galleries),
    ("GET", rf"{SUB}/providers/Microsoft\.Compute/galleries", list_galleries_in_subscription),
    ("PUT", IMAGE, put_image),
    ("GET", IMAGE, get_image),
    ("DELETE", IMAGE, delete_image),
    ("GET", rf"{GALLERY}/images", list_images),
]
