"""Managed disks: made by VM creation (OS and data disks) or directly; the source of snapshots."""

from __future__ import annotations

import re
import uuid

from azure_emulator import catalogue, timeline
from azure_emulator.arm.common import check_same_location, tracked
from azure_emulator.arm.models import marketplace, snapshots
from azure_emulator.clock import iso
from azure_emulator.errors import AzureError, property_change_not_allowed

DISKS = "arm/disks"
STORAGE_TIERS = {
    "Standard_LRS": "Standard",
    "StandardSSD_LRS": "Standard",
    "Premium_LRS": "Premium",
    "StandardSSD_ZRS": "Standard",
    "Premium_ZRS": "Premium",
    "PremiumV2_LRS": "Premium",
    "UltraSSD_LRS": "Ultra",
}
# The JSON types of what a disk PUT is read for (see azure_emulator.shapes).
BODY = {
    "sku": {"name": str},
    "properties": {
        "creationData": {"createOption": str, "sourceResourceId": str, "imageReference": {"id": str}},
        "diskSizeGB": int,
        "osType": str,
        "hyperVGeneration": str,
        "securityProfile": {"securityType": str},
    },
}


def new_disk(
    backend,
    disk_id: str,
    *,
    location: str,
    size_gb: int,
    sku: str = "Standard_LRS",
    creation_data: dict,
    os_type: str | None = None,
    hyper_v_generation: str | None = None,
    security_type: str | None = None,
    managed_by: str | None = None,
    tags: dict | None = None,
    ready_in: float = 0.0,
) -> dict:
    """Store a disk that reaches provisioningState Succeeded ``ready_in`` emulated seconds from now."""
    now = backend.now()
    props = {
        "creationData": creation_data,
        "diskSizeGB": size_gb,
        "diskSizeBytes": size_gb * 1024**3,
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


# --- disks created by PUT, and sources of copies --------------------------------------------------------

PLATFORM_IMAGE = re.compile(
    r"^/Subscriptions/[^/]+/Providers/Microsoft\.Compute/Locations/[^/]+/Publishers/"
    r"(?P<publisher>[^/]+)/ArtifactTypes/VMImage/Offers/(?P<offer>[^/]+)/Skus/(?P<sku>[^/]+)/"
    r"Versions/(?P<version>[^/]+)$",
    re.IGNORECASE,
)


def find_copy_source(backend, resource_id: str | None) -> dict | None:
    """The disk or snapshot ``resource_id`` names (what copies, images and image versions read), if it exists."""
    kinds = {"disks": DISKS, "snapshots": snapshots.SNAPSHOTS}
    segments = (resource_id or "").strip("/").split("/")
    kind = kinds.get(segments[-2].lower()) if len(segments) > 1 else None
    return backend.view(kind, resource_id) if kind else None


def copy_source(backend, resource_id: str | None) -> dict:
    """The disk or snapshot a ``Copy`` reads, or the errors Azure answers a copy of nothing with."""
    if not resource_id:
        raise AzureError(
            "InvalidParameter", "Required parameter 'sourceResourceId' is missing (null).", target="sourceResourceId"
        )
    found = find_copy_source(backend, resource_id)
    if found is None:
        raise AzureError("NotFound", f"Resource {resource_id.rstrip('/').rsplit('/', 1)[-1]} is not found.")
    return found


def _from_platform_image(backend, creation: dict) -> dict:
    reference = (creation.get("imageReference") or {}).get("id") or ""
    parts = PLATFORM_IMAGE.match(reference)
    image = catalogue.find_image(backend, parts["publisher"], parts["offer"], parts["sku"]) if parts else None
    if parts is None or image is None or marketplace.resolve(image, parts["version"]) is None:
        raise AzureError(
            "PlatformImageNotFound",
            f"The platform image '{reference}' is not available. Verify that "
            "all fields in the storage profile are correct.",
            target="imageReference",
        )
    return image


def _creation_facts(backend, props: dict) -> dict:
    """What a new disk inherits from its creation source: OS type, Hyper-V generation, security type, size."""
    creation = props.get("creationData") or {}
    option = creation.get("createOption")
    asked_security = (props.get("securityProfile") or {}).get("securityType")
    size = props.get("diskSizeGB")
    if option == "Empty":
        if not size:
            raise AzureError(
                "InvalidParameter", "Required parameter 'diskSizeGB' is missing (null).", target="diskSizeGB"
            )
        facts = {"os": props.get("osType"), "gen": props.get("hyperVGeneration"), "security": None, "size": size}
    elif option == "Copy":
        source = copy_source(backend, creation.get("sourceResourceId"))["properties"]
        facts = {
            "os": source.get("osType"),
            "gen": source.get("hyperVGeneration"),
            "security": (source.get("securityProfile") or {}).get("securityType"),
            "size": max(size or 0, source["diskSizeGB"]),
            "sourceUniqueId": source["uniqueId"],
        }
    elif option == "FromImage":
        image = _from_platform_image(backend, creation)
        facts = {
            "os": image["osType"],
            "gen": image["hyperVGeneration"],
            "security": asked_security,
            "size": max(size or 0, catalogue.os_disk_gb(image)),
        }
        if asked_security == "TrustedLaunch" and image["hyperVGeneration"] != "V2":
            raise AzureError(
                "BadRequest",
                "Security type 'TrustedLaunch' requires an image with Hyper-V generation "
                f"'V2'; '{creation['imageReference']['id']}' is 'V1'.",
            )
    else:
        raise AzureError(
            "InvalidParameter",
            f"The value '{option}' of parameter 'creationData.createOption' is not "
            "supported here. Supported values are: Empty, Copy, FromImage.",
            target="createOption",
        )
    if asked_security not in (None, "Standard") and option != "FromImage":
        raise AzureError(
            "BadRequest",
            f"Security Type '{asked_security}' is not supported for CreateOption "
            f"'{option}'. Supported create options are FromImage, Import, ImportSecure, "
            "UploadPreparedSecure.",
        )
    return facts


def _origin(creation: dict) -> tuple:
    reference = (creation.get("imageReference") or {}).get("id")
    return (creation.get("createOption"), (creation.get("sourceResourceId") or "").lower(), (reference or "").lower())


def put_disk(
    backend, disk_id: str, location: str, tags: dict, sku: dict | None, props: dict
) -> tuple[dict, bool, float]:
    """Create or update a disk from a PUT; returns (document, created, emulated duration)."""
    sku_name = (sku or {}).get("name") or "Standard_LRS"
    if sku_name not in STORAGE_TIERS:
        raise AzureError(
            "InvalidParameter",
            f"The value '{sku_name}' of parameter 'sku.name' is not allowed. Allowed "
            f"values are: {', '.join(STORAGE_TIERS)}.",
            target="sku.name",
        )
    facts = _creation_facts(backend, props)
    duration = backend.durations["disk_create"]
    existing = backend.settled(DISKS, disk_id)
    if existing is None:
        creation = dict(props["creationData"])
        if "sourceUniqueId" in facts:
            creation["sourceUniqueId"] = facts["sourceUniqueId"]
        doc = new_disk(
            backend,
            disk_id,
            location=location,
            size_gb=facts["size"],
            sku=sku_name,
            creation_data=creation,
            os_type=facts["os"],
            hyper_v_generation=facts["gen"],
            security_type=facts["security"],
            tags=tags,
            ready_in=duration,
        )
        return doc, True, duration
    check_same_location(existing, location)
    current = existing["properties"]
    if _origin(current["creationData"]) != _origin(props["creationData"]):
        raise property_change_not_allowed("creationData")
    if facts["size"] < current["diskSizeGB"]:
        raise AzureError(
            "BadRequest",
            f"Disk '{existing['name']}' cannot shrink from {current['diskSizeGB']} GB to "
            f"{facts['size']} GB: a disk's size can only be increased.",
        )
    current.update(diskSizeGB=facts["size"], diskSizeBytes=facts["size"] * 1024**3, provisioningState="Updating")
    existing.update(tags=tags, sku={"name": sku_name, "tier": STORAGE_TIERS[sku_name]})
    timeline.schedule(existing, backend.now() + duration, {"properties.provisioningState": "Succeeded"})
    return backend.save(DISKS, disk_id, existing), False, duration


def delete_disk(backend, disk_id: str) -> float | None:
    """Schedule the deletion of an unattached disk; None if there is no such disk."""
    doc = backend.settled(DISKS, disk_id)
    if doc is None:
        return None
    if doc.get("managedBy"):
        raise AzureError("OperationNotAllowed", f"Disk {doc['name']} is attached to VM {doc['managedBy']}.")
    duration = backend.durations["disk_delete"]
    remove(backend, disk_id, backend.now() + duration)
    return duration
