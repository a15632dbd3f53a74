from __future__ import annotations

from typing import TYPE_CHECKING

from azure_emulator import arm, catalogue
from azure_emulator.arm.common import respond
from azure_emulator.arm.models.marketplace import VERSION
from azure_emulator.clock import iso
from azure_emulator.errors import AzureError

if TYPE_CHECKING:
    from azure_emulator.routing import Call

# Bookkeeping kinds that are not Azure resources a leak check should see.
INTERNAL_KINDS = {"arm/operations", "catalogue/marketplaceVersions"}


def _body(call: Call) -> dict:
    body = call.json(invalid_code="InvalidRequestContent", required=False)
    if not isinstance(body, dict):
        raise AzureError("InvalidRequestContent", "The request body must be a JSON object.")
    return body


def _bad_request(exc: ValueError) -> AzureError:
    return AzureError("InvalidParameter", str(exc))


async def health(call: Call):
    return respond({"status": "ok", "now": iso(call.now), "speed": call.backend.clock.speed})


async def resources(call: Call):
    """Every live resource: kind, id and state, for leak checks."""
    wanted = call.query.get("kind")
    found = []
    for kind in call.backend.store.kinds():
        if kind in INTERNAL_KINDS or (wanted and kind != wanted):
            continue
        for key, _ in call.backend.store.items(kind):
            current = call.backend.view(kind, key)
            if current is None:
                continue
            props = current.get("properties", {})
            state = props.get("provisioningState") or current.get("state") or current.get("provisioningState")
            found.append({"kind": kind, "id": current.get("id") or key, "state": state})
    return respond({"value": found})


async def reset(call: Call):
    call.backend.reset()
    arm.seed(call.backend)
    return respond({"status": "reset"})


async def list_faults(call: Call):
    return respond({"value": call.backend.faults.rules()})


async def add_fault(call: Call):
    try:
        rule = call.backend.faults.add(_body(call))
    except ValueError as exc:
        raise _bad_request(exc) from None
    return respond(rule, 201)


async def clear_faults(call: Call):
    call.backend.faults.clear()
    return respond(None, 204)


async def remove_fault(call: Call):
    if not call.backend.faults.remove(call.params["fault"]):
        raise AzureError("NotFound", f"No fault with id '{call.params['fault']}'.")
    return respond(None, 204)


async def get_durations(call: Call):
    return respond(call.backend.durations.all())


async def patch_durations(call: Call):
    try:
        return respond(call.backend.durations.update(_body(call)))
    except ValueError as exc:
        raise _bad_request(exc) from None


async def reset_durations(call: Call):
    call.backend.durations.reset()
    return respond(call.backend.durations.all())


async def requests(call: Call):
    raw = call.query.get("since") or "0"
    if not raw.isdigit():
        raise AzureError("InvalidParameter", f"'since' must be a request id (a whole number), not '{raw}'.")
    since = int(raw)
    log = call.backend.requests
    return respond({"summary": log.summary(since), "value": log.entries(since)})


async def clock(call: Call):
    return respond({"now": call.now, "iso": iso(call.now), "speed": call.backend.clock.speed})


async def publish_marketplace_version(call: Call):
    """A new release of a Marketplace image (``{publisher, offer, sku, version}``); it becomes ``latest``."""
    body = _body(call)
    fields = [body.get(k) for k in ("publisher", "offer", "sku", "version")]
    if not all(isinstance(f, str) and f for f in fields):
        raise AzureError("InvalidParameter", "publisher, offer, sku and version are required strings.")
    if not VERSION.match(fields[3]):
        raise AzureError("InvalidParameter", f"Version '{fields[3]}' is not of the form Major.Minor.Build.")
    try:
        image = catalogue.publish_version(call.backend, *fields)
    except KeyError as exc:
        raise AzureError("InvalidParameter", str(exc.args[0])) from None
    return respond({k: image[k] for k in ("publisher", "offer", "sku", "versions")}, 201)
