"""Batch pools through the real azure-batch clients (sync and aio) over HTTPS: add, get, list, delete,
resize, stop resize, update, the allocation model, faults, accounts and authentication rules.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from azure.batch import models as bm
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.compute.models import (
    Gallery,
    GalleryDiskImageSource,
    GalleryImage,
    GalleryImageIdentifier,
    GalleryImageProperties,
    GalleryImageVersion,
    GalleryImageVersionProperties,
    GalleryImageVersionPublishingProfile,
    GalleryImageVersionStorageProfile,
    GalleryImageVersionUpdate,
    GalleryOSDiskImage,
    TargetRegion,
)

from tests.integration import clients
from tests.integration.emulator import builders
from tests.integration.emulator.batch_support import (
    POLL,
    counts,
    error_values,
    gallery_pool,
    marketplace_pool,
    resize,
    shared_key,
    steady,
    wait_until,
)

UBUNTU_GEN2 = {
    "publisher": "Canonical",
    "offer": "0001-com-ubuntu-server-jammy",
    "sku": "22_04-lts-gen2",
    "version": "22.04.202410020",
}


def trusted_launch(pool: bm.BatchPoolCreateOptions) -> bm.BatchPoolCreateOptions:
    pool.virtual_machine_configuration.security_profile = bm.SecurityProfile(
        security_type="trustedLaunch", uefi_settings=bm.BatchUefiSettings(secure_boot_enabled=True, vtpm_enabled=True)
    )
    return pool


def test_create_get_list_delete(batch, pools, control):
    control.patch("/durations", json={"pool_allocation_start": 300})  # half a second to look at the new pool
    headers = {}
    batch.create_pool(
        marketplace_pool("crud", 2, display_name="first pool"), cls=lambda response, _, found: headers.update(found)
    )
    pools.made.append((batch, "crud"))
    assert headers["ETag"].startswith("0x")
    assert headers["Last-Modified"] is not None
    assert headers["DataServiceId"].endswith("/pools/crud")
    pool = batch.get_pool("crud")
    assert (pool.id, pool.display_name, pool.state, pool.allocation_state) == (
        "crud",
        "first pool",
        "active",
        "resizing",
    )
    assert (pool.vm_size, pool.target_dedicated_nodes, pool.current_dedicated_nodes) == ("standard_d2s_v3", 2, 0)
    assert pool.resize_timeout == dt.timedelta(minutes=15)
    assert (pool.task_slots_per_node, pool.task_scheduling_policy.node_fill_type) == (1, "spread")
    assert pool.url.endswith("/pools/crud")
    assert pool.etag == headers["ETag"]
    assert pool.virtual_machine_configuration.node_agent_sku_id == "batch.node.ubuntu 22.04"
    assert batch.get_pool("CRUD").id == "crud"  # ids are case-insensitive, case-preserving
    assert batch.pool_exists("crud") is True
    assert "crud" in [p.id for p in batch.list_pools()]
    assert [p.id for p in batch.list_pools(filter="id eq 'crud'")] == ["crud"]
    assert steady(batch, "crud").current_dedicated_nodes == 2

    control.patch("/durations", json={"pool_delete": 300})
    poller = batch.begin_delete_pool("crud", polling_interval=POLL)
    assert batch.get_pool("crud").state == "deleting"
    with pytest.raises(ResourceExistsError) as err:
        batch.begin_resize_pool("crud", bm.BatchPoolResizeOptions(target_dedicated_nodes=3))
    assert err.value.error.code == "PoolBeingDeleted"
    poller.result()
    assert poller.status() == "Succeeded"
    with pytest.raises(ResourceNotFoundError) as err:
        batch.get_pool("crud")
    assert err.value.error.code == "PoolNotFound"
    with pytest.raises(ResourceNotFoundError):
        batch.pool_exists("crud")  # the SDK's error policy raises on the 404 before pool_exists sees it


def test_list_pools_pages_and_filters(batch, pools):
    for name in ("page_a", "page_b", "page_c"):
        pools.add(batch, marketplace_pool(name, 0))
    paged = batch.list_pools(filter="startswith(id,'page_')", max_results=2)
    pages = [[p.id for p in page] for page in paged.by_page()]
    assert pages == [["page_a", "page_b"], ["page_c"]]
    assert [p.id for p in batch.list_pools(filter="id eq 'page_b' or id eq 'page_c'")] == ["page_b", "page_c"]
    selected = next(iter(batch.list_pools(filter="id eq 'page_a'", select=["id", "state"])))
    assert (selected.id, selected.state, selected.vm_size) == ("page_a", "active", None)
    with pytest.raises(HttpResponseError) as err:
        list(batch.list_pools(filter="id gt 'x'"))
    assert (err.value.status_code, err.value.error.code) == (400, "InvalidQueryParameterValue")


def test_pool_id_must_be_unique_case_insensitively(batch, pools):
    pools.add(batch, marketplace_pool("unique_pool", 0))
    with pytest.raises(ResourceExistsError) as err:
        batch.create_pool(marketplace_pool("UNIQUE_POOL", 0))
    assert (err.value.status_code, err.value.error.code) == (409, "PoolExists")


@pytest.mark.parametrize(
    ("pool", "prop"),
    [
        (marketplace_pool("bad id"), "id"),
        (marketplace_pool("x" * 65), "id"),
        (marketplace_pool("bad_size", vm_size="Standard_Z99"), "vmSize"),
        (marketplace_pool("bad_agent_os", agent="batch.node.windows amd64"), "nodeAgentSKUId"),
        (marketplace_pool("unknown_agent", agent="batch.node.centos 7"), "nodeAgentSKUId"),
        (marketplace_pool("short_timeout", resize_timeout=dt.timedelta(minutes=4)), "resizeTimeout"),
        (marketplace_pool("many_slots", task_slots_per_node=9), "taskSlotsPerNode"),
        (
            marketplace_pool(
                "old_version",
                image=dict(
                    publisher="Canonical", offer="0001-com-ubuntu-server-jammy", sku="22_04-lts", version="1.0.0"
                ),
            ),
            "imageReference.version",
        ),
        (
            marketplace_pool("not_batch", image=dict(publisher="contoso", offer="x", sku="y", version="latest")),
            "imageReference",
        ),
        (trusted_launch(marketplace_pool("tl_gen1")), "securityProfile.securityType"),  # needs a Gen2 image
        (trusted_launch(marketplace_pool("tl_a2", image=UBUNTU_GEN2, vm_size="Standard_A2_v2")), "vmSize"),
    ],
)
def test_invalid_pools_are_refused_before_anything_exists(batch, pool, prop):
    with pytest.raises(HttpResponseError) as err:
        batch.create_pool(pool)
    assert (err.value.status_code, err.value.error.code) == (400, "InvalidPropertyValue")
    assert error_values(err.value)["PropertyName"] == prop
    assert pool.id not in [p.id for p in batch.list_pools()]


def test_missing_properties_are_named(batch):
    with pytest.raises(HttpResponseError) as err:
        batch.create_pool(marketplace_pool("no_target", None))
    assert err.value.error.code == "MissingRequiredProperty"
    assert error_values(err.value) == {"PropertyName": "targetDedicatedNodes"}


def test_trusted_launch_on_gen2_image(batch, pools):
    pools.add(batch, trusted_launch(marketplace_pool("tl_gen2", 1, image=UBUNTU_GEN2)))
    created = batch.get_pool("tl_gen2")
    assert created.virtual_machine_configuration.security_profile.security_type == "trustedLaunch"


def test_resize_and_stop_resize_pollers(batch, pools, control):
    pools.add(batch, marketplace_pool("resized", 1))
    steady(batch, "resized")
    batch.begin_resize_pool(
        "resized",
        bm.BatchPoolResizeOptions(target_dedicated_nodes=3, target_low_priority_nodes=1),
        polling_interval=POLL,
    ).result()
    pool = batch.get_pool("resized")
    assert (pool.allocation_state, pool.current_dedicated_nodes, pool.current_low_priority_nodes) == ("steady", 3, 1)
    assert pool.resize_errors is None

    batch.begin_resize_pool(
        "resized",
        bm.BatchPoolResizeOptions(target_dedicated_nodes=1, node_deallocation_option="requeue"),
        polling_interval=POLL,
    ).result()
    pool = batch.get_pool("resized")
    assert (pool.current_dedicated_nodes, pool.target_low_priority_nodes, pool.current_low_priority_nodes) == (1, 1, 1)

    # A slow allocation, stopped half way: the nodes allocated so far stay.
    control.patch("/durations", json={"pool_allocation_per_replica_batch": 600, "pool_resize_stop": 300})
    poller = batch.begin_resize_pool(
        "resized", bm.BatchPoolResizeOptions(target_dedicated_nodes=9), polling_interval=POLL
    )
    assert batch.get_pool("resized").allocation_state == "resizing"
    with pytest.raises(ResourceExistsError) as err:
        batch.begin_resize_pool("resized", bm.BatchPoolResizeOptions(target_dedicated_nodes=2))
    assert err.value.error.code == "PoolBeingResized"
    wait_until(lambda: batch.get_pool("resized").current_dedicated_nodes >= 3)
    stop = batch.begin_stop_pool_resize("resized", polling_interval=POLL)
    assert batch.get_pool("resized").allocation_state == "stopping"
    stop.result()
    poller.result()
    pool = batch.get_pool("resized")
    assert pool.allocation_state == "steady"
    assert 3 <= pool.current_dedicated_nodes < 9
    assert [e.code for e in pool.resize_errors] == ["ResizeStopped"]
    # The next resize clears the errors of the last one.
    resize(batch, "resized", 2)
    pool = batch.get_pool("resized")
    assert (pool.current_dedicated_nodes, pool.resize_errors) == (2, None)


def test_allocation_timeout_fault(batch, pools, control):
    control.post("/faults", json={"kind": "allocation_timeout", "match": {"pool": "^timed_out$"}, "count": 1})
    pools.add(batch, marketplace_pool("timed_out", 4, resize_timeout=dt.timedelta(minutes=5)))
    poll = batch.get_pool("timed_out")
    assert poll.allocation_state == "resizing"
    assert poll.resize_errors is None
    pool = steady(batch, "timed_out")
    assert pool.current_dedicated_nodes == 2
    assert [(e.code, e.message) for e in pool.resize_errors] == [
        (
            "AllocationTimedout",
            "Desired number of dedicated nodes could not be allocated as the resize timeout was reached",
        )
    ]
    # The pool reached steady at the timeout, measured from the resize request.
    assert pool.allocation_state_transition_time - pool.creation_time == pytest.approx(
        dt.timedelta(minutes=5), abs=dt.timedelta(seconds=1)
    )


def test_slow_allocation_times_out_with_the_nodes_allocated_by_then(batch, pools, control):
    # Nodes arrive at 30 s + 600 s * i/4: only the first fits in five minutes.
    control.patch("/durations", json={"pool_allocation_per_replica_batch": 600})
    pools.add(batch, marketplace_pool("slow", 4, resize_timeout=dt.timedelta(minutes=5)))
    pool = steady(batch, "slow")
    assert pool.current_dedicated_nodes == 1
    assert [e.code for e in pool.resize_errors] == ["AllocationTimedout"]


def test_core_quota_allocates_what_fits(batch, pools, control):
    control.post("/faults", json={"kind": "core_quota", "dedicated_cores": 4, "low_priority_cores": 2})
    pools.add(batch, marketplace_pool("quota", 3, target_low_priority_nodes=2))
    pool = steady(batch, "quota")
    assert (pool.current_dedicated_nodes, pool.current_low_priority_nodes) == (2, 1)  # 2 cores per node
    assert sorted(e.code for e in pool.resize_errors) == [
        "AccountCoreQuotaReached",
        "AccountLowPriorityCoreQuotaReached",
    ]


def test_autoscale_pool_takes_constant_targets_from_its_formula(batch, pools):
    pools.add(
        batch,
        marketplace_pool(
            "autoscaled",
            None,
            enable_auto_scale=True,
            auto_scale_formula="$TargetDedicatedNodes = 2; $TargetLowPriorityNodes = 1;",
            auto_scale_evaluation_interval=dt.timedelta(minutes=5),
        ),
    )
    pool = steady(batch, "autoscaled")
    assert (pool.enable_auto_scale, pool.current_dedicated_nodes, pool.current_low_priority_nodes) == (True, 2, 1)
    assert pool.auto_scale_evaluation_interval == dt.timedelta(minutes=5)
    assert pool.auto_scale_run.results == "$TargetDedicatedNodes=2;$TargetLowPriorityNodes=1"
    with pytest.raises(ResourceExistsError) as err:
        batch.begin_resize_pool("autoscaled", bm.BatchPoolResizeOptions(target_dedicated_nodes=3))
    assert err.value.error.code == "OperationInvalidForCurrentState"
    with pytest.raises(HttpResponseError) as err:
        batch.create_pool(marketplace_pool("autoscaled_too", 2, enable_auto_scale=True, auto_scale_formula="x"))
    assert error_values(err.value)["PropertyName"] == "targetDedicatedNodes"


def test_update_and_replace_properties(batch, pools):
    pools.add(batch, marketplace_pool("updated", 1))
    start_task = bm.BatchStartTask(command_line="/bin/bash -c 'echo ready'", wait_for_success=True)
    batch.update_pool(
        "updated",
        bm.BatchPoolUpdateOptions(start_task=start_task, metadata=[bm.BatchMetadataItem(name="image", value="1.0.0")]),
    )
    pool = batch.get_pool("updated")
    assert pool.start_task.command_line == "/bin/bash -c 'echo ready'"
    assert [(m.name, m.value) for m in pool.metadata] == [("image", "1.0.0")]
    with pytest.raises(ResourceExistsError) as err:
        batch.update_pool("updated", bm.BatchPoolUpdateOptions(vm_size="Standard_D4s_v3"))
    assert err.value.error.code == "OperationInvalidForCurrentState"
    batch.replace_pool_properties(
        "updated",
        bm.BatchPoolReplaceOptions(
            application_package_references=[], metadata=[bm.BatchMetadataItem(name="image", value="2.0.0")]
        ),
    )
    pool = batch.get_pool("updated")
    assert pool.start_task is None
    assert [(m.name, m.value) for m in pool.metadata] == [("image", "2.0.0")]
    # An empty pool may change its size. A pool resizes only once steady: its first allocation ends first.
    steady(batch, "updated")
    resize(batch, "updated", 0)
    wait_until(lambda: batch.get_pool("updated").current_dedicated_nodes == 0)
    batch.update_pool("updated", bm.BatchPoolUpdateOptions(vm_size="Standard_D4s_v3"))
    assert batch.get_pool("updated").vm_size == "standard_d4s_v3"


def test_accounts_have_their_own_pools(info, batch, second_batch, pools):
    pools.add(second_batch, marketplace_pool("shared_name", 1))
    pools.add(batch, marketplace_pool("shared_name", 0))
    assert second_batch.get_pool("shared_name").target_dedicated_nodes == 1
    assert batch.get_pool("shared_name").target_dedicated_nodes == 0
    assert second_batch.get_pool("shared_name").url.startswith(info["batch_accounts"][1]["endpoint"])
    steady(second_batch, "shared_name")
    assert [c.pool_id for c in second_batch.list_pool_node_counts()] == ["shared_name"]


def test_shared_key_can_manage_marketplace_pools(shared_key_batch, pools):
    pools.add(shared_key_batch, marketplace_pool("shared_key_pool", 1))
    pools.add(shared_key_batch, marketplace_pool("shared_key_pool_2", 0))
    assert steady(shared_key_batch, "shared_key_pool").current_dedicated_nodes == 1
    assert shared_key_batch.pool_exists("shared_key_pool")
    # The next page's link is signed like any other request.
    pages = shared_key_batch.list_pools(filter="startswith(id,'shared_key')", max_results=1).by_page()
    assert [[p.id for p in page] for page in pages] == [["shared_key_pool"], ["shared_key_pool_2"]]


def test_wrong_shared_key_is_refused(info):
    with shared_key(info, key_of=1) as client:
        with pytest.raises(HttpResponseError) as err:
            client.get_pool("anything")
    assert (err.value.status_code, err.value.error.code) == (403, "AuthenticationFailed")


async def test_async_client_create_resize_delete(info, fast):
    fast.patch("/durations", json={"pool_allocation_start": 300})
    async with clients.async_credential(info) as credential, clients.async_batch(info, credential) as client:
        await client.create_pool(marketplace_pool("async_pool", 1))
        assert (await client.get_pool("async_pool")).allocation_state == "resizing"
        with pytest.raises(ResourceExistsError) as err:
            await client.begin_resize_pool("async_pool", bm.BatchPoolResizeOptions(target_dedicated_nodes=2))
        assert err.value.error.code == "PoolBeingResized"
        for _ in range(200):
            if (await client.get_pool("async_pool")).allocation_state == "steady":
                break
            await asyncio.sleep(POLL)
        poller = await client.begin_resize_pool(
            "async_pool", bm.BatchPoolResizeOptions(target_dedicated_nodes=2), polling_interval=POLL
        )
        await poller.result()
        assert (await client.get_pool("async_pool")).current_dedicated_nodes == 2
        assert [p.id async for p in client.list_pools(filter="id eq 'async_pool'")] == ["async_pool"]
        assert [c.dedicated.total async for c in client.list_pool_node_counts(filter="poolId eq 'async_pool'")] == [2]
        delete = await client.begin_delete_pool("async_pool", polling_interval=POLL)
        await delete.result()
        with pytest.raises(ResourceNotFoundError):
            await client.get_pool("async_pool")


# --- pools on Compute Gallery images ---------------------------------------------------------------

GALLERY, DEFINITION = "gal_batch_pools", "ubuntu_batch"
# Builds and replication in a fraction of a second of real time.
ARM_FAST = {
    "disk_create": 6,
    "snapshot_create": 6,
    "gallery_create": 6,
    "gallery_image_create": 6,
    "version_prepare": 6,
    "replication_per_region": 30,
    "replication_per_extra_replica": 6,
    "version_update": 6,
    "version_delete": 6,
    "snapshot_delete": 6,
    "disk_delete": 6,
    "gallery_delete": 6,
    "gallery_image_delete": 6,
}


def version_body(info, snapshot_id: str, regions: list[str]) -> GalleryImageVersion:
    return GalleryImageVersion(
        location=info["location"],
        properties=GalleryImageVersionProperties(
            publishing_profile=GalleryImageVersionPublishingProfile(
                target_regions=[TargetRegion(name=region, regional_replica_count=1) for region in regions]
            ),
            storage_profile=GalleryImageVersionStorageProfile(
                os_disk_image=GalleryOSDiskImage(source=GalleryDiskImageSource(id=snapshot_id))
            ),
        ),
    )


@pytest.fixture(scope="module")
def gallery_image(compute, info):
    """A Linux Gen2 definition with version 1.0.0 replicated to the first account's region only."""
    rg, location = info["resource_group"], info["location"]
    control = clients.control_session(info)
    control.patch("/durations", json=ARM_FAST)
    snapshot = builders.snapshot(compute, info, "snap_batch_pools", builders.disk(compute, info, "dsk_batch_pools").id)
    compute.galleries.begin_create_or_update(rg, GALLERY, Gallery(location=location)).result()
    definition = compute.gallery_images.begin_create_or_update(
        rg,
        GALLERY,
        DEFINITION,
        GalleryImage(
            location=location,
            properties=GalleryImageProperties(
                os_type="Linux",
                os_state="Generalized",
                hyper_v_generation="V2",
                identifier=GalleryImageIdentifier(publisher="contoso", offer="batch", sku="ubuntu"),
            ),
        ),
    ).result()
    version = compute.gallery_image_versions.begin_create_or_update(
        rg, GALLERY, DEFINITION, "1.0.0", version_body(info, snapshot.id, [location])
    ).result()
    control.delete("/durations")
    yield {"definition": definition.id, "version": version.id, "snapshot": snapshot.id}
    control.patch("/durations", json=ARM_FAST)
    compute.gallery_image_versions.begin_delete(rg, GALLERY, DEFINITION, "1.0.0").result()
    compute.gallery_images.begin_delete(rg, GALLERY, DEFINITION).result()
    compute.galleries.begin_delete(rg, GALLERY).result()
    compute.snapshots.begin_delete(rg, "snap_batch_pools").result()
    compute.disks.begin_delete(rg, "dsk_batch_pools").result()
    control.delete("/durations")


def test_gallery_pool_needs_a_replica_in_the_account_region(
    info, compute, batch, second_batch, pools, control, gallery_image
):
    assert (info["batch_accounts"][0]["location"], info["batch_accounts"][1]["location"]) == (
        "westeurope",
        "northeurope",
    )
    with pytest.raises(HttpResponseError) as err:
        second_batch.create_pool(gallery_pool("gallery_ne", gallery_image["version"]))
    assert (err.value.status_code, err.value.error.code) == (400, "InvalidPropertyValue")
    values = error_values(err.value)
    assert values["PropertyName"] == "virtualMachineImageId"
    assert "northeurope" in values["Reason"]

    pools.add(batch, gallery_pool("gallery_we", gallery_image["version"]))
    wait_until(lambda: counts(batch, "gallery_we")[0] == {"idle": 2, "total": 2})
    node = next(iter(batch.list_nodes("gallery_we")))
    assert node.virtual_machine_info.image_reference.virtual_machine_image_id == gallery_image["version"]
    assert node.virtual_machine_info.image_reference.exact_version == "1.0.0"

    # Replicate to North Europe, as the pipeline does before it rolls a pool there.
    control.patch("/durations", json=ARM_FAST)
    compute.gallery_image_versions.begin_update(
        info["resource_group"],
        GALLERY,
        DEFINITION,
        "1.0.0",
        GalleryImageVersionUpdate(
            properties=GalleryImageVersionProperties(
                publishing_profile=GalleryImageVersionPublishingProfile(
                    target_regions=[
                        TargetRegion(name=r, regional_replica_count=1) for r in ("westeurope", "northeurope")
                    ]
                ),
                storage_profile=GalleryImageVersionStorageProfile(),
            )
        ),
    ).result()
    pools.add(second_batch, gallery_pool("gallery_ne", gallery_image["version"]))
    assert steady(second_batch, "gallery_ne").current_dedicated_nodes == 2


def test_gallery_pool_is_refused_with_shared_key(shared_key_batch, gallery_image):
    with pytest.raises(HttpResponseError) as err:
        shared_key_batch.create_pool(gallery_pool("gallery_sk", gallery_image["version"]))
    assert (err.value.status_code, err.value.error.code) == (403, "AuthenticationFailed")
    assert err.value.error.message.startswith(
        "Server failed to authenticate the request. Make sure the value of "
        "Authorization header is formed correctly including the signature."
    )
    assert error_values(err.value) == {
        "AuthenticationErrorDetail": "The specified type of authentication SharedKey is "
        "not allowed when external resources of type Compute are linked."
    }
    assert "gallery_sk" not in [p.id for p in shared_key_batch.list_pools()]


def test_gallery_definition_id_means_its_latest_version(batch, pools, gallery_image):
    pools.add(batch, gallery_pool("gallery_latest", gallery_image["definition"], 1))
    wait_until(lambda: counts(batch, "gallery_latest")[0].get("idle") == 1)
    node = next(iter(batch.list_nodes("gallery_latest")))
    assert node.virtual_machine_info.image_reference.exact_version == "1.0.0"


@pytest.mark.parametrize(
    ("change", "prop"),
    [
        ("version", "version"),
        ("other_subscription", "virtualMachineImageId"),
        ("missing", "virtualMachineImageId"),
        ("windows_agent", "nodeAgentSKUId"),
    ],
)
def test_gallery_image_rules(info, batch, gallery_image, change, prop):
    pool = gallery_pool("gallery_bad", gallery_image["version"])
    reference = pool.virtual_machine_configuration.image_reference
    if change == "version":
        reference.version = "1.0.0"  # Batch refuses a version next to an image id
    elif change == "other_subscription":
        reference.virtual_machine_image_id = gallery_image["version"].replace(
            info["subscription_id"], "11111111-0000-4000-8000-000000000000"
        )
    elif change == "missing":
        reference.virtual_machine_image_id = gallery_image["version"].replace("1.0.0", "9.9.9")
    else:
        pool.virtual_machine_configuration.node_agent_sku_id = "batch.node.windows amd64"
    with pytest.raises(HttpResponseError) as err:
        batch.create_pool(pool)
    assert (err.value.status_code, err.value.error.code) == (400, "InvalidPropertyValue")
    assert error_values(err.value)["PropertyName"] == prop


def test_few_replicas_make_large_gallery_pools_time_out(batch, pools, control, gallery_image):
    # One replica serves one VM at a time here: three nodes take three 100 s batches after the 30 s start,
    # past the five minute timeout; a Marketplace image (plenty of replicas) needs one batch.
    control.patch("/durations", json={"vms_per_replica": 1, "pool_allocation_per_replica_batch": 100})
    pools.add(batch, gallery_pool("gallery_slow", gallery_image["version"], 3, resize_timeout=dt.timedelta(minutes=5)))
    pools.add(batch, marketplace_pool("marketplace_fast", 3, resize_timeout=dt.timedelta(minutes=5)))
    slow, quick = steady(batch, "gallery_slow"), steady(batch, "marketplace_fast")
    assert slow.current_dedicated_nodes == 2
    assert [e.code for e in slow.resize_errors] == ["AllocationTimedout"]
    assert quick.current_dedicated_nodes == 3
    assert quick.resize_errors is None
