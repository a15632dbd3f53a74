"""Snapshots: point-in-time copies of managed disks, the sources of managed images and image versions."""

from __future__ import annotations

import copy
import uuid

from azure_emulator import timeline
from azure_emulator.arm.common import check_same_location, provision, tracked
from azure_emulator.arm.models import disks
from azure_emulator.clock import iso
from azure_emulator.errors import AzureError, property_change_not_allowed

SNAPSHOTS = "arm/snapshots"
SKUS = {"Standard_LRS": "Standard", "Premium_LRS": "Premium", "Standard_ZRS": "Standard"}
# The JSON types of what a snapshot PUT is read for (see azure_emulator.shapes).
BODY = {
    "sku": {"name": str},
    "properties": {"creationData": {"createOption": str, "sourceResourceId": str}, "incremental": bool},
}
# What a snapshot inherits from the disk it copies.
INHERITED = ("osType", "hyperVGeneration", "securityProfile")


def put_snapshot(
    backend, snapshot_id: str, location: str, tags: dict, sku: dict | None, props: dict
) -> tuple[dict, bool, float, dict | None]:
    """Create or update a snapshot; returns (document, created, emulated duration, error the LRO ends with)."""
    creation = props.get("creationData") or {}
    if creation.get("createOption") != "Copy":
        raise AzureError(
            "InvalidParameter",
            f"The value '{creation.get('createOption')}' of parameter "
            "'creationData.createOption' is not supported for snapshots here. Supported values are: "
            "Copy.",
            target="createOption",
        )
    source = disks.copy_source(backend, creation.get("sourceResourceId"))
    sku_name = (sku or {}).get("name") or "Standard_LRS"
    if sku_name not in SKUS:
        raise AzureError(
            "InvalidParameter",
            f"The value '{sku_name}' of parameter 'sku.name' is not allowed. Allowed values are: {', '.join(SKUS)}.",
            target="sku.name",
        )
    duration = backend.durations["snapshot_create"]
    now = backend.now()
    existing = backend.settled(SNAPSHOTS, snapshot_id)
    if existing:
        check_same_location(existing, location)
        if existing["properties"]["creationData"]["sourceResourceId"].lower() != creation["sourceResourceId"].lower():
            raise property_change_not_allowed("sourceResourceId")
        existing["tags"] = tags
        existing["properties"]["provisioningState"] = "Updating"
        saved, error = provision(backend, SNAPSHOTS, snapshot_id, "snapshots", existing, now + duration)
        return saved, False, duration, error
    disk = source["properties"]
    incremental = bool(props.get("incremental", False))
    snapshot = {
        "creationData": {
            "createOption": "Copy",
            "sourceResourceId": creation["sourceResourceId"],
            "sourceUniqueId": disk["uniqueId"],
        },
        "diskSizeGB": disk["diskSizeGB"],
        "diskSizeBytes": disk["diskSizeGB"] * 1024**3,
        "uniqueId": str(uuid.uuid4()),
        "timeCreated": iso(now),
        "provisioningState": "Creating",
        "diskState": "Unattached",
        "incremental": incremental,
        "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
        # Copied: the disk's view shares its containers with the stored disk.
        **{field: copy.deepcopy(disk[field]) for field in INHERITED if disk.get(field)},
    }
    if incremental:
        # Incremental snapshots of one disk form a family named after the disk's lineage.
        snapshot["incrementalSnapshotFamilyId"] = disk["uniqueId"]
    doc = tracked(snapshot_id, "Microsoft.Compute/snapshots", location, tags, snapshot)
    doc["sku"] = {"name": sku_name, "tier": SKUS[sku_name]}
    saved, error = provision(backend, SNAPSHOTS, snapshot_id, "snapshots", doc, now + duration)
    return saved, True, duration, error


def delete_snapshot(backend, snapshot_id: str) -> float | None:
    """Schedule the deletion; None if there is no such snapshot."""
    doc = backend.settled(SNAPSHOTS, snapshot_id)
    if doc is None:
        return None
    duration = backend.durations["snapshot_delete"]
    doc["properties"]["provisioningState"] = "Deleting"
    timeline.cancel(doc, "properties.provisioningState")
    timeline.schedule(doc, backend.now() + duration, {timeline.DELETED: True})
    backend.save(SNAPSHOTS, snapshot_id, doc)
    return duration
