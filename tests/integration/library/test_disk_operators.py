"""Snapshots of the build VM's disks and the managed image made from them, against the emulator."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from imagepool.errors import AzureOperationFailed, AzureResourceNotFound
from imagepool.operators.disks import AzureManagedImageCreateOperator, AzureSnapshotCreateOperator
from tests.integration.library.harness import run_task
from tests.integration.library.test_vm_operators import arm_requests_since, build_and_generalize, last_request_id, live

RUN_KEY = "scheduled__2026-11-22T00:00:00+00:00"


def snapshot_all(fast, created: dict, run_key: str = RUN_KEY) -> list:
    """What ``.partial(run_key=...).expand_kwargs(create_vm.output["disks"])`` runs: one task per disk."""
    return [
        run_task(AzureSnapshotCreateOperator(task_id="snapshot", run_key=run_key, **disk, **fast))
        for disk in created["disks"]
    ]


def image_operator(fast, name, snapshots, **overrides) -> AzureManagedImageCreateOperator:
    return AzureManagedImageCreateOperator(
        task_id="image", image_name=name, snapshots=snapshots, **{**fast, **overrides}
    )


# --- snapshots ---------------------------------------------------------------------------------------


def test_snapshot_each_disk_then_reuse(info, fast, control, compute):
    created = build_and_generalize(info, fast, control, "bvm-snap")
    control.patch("/durations", json={"snapshot_create": 1200})  # 2 s here: long enough to defer
    runs = snapshot_all(fast, created)
    results = [r.result for r in runs]
    assert [r["lun"] for r in results] == ["os", 0, 1]
    assert results[0]["snapshot_id"].endswith("/snapshots/bvm-snap-osdisk-scheduled__2026-11-22T00-00-00-00-00")
    assert results[1]["disk_id"] == created["data_disk_ids"]["0"]
    assert all([d[0] for d in r.deferrals] == ["imagepool.triggers.arm.ArmOperationTrigger"] for r in runs)
    assert runs[0].xcom["snapshot_portal_url"].endswith(f"{results[0]['snapshot_id']}/overview")
    snapshot = compute.snapshots.get(info["resource_group"], results[0]["snapshot_id"].rsplit("/", 1)[-1])
    assert snapshot.provisioning_state == "Succeeded"
    assert snapshot.creation_data.source_resource_id == created["os_disk_id"]
    assert snapshot.tags["imagepool-build-vm"] == "bvm-snap"
    before = sorted(r["id"] for r in live(control, "bvm-snap"))
    again = snapshot_all(fast, created)
    assert [r.result for r in again] == results
    assert all(r.deferrals == [] for r in again)
    assert sorted(r["id"] for r in live(control, "bvm-snap")) == before


def test_failed_snapshot_names_code_and_a_retry_takes_it_again(info, fast, control):
    created = build_and_generalize(info, fast, control, "bvm-snapfail")
    control.post(
        "/faults",
        json={
            "kind": "operation_failed",
            "code": "InternalDiskManagementError",
            "count": 1,
            "match": {"resource_type": "snapshots", "name": "^bvm-snapfail-osdisk-"},
        },
    )
    os_disk = created["disks"][0]
    with pytest.raises(AirflowException) as err:
        run_task(AzureSnapshotCreateOperator(task_id="snapshot", run_key="r1", **os_disk, **fast))
    assert "InternalDiskManagementError" in str(err.value)
    assert "snapshot bvm-snapfail-osdisk-r1" in str(err.value)
    assert "retry" in str(err.value)
    retried = run_task(AzureSnapshotCreateOperator(task_id="snapshot", run_key="r1", **os_disk, **fast))
    assert retried.result["snapshot_id"].endswith("/snapshots/bvm-snapfail-osdisk-r1")


def test_snapshot_of_a_missing_disk_names_it(info, fast):
    disk_id = (
        f"/subscriptions/{info['subscription_id']}/resourceGroups/{info['resource_group']}/providers/"
        "Microsoft.Compute/disks/bvm-gone-osdisk"
    )
    with pytest.raises(AzureResourceNotFound) as err:
        run_task(AzureSnapshotCreateOperator(task_id="snapshot", disk_id=disk_id, lun="os", run_key="r1", **fast))
    assert "bvm-gone-osdisk" in str(err.value)
    assert "cleanup" in str(err.value)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"disk_id": "/subscriptions/x/disks/y"}, "disk_id"),
        ({"lun": "data"}, "lun 'data'"),
        ({"lun": 64}, "lun 64"),
        ({"run_key": "--"}, "run_key '--'"),
    ],
)
def test_snapshot_bad_input_is_refused_before_any_azure_call(info, fast, control, overrides, named):
    args = {
        "disk_id": f"/subscriptions/{info['subscription_id']}/resourceGroups/rg/providers/Microsoft.Compute/disks/d",
        "lun": "os",
        "run_key": "r1",
        **overrides,
    }
    mark = last_request_id(control)
    with pytest.raises(AirflowFailException) as err:
        run_task(AzureSnapshotCreateOperator(task_id="snapshot", **args, **fast))
    assert named in str(err.value)
    assert arm_requests_since(control, mark) == []


# --- managed image -----------------------------------------------------------------------------------


def test_managed_image_from_snapshots_then_reuse(info, fast, control, compute):
    created = build_and_generalize(info, fast, control, "bvm-img")
    snapshots = [r.result for r in snapshot_all(fast, created)]
    control.patch("/durations", json={"image_create": 1200})
    run = run_task(image_operator(fast, "bvm-img-image", snapshots))
    assert run.result.endswith("/images/bvm-img-image")
    assert len(run.deferrals) == 1
    assert run.xcom["managed_image_portal_url"].endswith("/images/bvm-img-image/overview")
    image = compute.images.get(info["resource_group"], "bvm-img-image")
    assert (
        image.hyper_v_generation,
        image.storage_profile.os_disk.os_state,
        image.storage_profile.os_disk.os_type,
    ) == ("V2", "Generalized", "Linux")
    assert {d.lun: d.snapshot.id for d in image.storage_profile.data_disks} == {
        s["lun"]: s["snapshot_id"] for s in snapshots if s["lun"] != "os"
    }
    assert image.tags["imagepool-build-vm"] == "bvm-img"
    again = run_task(image_operator(fast, "bvm-img-image", list(reversed(snapshots))))
    assert (again.result, again.deferrals) == (run.result, [])
    assert len([r for r in live(control, "bvm-img-image")]) == 1


def test_managed_image_from_trusted_launch_is_refused_up_front(info, fast, control):
    created = build_and_generalize(info, fast, control, "bvm-imgtl", security_type="TrustedLaunch")
    snapshots = [r.result for r in snapshot_all(fast, created)]
    with pytest.raises(AzureOperationFailed) as err:
        run_task(image_operator(fast, "bvm-imgtl-image", snapshots))
    assert "TrustedLaunch" in str(err.value)
    assert "direct path" in str(err.value)
    assert live(control, "bvm-imgtl-image") == []


def test_failed_managed_image_names_code(info, fast, control):
    created = build_and_generalize(info, fast, control, "bvm-imgfail", data_disk_sizes_gb=[])
    snapshots = [r.result for r in snapshot_all(fast, created)]
    control.post(
        "/faults",
        json={
            "kind": "operation_failed",
            "code": "InternalOperationError",
            "count": 1,
            "match": {"resource_type": "images", "name": "^bvm-imgfail-image$"},
        },
    )
    with pytest.raises(AirflowException) as err:
        run_task(image_operator(fast, "bvm-imgfail-image", snapshots))
    assert "InternalOperationError" in str(err.value)
    assert "managed image bvm-imgfail-image" in str(err.value)
    assert run_task(image_operator(fast, "bvm-imgfail-image", snapshots)).result.endswith("/images/bvm-imgfail-image")


@pytest.mark.parametrize(
    ("snapshots", "named"),
    [
        ([], "exactly one lun 'os'"),
        (
            [{"snapshot_id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/snapshots/a", "lun": 0}],
            "exactly one lun 'os'",
        ),
        (
            [
                {
                    "snapshot_id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/snapshots/a",
                    "lun": "os",
                },
                {
                    "snapshot_id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/snapshots/b",
                    "lun": "os",
                },
            ],
            "two entries for lun 'os'",
        ),
        ([{"snapshot_id": "/subscriptions/s/disks/a", "lun": "os"}], "snapshots[].snapshot_id"),
        ("not a list", "exactly one lun 'os'"),
    ],
)
def test_managed_image_bad_input_is_refused_before_any_azure_call(fast, control, snapshots, named):
    mark = last_request_id(control)
    with pytest.raises(AirflowFailException) as err:
        run_task(image_operator(fast, "bvm-bad-image", snapshots))
    assert named in str(err.value)
    assert arm_requests_since(control, mark) == []


def test_managed_image_name_is_checked(fast, control):
    snapshot = {"snapshot_id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/snapshots/a", "lun": "os"}
    with pytest.raises(AirflowFailException) as err:
        run_task(image_operator(fast, "-bad-", [snapshot]))
    assert "image_name '-bad-'" in str(err.value)
