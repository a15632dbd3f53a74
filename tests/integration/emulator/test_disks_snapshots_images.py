"""Managed disks, snapshots and managed images through the real azure-mgmt-compute clients over HTTPS."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.compute.models import (
    CreationData,
    Disk,
    DiskProperties,
    DiskSecurityProfile,
    Image,
    ImageDataDisk,
    ImageOSDisk,
    ImageProperties,
    ImageStorageProfile,
    SubResource,
)

from tests.integration import clients
from tests.integration.emulator import builders, vm_builders


def image_body(info, os_snapshot_id: str, data_snapshot_ids: tuple[str, ...] = (), **props) -> Image:
    storage = ImageStorageProfile(
        os_disk=ImageOSDisk(os_type="Linux", os_state="Generalized", snapshot=SubResource(id=os_snapshot_id)),
        data_disks=[ImageDataDisk(lun=lun, snapshot=SubResource(id=i)) for lun, i in enumerate(data_snapshot_ids)],
    )
    return Image(location=info["location"], properties=ImageProperties(storage_profile=storage, **props))


def test_disk_create_get_list_delete(compute, info):
    rg = info["resource_group"]
    created = builders.disk(compute, info, "dsk_crud", size_gb=64)
    assert (created.provisioning_state, created.disk_size_gb, created.os_type) == ("Succeeded", 64, "Linux")
    assert created.disk_state == "Unattached"
    assert compute.disks.get(rg, "dsk_crud").hyper_v_generation == "V2"
    assert "dsk_crud" in [d.name for d in compute.disks.list_by_resource_group(rg)]
    compute.disks.begin_delete(rg, "dsk_crud").result()
    with pytest.raises(ResourceNotFoundError):
        compute.disks.get(rg, "dsk_crud")
    compute.disks.begin_delete(rg, "dsk_crud").result()  # deleting what is gone is a 204, not an error


def test_disk_rules(compute, info):
    rg = info["resource_group"]
    no_size = Disk(
        location=info["location"], properties=DiskProperties(creation_data=CreationData(create_option="Empty"))
    )
    with pytest.raises(HttpResponseError) as err:
        compute.disks.begin_create_or_update(rg, "dsk_nosize", no_size)
    assert (err.value.status_code, err.value.error.code) == (400, "InvalidParameter")
    assert "diskSizeGB" in err.value.error.message
    trusted_empty = Disk(
        location=info["location"],
        properties=DiskProperties(
            creation_data=CreationData(create_option="Empty"),
            disk_size_gb=30,
            security_profile=DiskSecurityProfile(security_type="TrustedLaunch"),
        ),
    )
    with pytest.raises(HttpResponseError) as err:
        compute.disks.begin_create_or_update(rg, "dsk_tl_empty", trusted_empty)
    assert err.value.error.code == "BadRequest"
    assert "not supported for CreateOption 'Empty'" in err.value.error.message
    trusted = builders.trusted_launch_disk(compute, info, "dsk_tl")
    assert (trusted.security_profile.security_type, trusted.hyper_v_generation) == ("TrustedLaunch", "V2")
    assert trusted.disk_size_gb == 30
    compute.disks.begin_delete(rg, "dsk_tl").result()


def test_snapshot_copies_the_disk_and_completes(compute, info, control):
    rg = info["resource_group"]
    source = builders.disk(compute, info, "dsk_for_snap", size_gb=40)
    control.patch("/durations", json={"snapshot_create": 600})
    poller = compute.snapshots.begin_create_or_update(
        rg, "snap_ok", builders.snapshot_body(info, source.id, incremental=True)
    )
    assert compute.snapshots.get(rg, "snap_ok").provisioning_state == "Creating"
    snap = poller.result()
    assert snap.provisioning_state == "Succeeded"
    assert (snap.os_type, snap.hyper_v_generation, snap.disk_size_gb, snap.incremental) == ("Linux", "V2", 40, True)
    assert snap.creation_data.source_resource_id == source.id
    assert snap.creation_data.source_unique_id == source.unique_id
    assert "snap_ok" in [s.name for s in compute.snapshots.list_by_resource_group(rg)]
    compute.snapshots.begin_delete(rg, "snap_ok").result()
    with pytest.raises(ResourceNotFoundError):
        compute.snapshots.get(rg, "snap_ok")
    compute.disks.begin_delete(rg, "dsk_for_snap").result()


def test_snapshot_of_a_missing_disk(compute, info):
    missing = (
        f"/subscriptions/{info['subscription_id']}/resourceGroups/{info['resource_group']}/providers/"
        "Microsoft.Compute/disks/nosuchdisk"
    )
    with pytest.raises(ResourceNotFoundError) as err:
        compute.snapshots.begin_create_or_update(
            info["resource_group"], "snap_orphan", builders.snapshot_body(info, missing)
        )
    assert err.value.error.code == "NotFound"
    assert err.value.error.message == "Resource nosuchdisk is not found."


def test_snapshot_failure_leaves_a_failed_snapshot(compute, info, control):
    rg = info["resource_group"]
    source = builders.disk(compute, info, "dsk_snapfail")
    control.post(
        "/faults",
        json={
            "kind": "operation_failed",
            "match": {"resource_type": "snapshots", "name": "^snap_fail$"},
            "code": "InternalDiskManagementError",
            "message": "Snapshot copy failed.",
        },
    )
    with pytest.raises(HttpResponseError) as err:
        compute.snapshots.begin_create_or_update(rg, "snap_fail", builders.snapshot_body(info, source.id)).result()
    assert (err.value.error.code, err.value.error.message) == ("InternalDiskManagementError", "Snapshot copy failed.")
    assert compute.snapshots.get(rg, "snap_fail").provisioning_state == "Failed"
    compute.snapshots.begin_delete(rg, "snap_fail").result()
    compute.disks.begin_delete(rg, "dsk_snapfail").result()


def test_managed_image_from_snapshots(compute, info):
    rg = info["resource_group"]
    os_snap = builders.snapshot(compute, info, "snap_img_os", builders.disk(compute, info, "dsk_img_os").id)
    data_disk = builders.disk(compute, info, "dsk_img_data", size_gb=128, os_type=None, hyper_v_generation=None)
    data_snap = builders.snapshot(compute, info, "snap_img_data", data_disk.id)
    image = compute.images.begin_create_or_update(rg, "img_ok", image_body(info, os_snap.id, (data_snap.id,))).result()
    assert image.provisioning_state == "Succeeded"
    assert image.hyper_v_generation == "V2"  # from the source
    assert (image.storage_profile.os_disk.snapshot.id, image.storage_profile.os_disk.disk_size_gb) == (os_snap.id, 30)
    assert [(d.lun, d.disk_size_gb) for d in image.storage_profile.data_disks] == [(0, 128)]
    assert compute.images.get(rg, "img_ok", expand="x").id == image.id
    assert "img_ok" in [i.name for i in compute.images.list_by_resource_group(rg)]
    with pytest.raises(HttpResponseError) as err:
        compute.images.begin_create_or_update(rg, "img_gen1", image_body(info, os_snap.id, hyper_v_generation="V1"))
    assert err.value.error.code == "InvalidParameter"
    assert "HyperVGeneration property: 'V1' does not match" in err.value.error.message
    compute.images.begin_delete(rg, "img_ok").result()
    with pytest.raises(ResourceNotFoundError):
        compute.images.get(rg, "img_ok")
    for name in ("snap_img_os", "snap_img_data"):
        compute.snapshots.begin_delete(rg, name).result()
    for name in ("dsk_img_os", "dsk_img_data"):
        compute.disks.begin_delete(rg, name).result()


def test_managed_image_of_trusted_launch_is_refused(compute, info):
    rg = info["resource_group"]
    disk = builders.trusted_launch_disk(compute, info, "dsk_img_tl")
    snap = builders.snapshot(compute, info, "snap_img_tl", disk.id)
    assert snap.security_profile.security_type == "TrustedLaunch"
    with pytest.raises(ResourceExistsError) as err:
        compute.images.begin_create_or_update(rg, "img_tl", image_body(info, snap.id))
    assert err.value.error.code == "OperationNotAllowed"
    assert err.value.error.message == (
        "Creation of managed images are not supported for virtual machine with TrustedLaunch security type."
    )
    compute.snapshots.begin_delete(rg, "snap_img_tl").result()
    compute.disks.begin_delete(rg, "dsk_img_tl").result()


def vm_image_body(info, vm_id: str) -> Image:
    return Image(location=info["location"], properties=ImageProperties(source_virtual_machine=SubResource(id=vm_id)))


def test_managed_image_from_a_generalized_vm(compute, info):
    rg = info["resource_group"]
    vm = compute.virtual_machines.begin_create_or_update(rg, "vm_capture", vm_builders.build_vm(info)).result()
    with pytest.raises(ResourceExistsError) as err:
        compute.images.begin_create_or_update(rg, "img_vm", vm_image_body(info, vm.id))
    assert err.value.error.code == "OperationNotAllowed"
    assert "requires the Virtual Machine 'vm_capture' to be Generalized" in err.value.error.message
    compute.virtual_machines.begin_power_off(rg, "vm_capture").result()
    compute.virtual_machines.generalize(rg, "vm_capture")
    image = compute.images.begin_create_or_update(rg, "img_vm", vm_image_body(info, vm.id)).result()
    assert (image.provisioning_state, image.hyper_v_generation) == ("Succeeded", "V2")
    assert image.source_virtual_machine.id == vm.id
    os_disk = image.storage_profile.os_disk
    assert (os_disk.os_type, os_disk.os_state, os_disk.managed_disk.id) == (
        "Linux",
        "Generalized",
        vm.storage_profile.os_disk.managed_disk.id,
    )
    assert [d.lun for d in image.storage_profile.data_disks] == [0]
    compute.images.begin_delete(rg, "img_vm").result()
    compute.virtual_machines.begin_delete(rg, "vm_capture").result()


def test_managed_image_of_a_trusted_launch_vm_is_refused(compute, info):
    rg = info["resource_group"]
    vm = compute.virtual_machines.begin_create_or_update(
        rg, "vm_capture_tl", vm_builders.build_vm(info, security_type="TrustedLaunch")
    ).result()
    with pytest.raises(ResourceExistsError) as err:
        compute.images.begin_create_or_update(rg, "img_vm_tl", vm_image_body(info, vm.id))
    assert err.value.error.message == (
        "Creation of managed images are not supported for virtual machine with TrustedLaunch security type."
    )
    compute.virtual_machines.begin_delete(rg, "vm_capture_tl").result()


def test_managed_image_from_a_missing_vm(compute, info):
    vm_id = (
        f"/subscriptions/{info['subscription_id']}/resourceGroups/{info['resource_group']}/providers/"
        "Microsoft.Compute/virtualMachines/novm"
    )
    with pytest.raises(ResourceNotFoundError) as err:
        compute.images.begin_create_or_update(info["resource_group"], "img_novm", vm_image_body(info, vm_id))
    assert "Source Virtual Machine 'novm'" in err.value.error.message


def test_managed_image_failure_fault(compute, info, control):
    rg = info["resource_group"]
    snap = builders.snapshot(compute, info, "snap_imgfail", builders.disk(compute, info, "dsk_imgfail").id)
    control.post("/faults", json={"kind": "operation_failed", "match": {"resource_type": "images"}, "count": 1})
    with pytest.raises(HttpResponseError) as err:
        compute.images.begin_create_or_update(rg, "img_fail", image_body(info, snap.id)).result()
    assert err.value.error.code == "InternalOperationError"
    assert compute.images.get(rg, "img_fail").provisioning_state == "Failed"
    compute.images.begin_delete(rg, "img_fail").result()
    compute.snapshots.begin_delete(rg, "snap_imgfail").result()
    compute.disks.begin_delete(rg, "dsk_imgfail").result()


async def test_snapshot_and_image_with_the_async_client(compute, info):
    rg = info["resource_group"]
    disk = builders.disk(compute, info, "dsk_aio")
    async with clients.async_credential(info) as credential, clients.async_compute(info, credential) as client:
        poller = await client.snapshots.begin_create_or_update(rg, "snap_aio", builders.snapshot_body(info, disk.id))
        snap = await poller.result()
        assert (snap.provisioning_state, snap.os_type) == ("Succeeded", "Linux")
        poller = await client.images.begin_create_or_update(rg, "img_aio", image_body(info, snap.id))
        assert (await poller.result()).provisioning_state == "Succeeded"
        await (await client.images.begin_delete(rg, "img_aio")).result()
        await (await client.snapshots.begin_delete(rg, "snap_aio")).result()
        await (await client.disks.begin_delete(rg, "dsk_aio")).result()
