"""Batch pool operators and the steady sensor against the emulator, deferring through the real triggers."""

from __future__ import annotations

import contextlib
import json
import os
import re

import pytest
from airflow.sdk.exceptions import AirflowException
from azure.batch import models as bm
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute.models import (
    CreationData,
    Disk,
    DiskProperties,
    Gallery,
    GalleryDiskImageSource,
    GalleryImage,
    GalleryImageFeature,
    GalleryImageIdentifier,
    GalleryImageProperties,
    GalleryImageVersion,
    GalleryImageVersionProperties,
    GalleryImageVersionPublishingProfile,
    GalleryImageVersionStorageProfile,
    GalleryOSDiskImage,
    Snapshot,
    SnapshotProperties,
    TargetRegion,
)

from imagepool.errors import AzureOperationFailed
from imagepool.hooks.batch import BatchHook
from imagepool.hooks.connection import InvalidConnection
from imagepool.operators.batch import (
    AzureBatchPoolCreateOperator,
    AzureBatchPoolRetireOperator,
    AzureBatchSmokeJobOperator,
)
from imagepool.sensors.batch import AzureBatchPoolSteadySensor
from tests.integration import clients
from tests.integration.library.harness import run_task

GALLERY, DEFINITION, VERSION = "batch_ops_gallery", "batch-ops-ubuntu", "1.0.0"
AGENT = "batch.node.ubuntu 22.04"
# Emulated seconds; at the test emulator's speed (600) a pool has idle nodes within a fraction of a second.
BATCH_FAST = {
    "pool_allocation_start": 30,
    "pool_allocation_per_replica_batch": 60,
    "node_boot": 30,
    "node_agent_start": 12,
    "start_task": 12,
    "pool_delete": 30,
    "node_remove": 12,
    "pool_resize_stop": 12,
    "task_schedule": 3,
    "task_run": 12,
    "job_delete": 6,
    "job_terminate": 6,
}
ARM_FAST = {
    "disk_create": 6,
    "snapshot_create": 6,
    "gallery_create": 6,
    "gallery_image_create": 6,
    "version_prepare": 6,
    "replication_per_region": 30,
    "replication_per_extra_replica": 6,
    "version_delete": 6,
    "snapshot_delete": 6,
    "disk_delete": 6,
    "gallery_delete": 6,
    "gallery_image_delete": 6,
}


@pytest.fixture(scope="module")
def image_version(info, compute):
    """A Linux Gen2 (Trusted Launch supported) gallery version replicated to the first Batch account's region."""
    rg, location = info["resource_group"], info["batch_accounts"][0]["location"]
    control = clients.control_session(info)
    control.patch("/durations", json=ARM_FAST)
    disk = compute.disks.begin_create_or_update(
        rg,
        "batch_ops_disk",
        Disk(
            location=location,
            properties=DiskProperties(
                creation_data=CreationData(create_option="Empty"),
                disk_size_gb=30,
                os_type="Linux",
                hyper_v_generation="V2",
            ),
        ),
    ).result()
    snapshot = compute.snapshots.begin_create_or_update(
        rg,
        "batch_ops_snap",
        Snapshot(
            location=location,
            properties=SnapshotProperties(creation_data=CreationData(create_option="Copy", source_resource_id=disk.id)),
        ),
    ).result()
    compute.galleries.begin_create_or_update(rg, GALLERY, Gallery(location=location)).result()
    compute.gallery_images.begin_create_or_update(
        rg,
        GALLERY,
        DEFINITION,
        GalleryImage(
            location=location,
            properties=GalleryImageProperties(
                os_type="Linux",
                os_state="Generalized",
                hyper_v_generation="V2",
                features=[GalleryImageFeature(name="SecurityType", value="TrustedLaunchSupported")],
                identifier=GalleryImageIdentifier(publisher="contoso", offer="batch-ops", sku="ubuntu"),
            ),
        ),
    ).result()
    body = GalleryImageVersion(
        location=location,
        properties=GalleryImageVersionProperties(
            publishing_profile=GalleryImageVersionPublishingProfile(
                target_regions=[TargetRegion(name=location, regional_replica_count=1)]
            ),
            storage_profile=GalleryImageVersionStorageProfile(
                os_disk_image=GalleryOSDiskImage(source=GalleryDiskImageSource(id=snapshot.id))
            ),
        ),
    )
    version = compute.gallery_image_versions.begin_create_or_update(rg, GALLERY, DEFINITION, VERSION, body).result()
    assert version.provisioning_state == "Succeeded"
    control.delete("/durations")
    yield version.id
    control.patch("/durations", json=ARM_FAST)
    compute.gallery_image_versions.begin_delete(rg, GALLERY, DEFINITION, VERSION).result()
    compute.gallery_images.begin_delete(rg, GALLERY, DEFINITION).result()
    compute.galleries.begin_delete(rg, GALLERY).result()
    compute.snapshots.begin_delete(rg, "batch_ops_snap").result()
    compute.disks.begin_delete(rg, "batch_ops_disk").result()
    control.delete("/durations")


@pytest.fixture
def quick(control):
    control.patch("/durations", json=BATCH_FAST)
    return control


@pytest.fixture
def pool_ids(batch, quick):
    """Pool ids a test uses; whatever is left of them is deleted afterwards."""
    used: list[str] = []
    yield used
    for pool_id in used:
        with contextlib.suppress(HttpResponseError):
            batch.begin_delete_pool(pool_id, polling_interval=clients.POLL).result()


@pytest.fixture
def shared_key_connection(info):
    account = info["batch_accounts"][0]
    os.environ["AIRFLOW_CONN_AZURE_BATCH_SHAREDKEY"] = json.dumps(
        {
            "conn_type": "azure_batch",
            "login": account["name"],
            "password": account["key"],
            "extra": {"account_url": account["endpoint"], "ca_bundle": info["ca_bundle"]},
        }
    )
    yield "azure_batch_sharedkey"
    os.environ.pop("AIRFLOW_CONN_AZURE_BATCH_SHAREDKEY", None)


def create_operator(fast, pool_id, image_version, **overrides):
    args = dict(
        task_id="create_pool",
        pool_id=pool_id,
        image_version_id=image_version,
        vm_size="Standard_D2s_v3",
        node_agent_sku_id=AGENT,
        os_type="Linux",
        image_security_type="TrustedLaunchSupported",
        target_dedicated_nodes=2,
        start_task_command="/bin/bash -c 'echo ready'",
        batch_account_name="imagepoolbatch",
        **fast,
    )
    args.update(overrides)
    return AzureBatchPoolCreateOperator(**args)


def sensor(fast, pool_id, **overrides):
    return AzureBatchPoolSteadySensor(**{"task_id": "pool_steady", "pool_id": pool_id, **fast, **overrides})


def ready_pool(fast, pool_ids, image_version, pool_id, **overrides):
    """A created pool, steady with healthy nodes."""
    pool_ids.append(pool_id)
    run_task(create_operator(fast, pool_id, image_version, **overrides))
    return run_task(sensor(fast, pool_id)).result


def batch_requests(control, since: int) -> list[dict]:
    return [r for r in control.get("/requests", params={"since": since}).json()["value"] if r["service"] == "batch"]


def last_request_id(control) -> int:
    return control.get("/requests").json()["summary"]["last_id"]


def test_pool_from_gallery_version_becomes_steady_and_healthy(info, fast, quick, batch, pool_ids, image_version):
    # 5 s here: long enough that the sensor must defer even on a loaded machine
    quick.patch("/durations", json={"pool_allocation_start": 3000})
    pool_ids.append("ops-steady")
    created = run_task(
        create_operator(
            fast,
            "ops-steady",
            image_version,
            security_type="trustedLaunch",
            resize_timeout=3600,
            metadata={"image_version": VERSION},
        )
    )
    assert created.result == {"pool_id": "ops-steady", "batch_account_url": info["batch_endpoint"]}
    assert created.deferrals == []  # allocation is the sensor's step
    assert created.xcom["batch_pool_portal_url"].endswith(
        f"/subscriptions/{info['subscription_id']}/resourceGroups/{info['resource_group']}/providers/Microsoft.Batch/"
        "batchAccounts/imagepoolbatch/pools/ops-steady/overview"
    )
    pool = batch.get_pool("ops-steady")
    assert pool.virtual_machine_configuration.image_reference.virtual_machine_image_id == image_version
    assert pool.virtual_machine_configuration.node_agent_sku_id == AGENT
    assert pool.virtual_machine_configuration.security_profile.security_type == "trustedLaunch"
    assert pool.virtual_machine_configuration.security_profile.uefi_settings.vtpm_enabled is True
    assert pool.resize_timeout.total_seconds() == 3600
    assert pool.start_task.wait_for_success is True
    assert pool.enable_auto_scale is False

    steady = run_task(sensor(fast, "ops-steady"))
    assert steady.result == {
        "pool_id": "ops-steady",
        "batch_account_url": info["batch_endpoint"],
        "healthy_nodes": 2,
        "target_nodes": 2,
    }
    assert [d[0] for d in steady.deferrals] == ["imagepool.triggers.batch.PoolSteadyTrigger"]
    assert "steady" in steady.events[-1]["message"]
    assert "2/2 idle" in steady.events[-1]["message"]


def test_reruns_reuse_the_pool(fast, batch, pool_ids, image_version):
    ready_pool(fast, pool_ids, image_version, "ops-rerun")
    again = run_task(create_operator(fast, "OPS-RERUN", image_version))  # Batch ids are case-insensitive
    assert again.result["pool_id"] == "OPS-RERUN"
    assert [p.id for p in batch.list_pools() if p.id.lower() == "ops-rerun"] == ["ops-rerun"]
    assert batch.get_pool("ops-rerun").resize_timeout.total_seconds() == 15 * 60  # pool_sizing's, for 2 nodes
    assert run_task(sensor(fast, "ops-rerun")).deferrals == []  # already healthy: no trip to the triggerer
    assert image_version.lower() in BatchHook().pool_image_ids()


def test_existing_pool_with_another_image_is_an_error(fast, batch, pool_ids, image_version):
    pool_ids.append("ops-other-image")
    batch.create_pool(
        bm.BatchPoolCreateOptions(
            id="ops-other-image",
            vm_size="Standard_D2s_v3",
            target_dedicated_nodes=0,
            virtual_machine_configuration=bm.VirtualMachineConfiguration(
                image_reference=bm.BatchVmImageReference(
                    publisher="Canonical", offer="0001-com-ubuntu-server-jammy", sku="22_04-lts", version="latest"
                ),
                node_agent_sku_id=AGENT,
            ),
        )
    )
    with pytest.raises(AzureOperationFailed) as err:
        run_task(create_operator(fast, "ops-other-image", image_version))
    assert "pool ops-other-image" in str(err.value)
    assert "PoolExists" in str(err.value)
    assert image_version in str(err.value)
    assert "retire the existing pool" in str(err.value)


def test_node_agent_sku_for_another_os_is_rejected_before_creation(fast, batch, pool_ids, image_version):
    pool_ids.append("ops-wrong-sku")
    with pytest.raises(AzureOperationFailed) as err:
        run_task(create_operator(fast, "ops-wrong-sku", image_version, node_agent_sku_id="batch.node.windows amd64"))
    assert "UnsupportedNodeAgentSku" in str(err.value)
    assert "is for windows nodes but the image's OS type is Linux" in str(err.value)
    with pytest.raises(AzureOperationFailed) as err:
        run_task(create_operator(fast, "ops-wrong-sku", image_version, node_agent_sku_id="batch.node.plan9 4"))
    assert "not supported by the Batch account" in str(err.value)
    assert AGENT in str(err.value)
    with pytest.raises(ResourceNotFoundError):
        batch.get_pool("ops-wrong-sku")


def test_shared_key_connection_is_refused_before_any_call(
    fast, control, pool_ids, image_version, shared_key_connection
):
    pool_ids.append("ops-shared-key")
    since = last_request_id(control)
    with pytest.raises(InvalidConnection) as err:
        run_task(create_operator(fast, "ops-shared-key", image_version, azure_conn_id=shared_key_connection))
    assert "SharedKey is not allowed when external resources of type Compute are linked" in str(err.value)
    assert "Entra ID" in str(err.value)
    assert batch_requests(control, since) == []
    # The key is fine for reading the account.
    ok, message = BatchHook(shared_key_connection).test_connection()
    assert ok, message


def test_allocation_timeout_is_retried_with_a_new_resize(fast, quick, pool_ids, image_version):
    quick.post("/faults", json={"kind": "allocation_timeout", "match": {"pool": "^ops-timeout$"}, "count": 1})
    pool_ids.append("ops-timeout")
    run_task(create_operator(fast, "ops-timeout", image_version, target_dedicated_nodes=4))
    since = last_request_id(quick)
    steady = run_task(sensor(fast, "ops-timeout"))
    assert steady.result["healthy_nodes"] == 4
    # Whether the timeout is seen before or after deferring depends on timing; the second resize does not.
    resizes = [r for r in batch_requests(quick, since) if r["method"] == "POST" and r["path"].endswith("/resize")]
    assert len(resizes) == 1
    assert [f for f in quick.get("/faults").json()["value"] if f["kind"] == "allocation_timeout"] == []


def test_allocation_timeouts_beyond_the_retries_fail(fast, quick, pool_ids, image_version):
    quick.post("/faults", json={"kind": "allocation_timeout", "match": {"pool": "^ops-timeouts$"}})
    pool_ids.append("ops-timeouts")
    run_task(create_operator(fast, "ops-timeouts", image_version, target_dedicated_nodes=4))
    with pytest.raises(AirflowException) as err:
        run_task(sensor(fast, "ops-timeouts", max_resizes=1))
    assert "AllocationTimedout" in str(err.value)
    assert "gave up after 1 resizes" in str(err.value)


def test_core_quota_fails_at_once_with_the_azure_code(fast, quick, pool_ids, image_version):
    quick.post(
        "/faults", json={"kind": "core_quota", "match": {"account": "imagepoolbatch"}, "dedicated_cores": 2, "count": 1}
    )
    pool_ids.append("ops-quota")
    run_task(create_operator(fast, "ops-quota", image_version, target_dedicated_nodes=3))
    with pytest.raises(AirflowException) as err:
        run_task(sensor(fast, "ops-quota"))
    assert "pool ops-quota" in str(err.value)
    assert "AccountCoreQuotaReached" in str(err.value)
    assert "request more dedicated cores" in str(err.value)
    assert "gave up" not in str(err.value)  # fatal: no resize was tried
    # Once the quota is raised (the fault fired once), re-running both tasks resizes the pool and converges.
    run_task(create_operator(fast, "ops-quota", image_version, target_dedicated_nodes=3))
    assert run_task(sensor(fast, "ops-quota")).result["healthy_nodes"] == 3


@pytest.mark.parametrize(("fraction", "healthy"), [(0.1, True), (0.3, False)])
def test_start_task_failures_against_the_tolerance(fast, quick, pool_ids, image_version, fraction, healthy):
    pool_id = f"ops-start-{int(fraction * 10)}"
    quick.post("/faults", json={"kind": "start_task_failed", "match": {"pool": f"^{pool_id}$"}, "fraction": fraction})
    pool_ids.append(pool_id)
    run_task(create_operator(fast, pool_id, image_version, target_dedicated_nodes=10))
    check = sensor(fast, pool_id, min_healthy_fraction=0.8, max_failed_fraction=0.2)
    if healthy:
        # The wait ends as soon as 80 % are healthy; the ninth node may still be starting then.
        assert 8 <= run_task(check).result["healthy_nodes"] <= 9
        return
    with pytest.raises(AirflowException) as err:
        run_task(check)
    message = str(err.value)
    assert f"pool {pool_id}: steady" in message
    assert "3 startTaskFailed" in message
    assert "more than the 2 tolerated" in message
    assert "stderr.txt" in message


def test_unusable_nodes_are_failures_not_done(fast, quick, pool_ids, image_version):
    quick.post("/faults", json={"kind": "unusable_nodes", "match": {"pool": "^ops-unusable$"}, "fraction": 0.5})
    pool_ids.append("ops-unusable")
    run_task(create_operator(fast, "ops-unusable", image_version, target_dedicated_nodes=4))
    with pytest.raises(AirflowException) as err:
        run_task(sensor(fast, "ops-unusable"))
    # It fails as soon as unusable nodes pass the tolerance (none here), even while others still start.
    unusable = re.search(r"(\d+) unusable", str(err.value))
    assert unusable
    assert 1 <= int(unusable.group(1)) <= 2
    assert "node agent SKU" in str(err.value)


@pytest.mark.parametrize(("command", "exit_code"), [("/bin/bash -c 'echo ok'", 0), ("/bin/bash -c 'false; exit 3'", 3)])
def test_smoke_job_checks_the_exit_code_and_always_deletes_the_job(
    fast, quick, batch, pool_ids, image_version, command, exit_code
):
    pool_id = f"ops-smoke-{exit_code}"
    ready_pool(fast, pool_ids, image_version, pool_id)
    quick.patch("/durations", json={"task_run": 300})  # 0.5 s here: the operator has to defer
    smoke = AzureBatchSmokeJobOperator(task_id="smoke", pool_id=pool_id, command_line=command, **fast)
    if exit_code == 0:
        run = run_task(smoke)
        assert run.result["exit_code"] == 0
        assert run.result["job_id"] == f"smoke-{pool_id}"
        assert [d[0] for d in run.deferrals] == ["imagepool.triggers.batch.TaskTrigger"]
    else:
        with pytest.raises(AirflowException) as err:
            run_task(smoke)
        assert "exited with 3" in str(err.value)
        assert f"job smoke-{pool_id}" in str(err.value)
        assert "un-promoted" in str(err.value)
    job = _job_or_none(batch, f"smoke-{pool_id}")
    assert job is None or job.state == "deleting"


def _job_or_none(batch, job_id):
    try:
        return batch.get_job(job_id)
    except ResourceNotFoundError:
        return None


def test_retire_drains_resizes_and_deletes_the_pool(fast, quick, batch, pool_ids, image_version):
    ready_pool(fast, pool_ids, image_version, "ops-retire")
    quick.patch("/durations", json={"task_run": 600, "pool_delete": 300})  # 1 s and 0.5 s: both waits defer
    batch.create_job(bm.BatchJobCreateOptions(id="ops-retire-work", pool_info=bm.BatchPoolInfo(pool_id="ops-retire")))
    batch.create_task("ops-retire-work", bm.BatchTaskCreateOptions(id="long", command_line="/bin/sleep 60"))
    retire = AzureBatchPoolRetireOperator(task_id="retire", pool_id="ops-retire", **fast)
    run = run_task(retire)
    assert run.result == {"pool_id": "ops-retire", "deleted": True}
    assert [d[0].rsplit(".", 1)[1] for d in run.deferrals] == ["PoolResizeTrigger", "PoolDeletedTrigger"]
    with pytest.raises(ResourceNotFoundError):
        batch.get_pool("ops-retire")
    assert batch.get_task("ops-retire-work", "long").execution_info.exit_code == 0  # it ran to the end
    batch.begin_delete_job("ops-retire-work", polling_interval=clients.POLL).result()
    again = run_task(retire)
    assert again.result == {"pool_id": "ops-retire", "deleted": False}
    assert again.deferrals == []
