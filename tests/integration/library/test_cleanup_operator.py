"""The teardown that deletes a build's resources, against the emulator: nothing may be left behind."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from azure.mgmt.compute.models import CreationData, Disk, DiskProperties

from imagepool.operators.cleanup import AzureBuildResourcesCleanupOperator
from tests.integration.emulator.vm_builders import build_vm, nic_configuration
from tests.integration.library.harness import run_task
from tests.integration.library.test_disk_operators import image_operator, snapshot_all
from tests.integration.library.test_vm_operators import (
    arm_requests_since,
    build_and_generalize,
    create_operator,
    last_request_id,
    live,
)


def cleanup(fast, vm_name, **kwargs) -> AzureBuildResourcesCleanupOperator:
    return AzureBuildResourcesCleanupOperator(task_id="cleanup", vm_name=vm_name, **kwargs, **fast)


def full_build(info, fast, control, vm_name, **overrides) -> tuple[dict, list[dict], str]:
    created = build_and_generalize(info, fast, control, vm_name, **overrides)
    snapshots = [r.result for r in snapshot_all(fast, created)]
    image_id = run_task(image_operator(fast, f"{vm_name}-image", snapshots)).result
    return created, snapshots, image_id


def test_cleanup_after_a_full_build_leaves_nothing(info, fast, control):
    created, snapshots, image_id = full_build(info, fast, control, "bvm-clean", public_ip=True)
    assert {r["kind"] for r in live(control, "bvm-clean")} == {
        "arm/virtualMachines",
        "arm/disks",
        "arm/networkInterfaces",
        "arm/publicIPAddresses",
        "arm/snapshots",
        "arm/images",
    }
    control.patch("/durations", json={"vm_delete": 1200})  # 2 s here: long enough to defer
    run = run_task(cleanup(fast, "bvm-clean", snapshot_ids=snapshots, image_id=image_id))
    assert live(control, "bvm-clean") == []
    assert [d[0] for d in run.deferrals] == ["imagepool.triggers.arm.ArmOperationsTrigger"]
    assert set(run.result["deleted"]) == {created["vm_id"], image_id, *(s["snapshot_id"] for s in snapshots)}
    again = run_task(cleanup(fast, "bvm-clean", snapshot_ids=snapshots, image_id=image_id))
    assert again.result == {"deleted": [], "kept": []}
    assert again.deferrals == []


def test_cleanup_finds_tagged_snapshots_and_images_when_ids_are_missing(info, fast, control):
    full_build(info, fast, control, "bvm-lost-ids")
    run_task(cleanup(fast, "bvm-lost-ids", snapshot_ids=[None, None], image_id=None))
    assert live(control, "bvm-lost-ids") == []


def test_cleanup_when_nothing_was_made_succeeds_without_waiting(fast, control):
    run = run_task(cleanup(fast, "bvm-nothing", snapshot_ids=None, image_id=None))
    assert run.result == {"deleted": [], "kept": []}
    assert run.deferrals == []


def test_cleanup_of_a_vm_that_failed_to_provision(info, fast, control):
    control.post("/faults", json={"kind": "vm_provisioning_failed", "match": {"name": "^bvm-clean-broken$"}})
    with pytest.raises(AirflowException):
        run_task(create_operator(info, fast, "bvm-clean-broken"))
    assert live(control, "bvm-clean-broken")
    run_task(cleanup(fast, "bvm-clean-broken"))
    assert live(control, "bvm-clean-broken") == []


def test_cleanup_deletes_leftover_disks_named_after_the_vm(info, fast, control, compute):
    run_task(create_operator(info, fast, "bvm-leftover", data_disk_sizes_gb=[]))
    # A disk an earlier build left detached, which would block the next create of this VM.
    leftover = Disk(
        location=info["location"],
        properties=DiskProperties(creation_data=CreationData(create_option="Empty"), disk_size_gb=4),
    )
    compute.disks.begin_create_or_update(info["resource_group"], "bvm-leftover-datadisk-7", leftover).result()
    unrelated = compute.disks.begin_create_or_update(info["resource_group"], "bvm-leftover-x-osdisk", leftover)
    unrelated.result()
    run_task(cleanup(fast, "bvm-leftover"))
    assert [r["id"].rsplit("/", 1)[-1] for r in live(control, "bvm-leftover")] == ["bvm-leftover-x-osdisk"]
    compute.disks.begin_delete(info["resource_group"], "bvm-leftover-x-osdisk").result()


def test_cleanup_deletes_what_the_vm_released_instead_of_deleting(info, fast, control, compute):
    # A VM made elsewhere with deleteOption Detach: deleting it leaves its NIC and OS disk behind.
    vm = build_vm(
        info,
        os_disk_delete="Detach",
        data_disk_delete=None,
        nic=nic_configuration(info, name="nic", delete_option="Detach"),
    )
    vm.storage_profile.os_disk.name = "bvm-detach-osdisk"
    compute.virtual_machines.begin_create_or_update(info["resource_group"], "bvm-detach", vm).result()
    run = run_task(cleanup(fast, "bvm-detach"))
    assert live(control, "bvm-detach") == []
    assert {i.rsplit("/", 1)[-1] for i in run.result["deleted"]} == {
        "bvm-detach",
        "bvm-detach-nic",
        "bvm-detach-osdisk",
    }


def test_keep_deletes_nothing_and_lists_what_was_kept(info, fast, control):
    created, snapshots, image_id = full_build(info, fast, control, "bvm-keep", data_disk_sizes_gb=[])
    mark = last_request_id(control)
    run = run_task(cleanup(fast, "bvm-keep", snapshot_ids=snapshots, image_id=image_id, keep=True))
    assert set(run.result["kept"]) == {created["vm_id"], image_id, snapshots[0]["snapshot_id"]}
    assert run.result["deleted"] == []
    assert not [r for r in arm_requests_since(control, mark) if r["method"] == "DELETE"]
    assert len(live(control, "bvm-keep")) == 5  # VM, OS disk, NIC, snapshot, image
    run_task(cleanup(fast, "bvm-keep", keep="false"))
    assert live(control, "bvm-keep") == []


def test_a_failed_deletion_is_reported_and_the_rest_still_deleted(info, fast, control):
    created, snapshots, image_id = full_build(info, fast, control, "bvm-stubborn", data_disk_sizes_gb=[])
    control.post(
        "/faults",
        json={
            "kind": "operation_failed",
            "code": "InternalExecutionError",
            "count": 1,
            "match": {"resource_type": "virtualMachines", "name": "^bvm-stubborn$"},
        },
    )
    with pytest.raises(AirflowException) as err:
        run_task(cleanup(fast, "bvm-stubborn", snapshot_ids=snapshots, image_id=image_id))
    message = str(err.value)
    assert "InternalExecutionError" in message
    assert "delete build VM bvm-stubborn" in message
    assert "cost money" in message
    assert {r["kind"] for r in live(control, "bvm-stubborn")} == {
        "arm/virtualMachines",
        "arm/disks",
        "arm/networkInterfaces",
    }
    run_task(cleanup(fast, "bvm-stubborn"))
    assert live(control, "bvm-stubborn") == []


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"vm_name": "bad_name!"}, "vm_name 'bad_name!'"),
        ({"snapshot_ids": ["/subscriptions/s/disks/a"]}, "snapshot_ids entry '/subscriptions/s/disks/a'"),
        ({"image_id": "image-1"}, "image_id 'image-1'"),
        ({"keep": "maybe"}, "keep 'maybe'"),
    ],
)
def test_cleanup_bad_input_is_refused_before_any_azure_call(fast, control, overrides, named):
    mark = last_request_id(control)
    with pytest.raises(AirflowFailException) as err:
        run_task(AzureBuildResourcesCleanupOperator(task_id="cleanup", **{"vm_name": "bvm-x", **overrides}, **fast))
    assert named in str(err.value)
    assert arm_requests_since(control, mark) == []
