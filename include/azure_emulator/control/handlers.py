from __future__ import annotations

from typing import TYPE_CHECKING

from azure_emulator import arm, batchaccounts, catalogue, regions, shapes
from azure_emulator.arm.common import respond
from azure_emulator.arm.models.marketplace import VERSION
from azure_emulator.clock import iso
from azure_emulator.errors import AzureError

if TYPE_CHECKING:
    from azure_emulator.routing import Call

# Bookkeeping kinds that are not Azure resources a leak check should see (and the catalogue's variants).
INTERNAL_KINDS = {"arm/operations"}
CATALOGUE_PREFIX = "catalogue/"


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
        if kind in INTERNAL_KINDS or kind.startswith(CATALOGUE_PREFIX) or (wanted and kind != wanted):
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
    publisher, offer, sku, version = (str(f) for f in fields)
    if not VERSION.match(version):
        raise AzureError("InvalidParameter", f"Version '{version}' is not of the form Major.Minor.Build.")
    try:
        image = catalogue.publish_version(call.backend, publisher, offer, sku, version)
    except KeyError as exc:
        raise AzureError("InvalidParameter", str(exc.args[0])) from None
    return respond({k: image[k] for k in ("publisher", "offer", "sku", "versions")}, 201)


# --- catalogue variants: what tests and demos need Azure to say (a restricted size, a region without zones,
# a quota nearly used up, a Batch account that takes Entra ID only) ----------------------------------------

# The run-time variants DELETE /variants forgets (Marketplace versions stay: they are releases, not settings).
VARIANT_KINDS = (regions.VARIANTS, catalogue.SKU_VARIANTS, catalogue.USAGE_VARIANTS, batchaccounts.VARIANTS)


async def clear_variants(call: Call):
    for kind in VARIANT_KINDS:
        for key, _ in list(call.backend.store.items(kind)):
            call.backend.store.delete(kind, key)
    return respond(None, 204)


REGION_FIELDS = {
    "display_name": str,
    "geography_group": str,
    "geography": str,
    "physical_location": str,
    "paired": str,
    "zones": bool,
    "recommended": bool,
    "restricted": bool,
}
SKU_FIELDS = {
    "offered": bool,
    "restricted": bool,
    "restricted_zones": [str],
    "zones": [str],
    "capabilities": {str: str},
}
USAGE_FIELDS = {"limit": int, "used": int}


def _variant(call: Call, fields: dict) -> dict:
    """The request body: some of ``fields``, each of its JSON type, or a 400 naming the problem."""
    body = _body(call)
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise AzureError(
            "InvalidParameter", f"Unknown field(s) {', '.join(unknown)}; the fields are {', '.join(fields)}."
        )
    empty = [k for k, v in body.items() if v is None]
    if empty:
        raise AzureError("InvalidParameter", f"'{empty[0]}' must not be null.")
    found = shapes.mismatch(body, fields)
    if found:
        raise AzureError("InvalidParameter", f"'{found.path}' must be a JSON {found.expected}.")
    return body


def _region(call: Call) -> regions.Region:
    region = regions.find(call.backend, call.params["location"])
    if region is None or region.logical:
        raise AzureError("InvalidParameter", f"No physical region '{call.params['location']}' in this cloud.")
    return region


async def put_region(call: Call):
    """Add a region (``display_name`` required) or change one, e.g. ``{"zones": false}``."""
    changes = _variant(call, REGION_FIELDS)
    existing = regions.find(call.backend, call.params["location"])
    if existing is None and not changes.get("display_name"):
        raise AzureError("InvalidParameter", "A new region needs a display_name (e.g. 'Atlantis Central').")
    if existing is not None and existing.logical:
        raise AzureError("InvalidParameter", f"'{existing.name}' is a logical region: it holds no resources.")
    return respond(regions.set_variant(call.backend, call.params["location"], changes).to_dict())


async def put_sku(call: Call):
    """Change what Resource SKUs says of a VM size in a region (offered, restricted, its zones, capabilities)."""
    changes = _variant(call, SKU_FIELDS)
    region = _region(call)
    size = catalogue.VM_SIZES.get(call.params["name"].lower())
    if size is None:
        raise AzureError("InvalidParameter", f"No VM size '{call.params['name']}' in the catalogue.")
    catalogue.set_sku_variant(call.backend, region.name, size.name.lower(), changes)
    return respond(catalogue.sku_document(call.backend, size, region) or {"name": size.name, "offered": False})


async def put_usage(call: Call):
    """Set a quota's limit, or cores in use beyond the emulator's own VMs, in a region."""
    changes = _variant(call, USAGE_FIELDS)
    region = _region(call)
    catalogue.set_usage_variant(call.backend, region.name, call.params["name"], changes)
    found = catalogue.usages(call.backend, region.name, [])
    return respond(next((u for u in found if u["name"]["value"].lower() == call.params["name"].lower()), changes))


async def put_batch_account(call: Call):
    """Change a Batch account's settings (quotas, authentication modes) or add an account (with a location)."""
    changes = _variant(call, batchaccounts.SETTABLE)
    if "location" in changes and regions.normalize(call.backend, changes["location"]) is None:
        raise AzureError("InvalidParameter", f"No physical region '{changes['location']}' in this cloud.")
    try:
        account, created = batchaccounts.put(call.backend, call.params["account"], changes)
    except ValueError as exc:
        raise _bad_request(exc) from None
    public = {k: v for k, v in account.__dict__.items() if k != "key"}
    return respond(public, 201 if created else 200)
