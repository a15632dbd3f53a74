"""Managed disks: made by VM creation (OS and data disks) or directly; the source of snapshots."""

from __future__ import annotations

import uuid

from ... import timeline
from ...clock import iso
from ..common import tracked

DISKS = "arm/disks"
STORAGE_TIERS = {"Standard_LRS": "Standard", "StandardSSD_LRS": "Standard", "Premium_LRS": "Premium",
                 "StandardSSD_ZRS": "Standard", "Premium_ZRS": "Premium", "PremiumV2_LRS": "Premium",
                 "UltraSSD_LRS": "Ultra"}


def new_disk(backend, disk_id: str, *, location: str, size_gb: int, sku: str = "Standard_LRS",
             creation_data: dict, os_type: str | None = None, hyper_v_generation: str | None = None,
             security_type: str | None = None, managed_by: str | None = None, tags: dict | None = None,
             ready_in: float = 0.0) -> dict:
    """Store a disk that reaches provisioningState Succeeded ``ready_in`` emulated seconds from now."""
    now = backend.now()
    props = {
        "creationData": creation_data,
        "diskSizeGB": size_gb,
        "diskSizeBytes": size_gb * 1024 ** 3,
        "uniqueId": str(uuid.uuid4()),
        "timeCreated": iso(now),
        "provisioningState": "Creating" if ready_in else "Succeeded",
        "diskState": "Attached" if managed_by else "Unattached",
        "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
    }
    if os_type:
        props["osType"] = os_type
    if hyper_v_generation:
        props["hyperVGeneration"] = hyper_v_generation
    if security_type and security_type != "Standard":
        props["securityProfile"] = {"securityType": security_type}
    doc = tracked(disk_id, "Microsoft.Compute/disks", location, tags or {}, props)
    doc["sku"] = {"name": sku, "tier": STORAGE_TIERS.get(sku, "Standard")}
    if managed_by:
        doc["managedBy"] = managed_by
    if ready_in:
        timeline.schedule(doc, now + ready_in, {"properties.provisioningState": "Succeeded"})
    return backend.save(DISKS, disk_id, doc)


def detach(backend, disk_id: str, at: float) -> None:
    """Schedule the disk to be released by its VM (``deleteOption: Detach``) at emulated instant ``at``."""
    doc = backend.settled(DISKS, disk_id)
    if doc is not None:
        timeline.schedule(doc, at, {"managedBy": None, "properties.diskState": "Unattached"})
        backend.save(DISKS, disk_id, doc)


def remove(backend, disk_id: str, at: float) -> None:
    """Schedule the disk to disappear at emulated instant ``at`` (``deleteOption: Delete``)."""
    doc = backend.settled(DISKS, disk_id)
    if doc is not None:
        doc["properties"]["provisioningState"] = "Deleting"
        timeline.schedule(doc, at, {timeline.DELETED: True})
        backend.save(DISKS, disk_id, doc)
