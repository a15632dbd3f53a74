"""Virtual machines: create from a Marketplace image with managed disks and inline NICs, the build
that powers the VM off when its script ends, power actions, generalize, and delete with each
disk, NIC and public IP following its ``deleteOption``.

The private ``_vm`` record holds what Azure only shows through the instance view (power state,
generalized, what the guest agent reports) and what deletion needs (the NICs and their options).
Disks and NICs a VM holds name it: a disk's ``managedBy`` and a NIC's ``virtualMachine`` are the
VM's id until the VM is deleted, so their own handlers refuse to delete them while attached.
"""

from __future__ import annotations

import uuid

from azure_emulator import timeline
from azure_emulator.arm.common import check_same_location, injected_failure, tracked
from azure_emulator.arm.models import disks, marketplace, network, vmspec
from azure_emulator.clock import iso
from azure_emulator.errors import AzureError, property_change_not_allowed, resource_not_found

VMS = "arm/virtualMachines"
RESOURCE_TYPE = "Microsoft.Compute/virtualMachines"
# Power states a VM is off in: the states generalize needs.
OFF = ("stopped", "deallocated")


def power_state(view: dict) -> str:
    """``starting|running|stopping|stopped|deallocating|deallocated``."""
    return view["_vm"]["power"]


def is_generalized(view: dict) -> bool:
    return view["_vm"]["generalized"]


def _name(vm_id: str) -> str:
    return vm_id.rsplit("/", 1)[-1]


def _transition(doc: dict, at: float, *, provisioning: str | None = None, power: str | None = None) -> None:
    changes: dict = {"_vm.changedAt": at}
    if provisioning:
        changes["properties.provisioningState"] = provisioning
    if power:
        changes["_vm.power"] = power
    timeline.schedule(doc, at, changes)


def _provisioning_failure(backend, name: str) -> dict | None:
    rule = backend.faults.take("vm_provisioning_failed", name=name)
    if rule is None:
        return None
    # The message Azure gives when the guest never reports ready (OSProvisioningTimedOut).
    return {
        "code": rule.get("code", "OSProvisioningTimedOut"),
        "message": rule.get(
            "message",
            f"OS Provisioning for VM '{name}' did not finish in the allotted time. "
            "The VM may still finish provisioning successfully. Please check "
            "provisioning state later. Also, make sure the image has been properly "
            "prepared (generalized).",
        ),
    }


# --- create and update ------------------------------------------------------------------------------


def create_or_update(
    backend, vm_id: str, location: str, tags: dict, props: dict
) -> tuple[dict, bool, float, dict | None]:
    """Returns (document, created, emulated duration of the operation, the error it ends with or None)."""
    existing = backend.settled(VMS, vm_id)
    if existing is not None:
        return _update(backend, existing, location, tags, props)
    return _create(backend, vm_id, location, tags, props)


def _create(backend, vm_id: str, location: str, tags: dict, props: dict) -> tuple[dict, bool, float, dict | None]:
    name = _name(vm_id)
    vm_size = vmspec.size(props)
    vmspec.check_offered(backend, vm_size, location)
    image, version, reference = vmspec.image(backend, props)
    vmspec.check_architecture(image, vm_size, version)
    vmspec.check_generation(image, vm_size)
    security = vmspec.security(props, image, version, vm_size)
    os_profile = vmspec.os_profile(props, image, name)
    os_disk = vmspec.os_disk(props, image, name)
    data_disks = vmspec.data_disks(props, name, vm_size)
    vmspec.check_disk_names_free(backend, vm_id, [os_disk, *data_disks])
    nics, network_api = vmspec.network_plan(backend, props, vm_id, location)

    failure = _provisioning_failure(backend, name)
    custom_data = vmspec.custom_data_digest(vmspec.section(props, "osProfile"))
    builds = bool(custom_data) and failure is None and not backend.faults.take("build_never_finishes", name=name)
    now = backend.now()
    duration = backend.durations["vm_create"]
    _create_disks(backend, vm_id, location, image, version, security, os_disk, data_disks, duration)
    network_profile = _attach_network(backend, vm_id, location, props, nics, network_api)
    os_name, os_version = marketplace.os_name_and_version(image, version)
    doc = tracked(
        vm_id,
        RESOURCE_TYPE,
        location,
        tags,
        {
            "vmId": str(uuid.uuid4()),
            "timeCreated": iso(now),
            "provisioningState": "Creating",
            "hardwareProfile": {"vmSize": vm_size["name"]},
            "storageProfile": {
                "imageReference": reference,
                "osDisk": os_disk,
                "dataDisks": data_disks,
                "diskControllerType": "SCSI",
            },
            "osProfile": os_profile,
            "networkProfile": network_profile,
        },
    )
    if security:
        doc["properties"]["securityProfile"] = security
    doc["_vm"] = {
        "power": "starting",
        "generalized": False,
        "hyperVGeneration": image["hyperVGeneration"],
        "osName": os_name,
        "osVersion": os_version,
        "changedAt": now,
        "readyAt": now + duration,
        "error": failure,
        "customData": custom_data,
        "userData": props.get("userData"),
        "nics": [
            {"id": n["id"], "deleteOption": n["deleteOption"], "publicIPs": [p for p in n["publicIPs"] if p]}
            for n in nics
        ],
    }
    if failure is None:
        _transition(doc, now + duration, provisioning="Succeeded", power="running")
    else:
        # A VM whose allocation failed never ran; one whose guest failed to report is up but unusable.
        power = "deallocated" if "Allocation" in failure["code"] else "running"
        _transition(doc, now + duration, provisioning="Failed", power=power)
    if builds:
        # The build script ends by deprovisioning and powering the VM off from inside the guest.
        build = backend.durations["build_windows" if image["osType"] == "Windows" else "build_linux"]
        _transition(doc, now + duration + build, power="stopped")
    return backend.save(VMS, vm_id, doc), True, duration, failure


def _create_disks(
    backend,
    vm_id: str,
    location: str,
    image: dict,
    version: str,
    security: dict | None,
    os_disk: dict,
    data_disks: list[dict],
    ready_in: float,
) -> None:
    """The VM's managed disks, held by it (``managedBy``); each entry gets its disk's id."""
    source = marketplace.image_id(vm_id.split("/")[2], location, image, image["offer"], image["sku"], version)
    os_disk["managedDisk"]["id"] = vmspec.disk_id(vm_id, os_disk["name"])
    disks.new_disk(
        backend,
        os_disk["managedDisk"]["id"],
        location=location,
        size_gb=os_disk["diskSizeGB"],
        sku=os_disk["managedDisk"]["storageAccountType"],
        creation_data={"createOption": "FromImage", "imageReference": {"id": source}},
        os_type=image["osType"],
        hyper_v_generation=image["hyperVGeneration"],
        security_type=(security or {}).get("securityType"),
        managed_by=vm_id,
        ready_in=ready_in,
    )
    for disk in data_disks:
        disk["managedDisk"]["id"] = vmspec.disk_id(vm_id, disk["name"])
        disks.new_disk(
            backend,
            disk["managedDisk"]["id"],
            location=location,
            size_gb=disk["diskSizeGB"],
            sku=disk["managedDisk"]["storageAccountType"],
            creation_data={"createOption": "Empty"},
            managed_by=vm_id,
            ready_in=ready_in,
        )


def _attach_network(backend, vm_id: str, location: str, props: dict, nics: list[dict], network_api: str | None) -> dict:
    references = []
    for plan in nics:
        if plan["existing"]:
            network.attach_nic(backend, plan["id"], vm_id, plan["primary"])
        else:
            network.put_vm_nic(
                backend,
                plan["id"],
                location=location,
                vm_id=vm_id,
                config=plan["config"],
                subnets=plan["subnets"],
                public_ip_ids=[p and p["id"] for p in plan["publicIPs"]],
            )
        references.append(
            {"id": plan["id"], "properties": {"primary": plan["primary"], "deleteOption": plan["deleteOption"]}}
        )
    profile = {"networkInterfaces": references}
    configurations = vmspec.objects(vmspec.section(props, "networkProfile"), "networkInterfaceConfigurations")
    if configurations:
        profile.update(networkApiVersion=network_api, networkInterfaceConfigurations=configurations)
    return profile


def _check_unchanged(doc: dict, props: dict) -> None:
    """Properties Azure fixes at creation. Data disks and NICs are not attached or detached by a
    re-PUT in the emulator either, so changing them is refused the same way.
    """
    stored = doc["properties"]
    storage = vmspec.section(props, "storageProfile")
    reference = vmspec.section(storage, "imageReference")
    if reference:
        old = stored["storageProfile"]["imageReference"]
        for field in ("publisher", "offer", "sku", "version"):
            given = reference.get(field) or ("latest" if field == "version" else "")
            if str(given).lower() != old[field].lower():
                raise property_change_not_allowed("imageReference")
    name = vmspec.section(storage, "osDisk").get("name")
    if name and name.lower() != stored["storageProfile"]["osDisk"]["name"].lower():
        raise property_change_not_allowed("osDisk.name")
    if "dataDisks" in storage and (
        {str(d.get("lun")) for d in vmspec.objects(storage, "dataDisks")}
        != {str(d["lun"]) for d in stored["storageProfile"]["dataDisks"]}
    ):
        raise property_change_not_allowed("dataDisks")
    os_profile = vmspec.section(props, "osProfile")
    for field in ("computerName", "adminUsername"):
        if os_profile.get(field) and os_profile[field] != stored["osProfile"][field]:
            raise property_change_not_allowed(field)
    if "customData" in os_profile and vmspec.custom_data_digest(os_profile) != doc["_vm"]["customData"]:
        raise property_change_not_allowed("customData")
    security = vmspec.section(props, "securityProfile").get("securityType")
    if security and security.lower() != (stored.get("securityProfile") or {}).get("securityType", "").lower():
        raise property_change_not_allowed("securityProfile.securityType")
    network_profile = vmspec.section(props, "networkProfile")
    wanted = {str(c.get("name")) for c in vmspec.objects(network_profile, "networkInterfaceConfigurations")}
    existing = {c["name"] for c in stored["networkProfile"].get("networkInterfaceConfigurations", [])}
    if "networkInterfaceConfigurations" in network_profile and wanted != existing:
        raise property_change_not_allowed("networkInterfaceConfigurations")


def _update(backend, doc: dict, location: str, tags: dict, props: dict) -> tuple[dict, bool, float, dict | None]:
    check_same_location(doc, location)
    vm_id = doc["id"]
    if doc["properties"]["provisioningState"] == "Deleting":
        raise _marked_for_deletion("PUT", vm_id)
    _check_unchanged(doc, props)
    wanted_size = vmspec.section(props, "hardwareProfile").get("vmSize")
    if wanted_size and str(wanted_size).lower() != doc["properties"]["hardwareProfile"]["vmSize"].lower():
        new_size = vmspec.size(props)
        vmspec.check_offered(backend, new_size, location)
        vmspec.check_generation({"hyperVGeneration": doc["_vm"]["hyperVGeneration"]}, new_size)
        if (doc["properties"].get("securityProfile") or {}).get("securityType") == "TrustedLaunch" and not new_size[
            "trustedLaunch"
        ]:
            raise AzureError(
                "BadRequest",
                f"The VM size '{new_size['name']}' is not supported for creation of VMs "
                "and Virtual Machine Scale Set with 'TrustedLaunch' security type. For more information, "
                "see https://aka.ms/TrustedLaunch-FAQ",
            )
        doc["properties"]["hardwareProfile"]["vmSize"] = new_size["name"]
    doc["tags"] = tags
    if "userData" in props:
        doc["_vm"]["userData"] = props["userData"]
    now = backend.now()
    state = doc["properties"]["provisioningState"]
    if state == "Creating":
        # The update joins the creation still under way and ends the way it does.
        return backend.save(VMS, vm_id, doc), False, max(doc["_vm"]["readyAt"] - now, 0), doc["_vm"]["error"]
    duration = backend.durations["vm_update"]
    if state == "Failed":
        return backend.save(VMS, vm_id, doc), False, duration, doc["_vm"]["error"]
    doc["properties"]["provisioningState"] = "Updating"
    _transition(doc, now + duration, provisioning="Succeeded")
    return backend.save(VMS, vm_id, doc), False, duration, None


# --- power actions ----------------------------------------------------------------------------------


def _marked_for_deletion(operation: str, vm_id: str) -> AzureError:
    # Remembered real message (no source at hand).
    return AzureError(
        "OperationNotAllowed",
        f"Operation '{operation}' is not allowed on VM '{_name(vm_id)}' since "
        "the VM is marked for deletion. You can only retry the Delete operation (or wait for an ongoing "
        "one to complete).",
    )


def _refused(operation: str, vm_id: str, reason: str) -> AzureError:
    # The real wording for generalize on a running VM (MicrosoftDocs/azure-docs#86809) and start on a
    # generalized one (bitnami/vms#1471); other refusals are worded the same way.
    return AzureError(
        "OperationNotAllowed",
        f"Operation '{operation}' is not allowed on VM '{_name(vm_id)}' since the VM is {reason}.",
    )


def _actionable(backend, vm_id: str, operation: str) -> dict:
    doc = backend.settled(VMS, vm_id)
    if doc is None:
        raise resource_not_found(RESOURCE_TYPE, _name(vm_id), vm_id.split("/")[4])
    state = doc["properties"]["provisioningState"]
    if state == "Deleting":
        raise _marked_for_deletion(operation, vm_id)
    if state == "Creating":
        raise _refused(operation, vm_id, "still being created")
    return doc


def _power_action(
    backend,
    vm_id: str,
    operation: str,
    *,
    skip_if: tuple[str, ...],
    during: str,
    after: str,
    duration_key: str,
    refuse: dict[str, str] | None = None,
) -> tuple[str, float, dict | None]:
    """Start a power transition; returns (location, emulated duration, error the operation ends with)."""
    doc = _actionable(backend, vm_id, operation)
    if is_generalized(doc) and operation in ("Start VM", "Restart VM"):
        raise _refused(operation, vm_id, "generalized")
    power = power_state(doc)
    if refuse and power in refuse:
        raise _refused(operation, vm_id, refuse[power])
    duration = backend.durations[duration_key]
    failure = injected_failure(backend, RESOURCE_TYPE, _name(vm_id))
    if failure:
        return doc["location"], duration, failure
    if power in skip_if:
        return doc["location"], 0.0, None
    # A new action overrides the pending power transitions of the previous one (and the build's power-off).
    timeline.cancel(doc, "_vm.power", "_vm.changedAt", "properties.provisioningState")
    now = backend.now()
    doc["_vm"]["power"] = during
    doc["properties"]["provisioningState"] = "Updating"
    _transition(doc, now + duration, provisioning="Succeeded", power=after)
    backend.save(VMS, vm_id, doc)
    return doc["location"], duration, None


def deallocate(backend, vm_id: str) -> tuple[str, float, dict | None]:
    return _power_action(
        backend,
        vm_id,
        "deallocate",
        skip_if=("deallocated",),
        during="deallocating",
        after="deallocated",
        duration_key="vm_deallocate",
    )


def power_off(backend, vm_id: str, skip_shutdown: bool) -> tuple[str, float, dict | None]:
    return _power_action(
        backend,
        vm_id,
        "powerOff",
        skip_if=("stopped", "deallocating", "deallocated"),
        during="stopping",
        after="stopped",
        duration_key="vm_power_off_skip_shutdown" if skip_shutdown else "vm_power_off",
    )


def start(backend, vm_id: str) -> tuple[str, float, dict | None]:
    return _power_action(
        backend,
        vm_id,
        "Start VM",
        skip_if=("starting", "running"),
        during="starting",
        after="running",
        duration_key="vm_start",
    )


def restart(backend, vm_id: str) -> tuple[str, float, dict | None]:
    return _power_action(
        backend,
        vm_id,
        "Restart VM",
        skip_if=(),
        during="starting",
        after="running",
        duration_key="vm_start",
        refuse={p: p for p in ("stopping", "stopped", "deallocating", "deallocated")},
    )


def generalize(backend, vm_id: str) -> None:
    """Mark the (deprovisioned, powered off) VM generalized: it can be captured but never started again."""
    doc = _actionable(backend, vm_id, "generalize")
    if power_state(doc) not in OFF:
        raise _refused("generalize", vm_id, power_state(doc))
    doc["_vm"]["generalized"] = True
    backend.save(VMS, vm_id, doc)


# --- delete -----------------------------------------------------------------------------------------


def delete(backend, vm_id: str) -> tuple[str, float, dict | None] | None:
    """Schedule the VM's deletion and its disks' and NICs' fate; None if there is no such VM."""
    doc = backend.settled(VMS, vm_id)
    if doc is None:
        return None
    now = backend.now()
    if doc["properties"]["provisioningState"] == "Deleting":
        return doc["location"], max(doc["_vm"]["deleteAt"] - now, 0.0), None
    duration = backend.durations["vm_delete"]
    failure = injected_failure(backend, RESOURCE_TYPE, _name(vm_id))
    if failure:
        return doc["location"], duration, failure
    at = now + duration
    timeline.cancel(doc, "_vm", "properties")
    doc["properties"]["provisioningState"] = "Deleting"
    doc["_vm"]["deleteAt"] = at
    timeline.schedule(doc, at, {timeline.DELETED: True})
    storage = doc["properties"]["storageProfile"]
    for disk in [storage["osDisk"], *storage["dataDisks"]]:
        release = disks.remove if disk["deleteOption"] == "Delete" else disks.detach
        release(backend, disk["managedDisk"]["id"], at)
    network.release_vm_nics(backend, doc["_vm"]["nics"], at)
    backend.save(VMS, vm_id, doc)
    return doc["location"], duration, None


# --- instance view ----------------------------------------------------------------------------------


def _provisioning_status(view: dict) -> dict:
    state = view["properties"]["provisioningState"]
    status = {
        "code": f"ProvisioningState/{state.lower()}",
        "level": "Info",
        "displayStatus": state,
        "time": iso(view["_vm"]["changedAt"]),
    }
    if state == "Succeeded":
        status["displayStatus"] = "Provisioning succeeded"
    elif state == "Failed":
        error = view["_vm"]["error"]
        status.update(
            code=f"ProvisioningState/failed/{error['code']}",
            level="Error",
            displayStatus="Provisioning failed",
            message=error["message"],
        )
    return status


def instance_view(view: dict) -> dict:
    """The VM's instance view as GET ``$expand=instanceView`` and ``/instanceView`` return it."""
    vm = view["_vm"]
    props = view["properties"]
    storage = props["storageProfile"]
    disk_state = "creating" if props["provisioningState"] == "Creating" else "succeeded"
    disk_status = {
        "code": f"ProvisioningState/{disk_state}",
        "level": "Info",
        "displayStatus": "Creating" if disk_state == "creating" else "Provisioning succeeded",
    }
    statuses = [_provisioning_status(view)]
    if is_generalized(view):
        statuses.append({"code": "OSState/generalized", "level": "Info", "displayStatus": "VM generalized"})
    statuses.append(
        {"code": f"PowerState/{power_state(view)}", "level": "Info", "displayStatus": f"VM {power_state(view)}"}
    )
    return {
        "computerName": props["osProfile"]["computerName"],
        "osName": vm["osName"],
        "osVersion": vm["osVersion"],
        "hyperVGeneration": vm["hyperVGeneration"],
        "disks": [{"name": d["name"], "statuses": [disk_status]} for d in [storage["osDisk"], *storage["dataDisks"]]],
        "statuses": statuses,
    }


def user_data(view: dict) -> str | None:
    return view["_vm"]["userData"]
