"""Pools: add, get, exists, list, update, replace properties, resize, stop resize, delete."""

from __future__ import annotations

from azure_emulator.batch.handlers import timespan
from azure_emulator.batch.handlers.common import (
    ACCOUNT,
    account,
    account_url,
    body,
    changed_headers,
    created,
    entity,
    listing,
    public,
    resource_headers,
    respond,
    shared_key,
)
from azure_emulator.batch.models import contracts, pools as model
from azure_emulator.routing import NAME, Call

POOLS = rf"{ACCOUNT}/pools"
POOL = rf"{POOLS}/(?P<pool>{NAME})"
DURATIONS = ("resizeTimeout", "autoScaleEvaluationInterval")


def pool_url(call: Call, pool_id: str) -> str:
    return f"{account_url(call)}/pools/{pool_id}"


def serialize(call: Call, doc: dict) -> dict:
    out = public(doc)
    out["url"] = pool_url(call, doc["id"])
    for prop in DURATIONS:
        if prop in out:
            out[prop] = timespan.format(out[prop])
    return out


def _changed(call: Call) -> dict[str, str]:
    """The headers of an answer that changed the request's pool."""
    doc = model.get(call.backend, account(call), call.params["pool"])
    return changed_headers(doc, pool_url(call, doc["id"]))


def _with_seconds(spec: dict) -> dict:
    return {**spec, **{prop: timespan.parse(spec.get(prop), prop) for prop in DURATIONS if prop in spec}}


async def create_pool(call: Call):
    doc = model.create(
        call.backend,
        account(call),
        _with_seconds(body(call, model.BODY, contracts.POOL_ADD)),
        shared_key=shared_key(call),
    )
    return created(doc, pool_url(call, doc["id"]))


async def get_pool(call: Call):
    doc = model.get(call.backend, account(call), call.params["pool"])
    return entity(call, serialize(call, doc), "pools", resource_headers(doc))


async def pool_exists(call: Call):
    doc = model.get(call.backend, account(call), call.params["pool"])
    return respond(None, 200, resource_headers(doc))


async def list_pools(call: Call):
    return listing(call, [serialize(call, doc) for doc in model.listing(call.backend, account(call))], "pools")


async def update_pool(call: Call):
    spec = body(call, model.BODY, contracts.POOL_PATCH)
    model.update(call.backend, account(call), call.params["pool"], spec, shared_key=shared_key(call))
    return respond(None, 200, _changed(call))


async def replace_pool_properties(call: Call):
    spec = body(call, model.BODY, contracts.POOL_UPDATE_PROPERTIES)
    model.replace_properties(
        call.backend,
        account(call),
        call.params["pool"],
        start_task=spec.get("startTask"),
        packages=spec.get("applicationPackageReferences") or [],
        metadata=spec.get("metadata") or [],
    )
    return respond(None, 204, _changed(call))


async def resize_pool(call: Call):
    spec = body(call, model.RESIZE, contracts.POOL_RESIZE)
    model.resize(
        call.backend,
        account(call),
        call.params["pool"],
        dedicated=spec.get("targetDedicatedNodes"),
        low_priority=spec.get("targetLowPriorityNodes"),
        timeout=timespan.parse(spec.get("resizeTimeout"), "resizeTimeout"),
        option=spec.get("nodeDeallocationOption"),
    )
    return respond(None, 202, _changed(call))


async def stop_pool_resize(call: Call):
    model.stop_resize(call.backend, account(call), call.params["pool"])
    return respond(None, 202, _changed(call))


async def delete_pool(call: Call):
    model.delete(call.backend, account(call), call.params["pool"])
    return respond(None, 202)


ROUTES = [
    ("POST", POOLS, create_pool),
    ("GET", POOLS, list_pools),
    ("GET", POOL, get_pool),
    ("HEAD", POOL, pool_exists),
    ("PATCH", POOL, update_pool),
    ("DELETE", POOL, delete_pool),
    ("POST", rf"{POOL}/updateproperties", replace_pool_properties),
    ("POST", rf"{POOL}/resize", resize_pool),
    ("POST", rf"{POOL}/stopresize", stop_pool_resize),
]
