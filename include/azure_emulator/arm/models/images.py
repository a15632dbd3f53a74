"""Managed images: a VM's disks captured as one image, from the generalized VM itself or from snapshots.

Azure refuses them for Trusted Launch sources, which must be published to a gallery straight from
snapshots instead; the Hyper-V generation of an image is its source's.
"""

from __future__ import annotations

from azure_emulator import timeline
from azure_emulator.arm.common import check_same_location, provision, tracked
from azure_emulator.arm.models import disks, virtualmachines
from azure_emulator.errors import AzureError, property_change_not_allowed

IMAGES = "arm/images"
OS_TYPES = ("Linux", "Windows")
OS_STATES = ("Generalized", "Specialized")
HYPER_V = ("V1", "V2")
_DISK = {
    "snapshot": {"id": str},
    "managedDisk": {"id": str},
    "diskSizeGB": int,
    "caching": str,
    "storageAccountType": str,
}
# The JSON types of what a managed image PUT is read for (see azure_emulator.shapes).
BODY = {
    "properties": {
        "hyperVGeneration": str,
        "sourceVirtualMachine": {"id": str},
        "storageProfile": {
            "osDisk": {**_DISK, "osType": str, "osState": str},
            "dataDisks": [{**_DISK, "lun": int}],
            "zoneResilient": bool,
        },
    }
}
TRUSTED_LAUNCH_REFUSED = (
    "Creation of managed images are not supported for virtual machine with TrustedLaunch security type."
)


def _required(entry: dict, field: str, allowed: tuple[str, ...], path: str) -> str:
    value = entry.get(field)
    if value is None:
        raise AzureError(
            "InvalidParameter", f"Required parameter '{path}.{field}' is missing (null).", target=f"{path}.{field}"
        )
    if value not in allowed:
        raise AzureError(
            "InvalidParameter",
            f"The value '{value}' of parameter '{path}.{field}' is not allowed. "
            f"Allowed values are: {', '.join(allowed)}.",
            target=f"{path}.{field}",
        )
    return value


def _refuse_trusted_launch(security_type: str | None) -> None:
    if security_type and security_type != "Standard":
        raise AzureError("OperationNotAllowed", TRUSTED_LAUNCH_REFUSED)


def _disk_entry(backend, entry: dict, path: str, caching: str) -> tuple[dict, dict]:
    """One image disk from its snapshot or managed disk: (the image's disk entry, the source's properties)."""
    field = "snapshot" if entry.get("snapshot") else "managedDisk"
    reference = (entry.get(field) or {}).get("id")
    if not reference:
        raise AzureError(
            "InvalidParameter",
            f"Required parameter '{path}.snapshot.id' or '{path}.managedDisk.id' "
            "is missing (null); blob sources are not emulated.",
            target=path,
        )
    source = disks.find_copy_source(backend, reference)
    if source is None:
        raise AzureError("NotFound", f"Resource {reference.rstrip('/').rsplit('/', 1)[-1]} is not found.")
    if source["properties"]["provisioningState"] != "Succeeded":
        raise AzureError(
            "OperationNotAllowed",
            f"The {field} '{reference}' is in provisioning state "
            f"'{source['properties']['provisioningState']}'; an image can be made from it once it has "
            "succeeded.",
            target=f"{path}.{field}",
        )
    size = max(entry.get("diskSizeGB") or 0, source["properties"]["diskSizeGB"])
    return (
        {
            field: {"id": reference},
            "caching": entry.get("caching") or caching,
            "diskSizeGB": size,
            "storageAccountType": entry.get("storageAccountType") or "Standard_LRS",
        },
        source["properties"],
    )


def _from_disks(backend, storage: dict) -> tuple[dict, str, str, list[str]]:
    """(storage profile, Hyper-V generation, source label, origin) of an image made from snapshots or disks."""
    os_entry = storage.get("osDisk")
    if not os_entry:
        raise AzureError(
            "InvalidParameter",
            "Required parameter 'storageProfile.osDisk' is missing (null): give 'sourceVirtualMachine' or an OS disk.",
            target="storageProfile.osDisk",
        )
    os_disk, source = _disk_entry(backend, os_entry, "storageProfile.osDisk", "ReadWrite")
    _refuse_trusted_launch((source.get("securityProfile") or {}).get("securityType"))
    os_disk.update(
        osType=_required(os_entry, "osType", OS_TYPES, "storageProfile.osDisk"),
        osState=_required(os_entry, "osState", OS_STATES, "storageProfile.osDisk"),
    )
    data_disks = []
    for entry in storage.get("dataDisks") or []:
        if entry.get("lun") in [d["lun"] for d in data_disks]:
            raise AzureError(
                "InvalidParameter",
                f"Duplicate LUN {entry['lun']} in 'storageProfile.dataDisks'.",
                target="storageProfile.dataDisks",
            )
        data_disk, _ = _disk_entry(backend, entry, "storageProfile.dataDisks", "None")
        data_disks.append({"lun": entry.get("lun"), **data_disk})
    origin = sorted(f"{d.get('lun', 'os')}={_reference(d).lower()}" for d in [os_disk, *data_disks])
    label = "snapshot" if "snapshot" in os_disk else "managedDisk"
    profile = {"osDisk": os_disk, "dataDisks": data_disks, "zoneResilient": bool(storage.get("zoneResilient"))}
    return profile, source.get("hyperVGeneration") or "V1", label, origin


def _reference(disk: dict) -> str:
    return (disk.get("snapshot") or disk.get("managedDisk"))["id"]


def _from_vm(backend, vm_id: str, location: str) -> tuple[dict, str, str, list[str]]:
    """(storage profile, Hyper-V generation, source label, origin) of an image captured from a generalized VM."""
    vm = backend.view(virtualmachines.VMS, vm_id)
    name = vm_id.rstrip("/").rsplit("/", 1)[-1]
    if vm is None or vm["location"] != location:
        raise AzureError(
            "NotFound",
            f"Source Virtual Machine '{name}' specified in the request does not exist in this Azure location.",
        )
    _refuse_trusted_launch((vm["properties"].get("securityProfile") or {}).get("securityType"))
    if not virtualmachines.is_generalized(vm):
        raise AzureError(
            "OperationNotAllowed",
            f"The operation 'Create Image' requires the Virtual Machine '{name}' to be Generalized.",
        )
    vm_storage = vm["properties"]["storageProfile"]
    os_disk_doc = backend.view(disks.DISKS, vm_storage["osDisk"]["managedDisk"]["id"])
    os_disk = {
        "osType": os_disk_doc["properties"].get("osType") or vm_storage["osDisk"].get("osType"),
        "osState": "Generalized",
        "managedDisk": {"id": os_disk_doc["id"]},
        "caching": "ReadWrite",
        "diskSizeGB": os_disk_doc["properties"]["diskSizeGB"],
        "storageAccountType": os_disk_doc["sku"]["name"],
    }
    data_disks = []
    for attached in vm_storage.get("dataDisks") or []:
        disk = backend.view(disks.DISKS, attached["managedDisk"]["id"])
        data_disks.append(
            {
                "lun": attached["lun"],
                "managedDisk": {"id": disk["id"]},
                "caching": "None",
                "diskSizeGB": disk["properties"]["diskSizeGB"],
                "storageAccountType": disk["sku"]["name"],
            }
        )
    profile = {"osDisk": os_disk, "dataDisks": data_disks, "zoneResilient": False}
    return profile, os_disk_doc["properties"].get("hyperVGeneration") or "V1", "sourceVirtualMachine", [vm_id.lower()]


def put_image(backend, image_id: str, location: str, tags: dict, props: dict) -> tuple[dict, bool, float, dict | None]:
    """Create or update a managed image; returns (document, created, emulated duration, error the LRO ends with)."""
    asked = props.get("hyperVGeneration")
    if asked is not None and asked not in HYPER_V:
        raise AzureError(
            "InvalidParameter",
            f"The value '{asked}' of parameter 'hyperVGeneration' is not allowed. "
            f"Allowed values are: {', '.join(HYPER_V)}.",
            target="hyperVGeneration",
        )
    vm_id = (props.get("sourceVirtualMachine") or {}).get("id")
    if vm_id:
        profile, generation, label, origin = _from_vm(backend, vm_id, location)
    else:
        profile, generation, label, origin = _from_disks(backend, props.get("storageProfile") or {})
    if asked is not None and asked != generation:
        raise AzureError(
            "InvalidParameter",
            f"The Input HyperVGeneration property: '{asked}' does not match with the "
            f"HyperVGeneration property: '{generation}' belonging to source: '{label}'.",
            target="hyperVGeneration",
        )
    duration = backend.durations["image_create"]
    now = backend.now()
    existing = backend.settled(IMAGES, image_id)
    if existing:
        check_same_location(existing, location)
        if existing["_origin"] != origin:
            raise property_change_not_allowed("storageProfile")
        existing["tags"] = tags
        existing["properties"]["provisioningState"] = "Updating"
        saved, error = provision(backend, IMAGES, image_id, "images", existing, now + duration)
        return saved, False, duration, error
    image = {"storageProfile": profile, "provisioningState": "Creating", "hyperVGeneration": generation}
    if vm_id:
        image["sourceVirtualMachine"] = {"id": vm_id}
    doc = tracked(image_id, "Microsoft.Compute/images", location, tags, image)
    doc["_origin"] = origin
    saved, error = provision(backend, IMAGES, image_id, "images", doc, now + duration)
    return saved, True, duration, error


def delete_image(backend, image_id: str) -> float | None:
    """Schedule the deletion; None if there is no such image."""
    doc = backend.settled(IMAGES, image_id)
    if doc is None:
        return None
    duration = backend.durations["image_delete"]
    doc["properties"]["provisioningState"] = "Deleting"
    timeline.cancel(doc, "properties.provisioningState")
    timeline.schedule(doc, backend.now() + duration, {timeline.DELETED: True})
    backend.save(IMAGES, image_id, doc)
    return duration
