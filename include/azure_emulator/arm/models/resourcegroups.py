"""Resource groups: the containers every resource lives in; deleting one deletes its contents."""

from __future__ import annotations

from azure_emulator import timeline
from azure_emulator.arm.common import RESOURCE_GROUPS, rg_id
from azure_emulator.errors import AzureError

KIND = RESOURCE_GROUPS


def ensure_default(backend) -> None:
    s = backend.settings
    key = rg_id(s.subscription_id, s.resource_group)
    if backend.view(KIND, key) is None:
        create_or_update(backend, s.subscription_id, s.resource_group, s.location, {})


def create_or_update(backend, subscription: str, name: str, location: str, tags: dict) -> tuple[dict, bool]:
    key = rg_id(subscription, name)
    existing = backend.settled(KIND, key)
    if existing and existing["properties"]["provisioningState"] == "Deleting":
        raise AzureError(
            "ResourceGroupBeingDeleted",
            f"The resource group '{existing['name']}' is in deprovisioning state and cannot perform this operation.",
            status=409,
        )
    if existing and existing["location"] != location:
        raise AzureError(
            "InvalidResourceGroupLocation",
            f"Invalid resource group location '{location}'. The "
            f"Resource group already exists in location '{existing['location']}'.",
            status=409,
        )
    doc = existing or {
        "id": key,
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    }
    doc["tags"] = tags
    backend.save(KIND, key, doc)
    return doc, existing is None


def delete(backend, subscription: str, name: str, duration: float) -> bool:
    """Schedule the group and everything in it to disappear; False if there is no such group."""
    key = rg_id(subscription, name)
    doc = backend.settled(KIND, key)
    if doc is None:
        return False
    now = backend.now()
    prefix = key.lower() + "/"
    for kind in backend.store.kinds():
        for child_key, child in backend.store.items(kind, prefix):
            timeline.schedule(child, now + duration, {timeline.DELETED: True})
            backend.save(kind, child_key, child)
    doc["properties"]["provisioningState"] = "Deleting"
    timeline.schedule(doc, now + duration, {timeline.DELETED: True})
    backend.save(KIND, key, doc)
    return True
