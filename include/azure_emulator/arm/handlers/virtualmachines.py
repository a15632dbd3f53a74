"""Virtual machines: create or update, get (with instance view), list, power actions, generalize, delete."""

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
from azure_emulator.arm.models import virtualmachines as model, vmspec
from azure_emulator.routing import NAME, Call

VM = rf"{COMPUTE}/virtualMachines/(?P<vm>{NAME})"


def _vm_id(call: Call) -> str:
    return compute_id(call, "virtualMachines", call.params["vm"])


def _view(call: Call) -> dict:
    api_version(call)
    found = call.backend.view(model.VMS, _vm_id(call))
    if found is None:
        raise not_found(model.RESOURCE_TYPE, call.params["vm"], call)
    return found


def _document(call: Call, view: dict) -> dict:
    """The VM as GET returns it; ``$expand`` adds the instance view or the user data."""
    doc = public(view)
    expand = call.query.get("$expand", "").lower()
    # The view's properties are the stored ones (views are read-only): expanded fields go on a copy.
    if expand == "instanceview":
        doc["properties"] = dict(doc["properties"], instanceView=model.instance_view(view))
    elif expand == "userdata" and model.user_data(view) is not None:
        doc["properties"] = dict(doc["properties"], userData=model.user_data(view))
    return doc


def _flag(call: Call, name: str) -> bool:
    return call.query.get(name.lower(), "false").lower() == "true"


async def put(call: Call):
    api_version(call)
    resource_group(call)
    body = request_body(call, vmspec.BODY)
    location = location_of(call.backend, body)
    doc, created, duration, error = model.create_or_update(
        call.backend, _vm_id(call), location, tags(body), properties(body)
    )
    op = lro.begin(call, location=location, duration=duration, error=error)
    view = call.backend.view(model.VMS, doc["id"])
    return respond(public(view), 201 if created else 200, lro.headers(call, op, location=False))


async def get(call: Call):
    return respond(_document(call, _view(call)))


async def get_instance_view(call: Call):
    return respond(model.instance_view(_view(call)))


async def list_vms(call: Call):
    api_version(call)
    resource_group(call)
    return listing([_document(call, v) for v in call.backend.views(model.VMS, compute_id(call, "virtualMachines", ""))])


async def list_vms_in_subscription(call: Call):
    api_version(call)
    prefix = f"/subscriptions/{call.params['subscription']}/"
    return listing([_document(call, v) for v in call.backend.views(model.VMS, prefix)])


def _action(model_call):
    async def handler(call: Call):
        api_version(call)
        location, duration, error = model_call(call)
        op = lro.begin(call, location=location, duration=duration, error=error)
        return lro.accepted(call, op)

    return handler


async def generalize(call: Call):
    api_version(call)
    model.generalize(call.backend, _vm_id(call))
    return respond(None, 200)


async def delete(call: Call):
    api_version(call)
    # forceDeletion is accepted: the emulated delete already ends without a graceful guest shutdown.
    started = model.delete(call.backend, _vm_id(call))
    if started is None:
        return respond(None, 204)
    location, duration, error = started
    op = lro.begin(call, location=location, duration=duration, error=error)
    return lro.accepted(call, op)


ROUTES = [
    ("PUT", VM, put),
    ("GET", VM, get),
    ("DELETE", VM, delete),
    ("GET", rf"{VM}/instanceView", get_instance_view),
    ("GET", rf"{COMPUTE}/virtualMachines", list_vms),
    ("GET", rf"{SUB}/providers/Microsoft\.Compute/virtualMachines", list_vms_in_subscription),
    ("POST", rf"{VM}/deallocate", _action(lambda call: model.deallocate(call.backend, _vm_id(call)))),
    (
        "POST",
        rf"{VM}/powerOff",
        _action(lambda call: model.power_off(call.backend, _vm_id(call), _flag(call, "skipShutdown"))),
    ),
    ("POST", rf"{VM}/start", _action(lambda call: model.start(call.backend, _vm_id(call)))),
    ("POST", rf"{VM}/restart", _action(lambda call: model.restart(call.backend, _vm_id(call)))),
    ("POST", rf"{VM}/generalize", generalize),
]
