from __future__ import annotations

from azure_emulator.arm import lro
from azure_emulator.arm.common import SUB, api_version, listing, location_of, public, respond, rg_id, tags
from azure_emulator.arm.models import resourcegroups as model
from azure_emulator.errors import AzureError
from azure_emulator.routing import NAME, Call

GROUP = rf"{SUB}/resourcegroups/(?P<resource_group>{NAME})"


def _missing(call: Call) -> AzureError:
    return AzureError("ResourceGroupNotFound", f"Resource group '{call.params['resource_group']}' could not be found.")


async def put(call: Call):
    api_version(call)
    body = call.json(invalid_code="InvalidRequestContent")
    doc, created = model.create_or_update(
        call.backend,
        call.params["subscription"],
        call.params["resource_group"],
        location_of(call.backend, body),
        tags(body),
    )
    return respond(public(doc), 201 if created else 200)


async def get(call: Call):
    api_version(call)
    doc = call.backend.view(model.KIND, rg_id(call.params["subscription"], call.params["resource_group"]))
    if doc is None:
        raise _missing(call)
    return respond(public(doc))


async def head(call: Call):
    api_version(call)
    exists = call.backend.view(model.KIND, rg_id(call.params["subscription"], call.params["resource_group"]))
    return respond(None, 204 if exists else 404)


async def delete(call: Call):
    api_version(call)
    backend = call.backend
    if not model.delete(
        backend, call.params["subscription"], call.params["resource_group"], backend.durations["vm_delete"]
    ):
        raise _missing(call)
    op = lro.begin(
        call, location=backend.settings.location, duration=backend.durations["vm_delete"], family=lro.ARM_FAMILY
    )
    return respond(
        None,
        202,
        {"Location": lro.status_url(call, op, monitor=True), **backend.retry_after(backend.durations["vm_delete"], 15)},
    )


async def list_groups(call: Call):
    api_version(call)
    return listing(call.backend.views(model.KIND, f"/subscriptions/{call.params['subscription']}/"))


ROUTES = [
    ("PUT", GROUP, put),
    ("GET", GROUP, get),
    ("HEAD", GROUP, head),
    ("DELETE", GROUP, delete),
    ("GET", rf"{SUB}/resourcegroups", list_groups),
]
