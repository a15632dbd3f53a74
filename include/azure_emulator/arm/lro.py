"""ARM long-running operations, shaped for the Python SDK's ARMPolling.

An operation is a stored document whose ``status`` turns terminal at a scheduled instant; the
model that started it schedules the resource's own changes for the same instant. Responses carry
``Azure-AsyncOperation`` (polled for ``status``), ``Location`` (``?monitor=true``: 202 while
running, then the final result) and a Retry-After that never points past the expected end.
"""

from __future__ import annotations

import uuid

from azure_emulator import timeline
from azure_emulator.arm.common import SUB, api_version, respond
from azure_emulator.clock import iso
from azure_emulator.errors import STATUS, AzureError
from azure_emulator.routing import NAME, Call

OPERATIONS = "arm/operations"

ROUTE = (
    rf"{SUB}/providers/(?P<namespace>Microsoft\.Compute|Microsoft\.Network)/locations/(?P<location>{NAME})/"
    rf"(?P<family>operations|capsOperations|DiskOperations)/(?P<operation>{NAME})"
)
# Where ARM itself reports its own operations (a resource group's deletion).
ARM_ROUTE = rf"{SUB}/operationresults/(?P<operation>{NAME})"
ARM_FAMILY = "operationresults"


def begin(
    call: Call,
    *,
    location: str,
    duration: float,
    family: str = "operations",
    namespace: str = "Microsoft.Compute",
    error: dict | None = None,
    result: dict | None = None,
) -> dict:
    """Start an operation that ends ``duration`` emulated seconds from now, failed with ``error`` if given.

    Its status is served where the resource provider (``namespace``) serves it, under ``family``; the family
    :data:`ARM_FAMILY` is ARM's own (``/subscriptions/{id}/operationresults/{operation}``).
    """
    now = call.now
    op_id = str(uuid.uuid4())
    op = {
        "name": op_id,
        "status": "InProgress",
        "startTime": iso(now),
        "_family": family,
        "_namespace": namespace,
        "_location": location,
        "_subscription": call.params["subscription"],
        "_api_version": api_version(call),
        "_done_at": now + duration,
    }
    end: dict = {"status": "Failed" if error else "Succeeded", "endTime": iso(now + duration)}
    if error:
        end["error"] = error
    elif result is not None:
        end["properties"] = result
    timeline.schedule(op, now + duration, end)
    call.backend.save(OPERATIONS, op_id, op)
    return op


def status_url(call: Call, op: dict, *, monitor: bool = False) -> str:
    if op["_family"] == ARM_FAMILY:
        # ARM's own operation results are polled at one URL, without a monitor flag.
        url = f"{call.base_url}/subscriptions/{op['_subscription']}/{ARM_FAMILY}/{op['name']}?"
        monitor = False
    else:
        url = (
            f"{call.base_url}/subscriptions/{op['_subscription']}/providers/{op.get('_namespace', 'Microsoft.Compute')}"
            f"/locations/{op['_location']}/{op['_family']}/{op['name']}?"
        )
    return url + ("monitor=true&" if monitor else "") + f"api-version={op['_api_version']}"


def headers(call: Call, op: dict, *, location: bool, hint: float = 10.0) -> dict[str, str]:
    """Headers of a response that started ``op``: Azure-AsyncOperation, optionally Location, Retry-After."""
    found = {"Azure-AsyncOperation": status_url(call, op)}
    if location:
        found["Location"] = status_url(call, op, monitor=True)
    found.update(call.backend.retry_after(op["_done_at"] - call.now, hint))
    return found


def accepted(call: Call, op: dict, hint: float = 10.0):
    """The 202 Accepted that POST actions and DELETE answer with."""
    return respond(None, 202, headers(call, op, location=True, hint=hint))


async def status(call: Call):
    op = call.backend.view(OPERATIONS, call.params["operation"])
    if op is None:
        raise AzureError("NotFound", f"The operation '{call.params['operation']}' was not found.")
    running = op["status"] == "InProgress"
    retry = call.backend.retry_after(op["_done_at"] - call.now)
    if call.query.get("monitor") == "true" or op["_family"] == ARM_FAMILY:
        if running:
            return respond(None, 202, {"Location": status_url(call, op, monitor=True), **retry})
        if op["status"] == "Failed":
            error = op["error"]
            raise AzureError(error["code"], error["message"], status=STATUS.get(error["code"], 400))
        return respond(None, 200)
    body = {k: v for k, v in op.items() if not k.startswith("_")}
    return respond(body, 200, retry if running else None)


ROUTES = [("GET", ROUTE, status), ("GET", ARM_ROUTE, status)]
