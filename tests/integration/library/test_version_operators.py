"""Image version operators and the replication sensor against the emulator, deferring through the real triggers."""

from __future__ import annotations

import re

import pytest
from airflow.sdk.exceptions import AirflowFailException
from azure.batch import models as bm
from azure.mgmt.compute.models import (
    Gallery,
    GalleryImage,
    GalleryImageFeature,
    GalleryImageIdentifier,
    GalleryImageProperties,
    Image,
    ImageDataDisk,
    ImageOSDisk,
    ImageProperties,
    ImageStorageProfile,
    SubResource,
)

from imagepool.errors import AzureOperationFailed
from imagepool.operators.versions import (
    AzureImageVersionPruneOperator,
    AzureImageVersionPublishOperator,
    AzureImageVersionReplicasScaleOperator,
)
from imagepool.sensors.versions import AzureImageVersionReplicationSensor
from tests.integration import clients
from tests.integration.emulator import builders
from tests.integration.library.harness import run_task

GALLERY, IMAGE, PRUNED = "ver_ops", "ubuntu", "pruned"
# At the emulator's speed 600: a version prepares in 0.05 s and a region replicates in 0.5 s.
QUICK = {
    "version_prepare": 30,
    "replication_per_region": 300,
    "replication_per_extra_replica": 30,
    "version_update": 30,
    "version_delete": 30,
}
REPLICATION = "imagepool.triggers.versions.ReplicationTrigger"
OPERATION = "imagepool.triggers.arm.ArmOperationTrigger"


def definition(location: str, sku: str) -> GalleryImage:
    return GalleryImage(
        location=location,
        properties=GalleryImageProperties(
            os_type="Linux",
            os_state="Generalized",
            hyper_v_generation="V2",
            features=[GalleryImageFeature(name="SecurityType", value="TrustedLaunchSupported")],
            identifier=GalleryImageIdentifier(publisher="contoso", offer="batch", sku=sku),
        ),
    )


@pytest.fixture(scope="module")
def sources(compute, info):
    """A gallery with two definitions, and what versions are published from: snapshots and a managed image."""
    rg, location = info["resource_group"], info["location"]
    compute.galleries.begin_create_or_update(rg, GALLERY, Gallery(location=location)).result()
    for name in (IMAGE, PRUNED):
        compute.gallery_images.begin_create_or_update(rg, GALLERY, name, definition(location, name)).result()
    os_snap = builders.snapshot(compute, info, "ver_ops_os", builders.disk(compute, info, "ver_ops_os").id)
    data_disk = builders.disk(compute, info, "ver_ops_data", size_gb=64, os_type=None, hyper_v_generation=None)
    data_snap = builders.snapshot(compute, info, "ver_ops_data", data_disk.id)
    storage = ImageStorageProfile(
        os_disk=ImageOSDisk(os_type="Linux", os_state="Generalized", snapshot=SubResource(id=os_snap.id)),
        data_disks=[ImageDataDisk(lun=0, snapshot=SubResource(id=data_snap.id))],
    )
    image = compute.images.begin_create_or_update(
        rg, "ver_ops_image", Image(location=location, properties=ImageProperties(storage_profile=storage))
    ).result()
    yield {"os": os_snap.id, "data": data_snap.id, "image": image.id}
    for name in (IMAGE, PRUNED):
        for version in compute.gallery_image_versions.list_by_gallery_image(rg, GALLERY, name):
            compute.gallery_image_versions.begin_delete(rg, GALLERY, name, version.name).result()
        compute.gallery_images.begin_delete(rg, GALLERY, name).result()
    compute.galleries.begin_delete(rg, GALLERY).result()
    compute.images.begin_delete(rg, "ver_ops_image").result()
    for name in ("ver_ops_os", "ver_ops_data"):
        compute.snapshots.begin_delete(rg, name).result()
        compute.disks.begin_delete(rg, name).result()
    left = clients.control_session(info).get("/resources").json()["value"]
    assert [r["id"] for r in left if "ver_ops" in r["id"] or "ver-ops" in r["id"]] == []


@pytest.fixture
def quick(control):
    control.patch("/durations", json=QUICK)
    return control


def publish(fast, version, image=IMAGE, **args):
    return AzureImageVersionPublishOperator(
        task_id="publish",
        gallery_name=GALLERY,
        image_name=image,
        version=version,
        **{"target_regions": ["westeurope"], **args},
        **fast,
    )


def sensor(fast, version, **args):
    return AzureImageVersionReplicationSensor(
        task_id="replicated", gallery_name=GALLERY, image_name=IMAGE, version=version, **args, **fast
    )


def scale(fast, version, **args):
    return AzureImageVersionReplicasScaleOperator(
        task_id="scale", gallery_name=GALLERY, image_name=IMAGE, version=version, **args, **fast
    )


def versions(compute, info, image=IMAGE) -> list[str]:
    return sorted(
        v.name for v in compute.gallery_image_versions.list_by_gallery_image(info["resource_group"], GALLERY, image)
    )


def replication(compute, info, version) -> dict[str, tuple[str, int]]:
    found = compute.gallery_image_versions.get(
        info["resource_group"], GALLERY, IMAGE, version, expand="ReplicationStatus"
    )
    return {s.region: (s.state, s.progress) for s in found.replication_status.summary}


def arm_requests(control, since: int) -> list[dict]:
    return [r for r in control.get("/requests", params={"since": since}).json()["value"] if r["service"] == "arm"]


def last_request(control) -> int:
    return control.get("/requests", params={"since": 10**12}).json()["summary"]["last_id"]


# --- publish --------------------------------------------------------------------------------------------


def test_publish_from_managed_image_returns_at_once_and_is_reused(sources, fast, quick, compute, info):
    op = publish(
        fast,
        "1.0.0",
        source_image_id=sources["image"],
        target_regions=["West Europe", {"name": "northeurope", "regional_replica_count": 2}],
        end_of_life_date="2099-01-01T00:00:00Z",
        tags={"build": "42"},
    )
    first = run_task(op)
    assert first.deferrals == []
    assert first.result["image_version_id"].endswith(f"/galleries/{GALLERY}/images/{IMAGE}/versions/1.0.0")
    assert first.result["regions"] == ["westeurope", "northeurope"]
    assert first.result["replica_counts"] == {"westeurope": 1, "northeurope": 2}
    assert first.xcom["image_version_portal_url"].endswith("/versions/1.0.0/overview")
    found = compute.gallery_image_versions.get(info["resource_group"], GALLERY, IMAGE, "1.0.0")
    assert found.storage_profile.source.id == sources["image"]
    assert found.provisioning_state == "Creating"  # returned before replication
    assert (found.tags, found.publishing_profile.end_of_life_date.year) == ({"build": "42"}, 2099)

    again = run_task(op)
    assert again.result == first.result
    assert versions(compute, info).count("1.0.0") == 1

    with pytest.raises(AzureOperationFailed) as err:
        run_task(publish(fast, "1.0.0", os_snapshot_id=sources["os"]))
    message = str(err.value)
    assert "versions/1.0.0" in message
    assert "PropertyChangeNotAllowed" in message
    assert "bump the version (for example 1.0.1)" in message


def test_publish_from_snapshots_adds_the_gallery_region_and_caps_replicas(sources, fast, quick, compute, info):
    run = run_task(
        publish(
            fast,
            "1.1.0",
            os_snapshot_id=sources["os"],
            data_snapshot_ids={"0": sources["data"]},
            target_regions=[{"name": "North Europe", "regional_replica_count": 150}],
        )
    )
    assert run.result["regions"] == ["northeurope", "westeurope"]
    assert run.result["replica_counts"] == {"northeurope": 100, "westeurope": 1}
    assert run.result["location"] == "westeurope"
    found = compute.gallery_image_versions.get(info["resource_group"], GALLERY, IMAGE, "1.1.0")
    assert found.storage_profile.os_disk_image.source.id == sources["os"]
    assert [(d.lun, d.source.id) for d in found.storage_profile.data_disk_images] == [(0, sources["data"])]
    assert {t.name: t.regional_replica_count for t in found.publishing_profile.target_regions} == {
        "North Europe": 100,
        "West Europe": 1,
    }
    # The same snapshots, the LUN given as a number this time: the same source, reused.
    again = run_task(
        publish(
            fast,
            "1.1.0",
            os_snapshot_id=sources["os"],
            data_snapshot_ids={0: sources["data"]},
            target_regions=["northeurope"],
        )
    )
    assert again.result["image_version_id"] == run.result["image_version_id"]
    assert versions(compute, info).count("1.1.0") == 1


@pytest.mark.parametrize("version", ["1.0", "1.0.0.0", "a.b.c", "2147483648.0.0", "-1.0.0", "1.0.0 ", "v1.0.0"])
def test_bad_version_rejected_before_any_call(sources, fast, control, version):
    mark = last_request(control)
    with pytest.raises(ValueError, match=re.escape(repr(version))):
        run_task(publish(fast, version, source_image_id=sources["image"]))
    for op in (sensor(fast, version), scale(fast, version)):
        with pytest.raises(ValueError, match="MAJOR.MINOR.PATCH"):
            run_task(op)
    assert arm_requests(control, mark) == []


def test_bad_publish_arguments_named_together(sources, fast, control):
    mark = last_request(control)
    with pytest.raises(ValueError, match="cannot publish image version") as err:
        run_task(
            publish(
                fast,
                "1.2.0",
                source_image_id=sources["image"],
                os_snapshot_id=sources["os"],
                target_regions=["westeurope", "West Europe", {"name": "eastus", "regional_replica_count": 0}],
                storage_account_type="Cheap_LRS",
                end_of_life_date="yesterday",
            )
        )
    message = str(err.value)
    for expected in (
        "exactly one source",
        "westeurope is listed twice",
        "regional_replica_count 0",
        "'Cheap_LRS'",
        "'yesterday'",
    ):
        assert expected in message
    assert arm_requests(control, mark) == []


# --- replication ---------------------------------------------------------------------------------------


def test_wait_for_one_region_while_another_still_replicates(sources, fast, quick, compute, info):
    # West Europe's one replica takes 1.5 s; North Europe's 8 replicas 1.5 + 7 * 0.5 s.
    quick.patch("/durations", json={"replication_per_region": 900, "replication_per_extra_replica": 300})
    run_task(
        publish(
            fast,
            "2.0.0",
            source_image_id=sources["image"],
            target_regions=["westeurope", {"name": "northeurope", "regional_replica_count": 8}],
        )
    )
    first = run_task(sensor(fast, "2.0.0", regions="West Europe"))
    assert first.result["regions"] == ["westeurope"]
    assert [classpath for classpath, _ in first.deferrals] in ([REPLICATION], [])  # [] on a slow machine
    assert first.xcom["image_version_portal_url"].endswith("/versions/2.0.0/overview")
    status = replication(compute, info, "2.0.0")
    assert status["West Europe"] == ("Completed", 100)
    assert status["North Europe"][0] == "Replicating"

    everywhere = run_task(sensor(fast, "2.0.0"))
    assert sorted(everywhere.result["regions"]) == ["northeurope", "westeurope"]
    assert [classpath for classpath, _ in everywhere.deferrals] == [REPLICATION]
    assert everywhere.events[-1]["message"].endswith(
        "replication 100%, 2/2 regions complete (West Europe 100%, North Europe 100%)"
    )
    assert set(replication(compute, info, "2.0.0").values()) == {("Completed", 100)}
    assert run_task(sensor(fast, "2.0.0")).deferrals == []  # already replicated: no trip through the triggerer


def test_failed_region_is_removed_and_added_back(sources, fast, quick, compute, info):
    # Long enough for each step to be waited for: North Europe fails at 1 s, West Europe completes at 2 s.
    quick.patch("/durations", json={"version_update": 600, "replication_per_region": 1200})
    quick.post(
        "/faults",
        json={"kind": "replication_failed", "match": {"region": "northeurope", "version": "3.0.0"}, "count": 1},
    )
    run_task(publish(fast, "3.0.0", source_image_id=sources["image"], target_regions=["westeurope", "northeurope"]))
    run = run_task(sensor(fast, "3.0.0"))
    assert [classpath for classpath, _ in run.deferrals] == [REPLICATION, OPERATION, REPLICATION]
    assert run.events[0]["status"] == "error"
    assert run.events[0]["failed_regions"] == ["northeurope"]
    assert sorted(run.result["regions"]) == ["northeurope", "westeurope"]
    assert set(replication(compute, info, "3.0.0").values()) == {("Completed", 100)}
    found = compute.gallery_image_versions.get(info["resource_group"], GALLERY, IMAGE, "3.0.0")
    assert sorted(t.name for t in found.publishing_profile.target_regions) == ["North Europe", "West Europe"]


def test_failed_region_repaired_in_the_worker_when_not_deferrable(sources, fast, quick, compute, info):
    quick.post(
        "/faults",
        json={"kind": "replication_failed", "match": {"region": "northeurope", "version": "3.1.0"}, "count": 1},
    )
    run_task(publish(fast, "3.1.0", source_image_id=sources["image"], target_regions=["westeurope", "northeurope"]))
    run = run_task(sensor(fast, "3.1.0", regions=["northeurope"], deferrable=False))
    assert run.deferrals == []
    assert run.result["regions"] == ["northeurope"]
    assert replication(compute, info, "3.1.0")["North Europe"] == ("Completed", 100)


def test_region_failing_beyond_the_retries_names_the_region(sources, fast, quick, compute, info):
    quick.post(
        "/faults",
        json={
            "kind": "replication_failed",
            "match": {"region": "northeurope", "version": "4.0.0"},
            "message": "Storage allocation failure.",
        },
    )
    run_task(publish(fast, "4.0.0", source_image_id=sources["image"], target_regions=["westeurope", "northeurope"]))
    # The sensor's repairs were its retries: Airflow does not retry it on top of them.
    with pytest.raises(AirflowFailException) as err:
        run_task(sensor(fast, "4.0.0", region_retries=1))
    message = str(err.value)
    assert "versions/4.0.0" in message
    assert "replication failed in North Europe after 1 retry" in message
    assert "Storage allocation failure." in message
    assert "re-run this task" in message
    assert replication(compute, info, "4.0.0")["North Europe"][0] == "Failed"


def test_region_that_is_not_a_target_fails_fast(sources, fast, quick):
    run_task(publish(fast, "4.1.0", source_image_id=sources["image"]))
    with pytest.raises(Exception, match=re.escape("eastus not among the version's target regions (westeurope)")):
        run_task(sensor(fast, "4.1.0", regions=["eastus"]))


# --- replicas ------------------------------------------------------------------------------------------


def test_scale_raises_to_the_pools_never_lowers_and_is_a_no_op_when_right(sources, fast, quick, compute, info, control):
    run_task(
        publish(
            fast,
            "5.0.0",
            source_image_id=sources["image"],
            target_regions=["westeurope", {"name": "northeurope", "regional_replica_count": 3}],
        )
    )
    with pytest.raises(AzureOperationFailed) as err:  # still Creating: Azure would answer 409
        run_task(scale(fast, "5.0.0", pools=[{"region": "westeurope", "target_dedicated_nodes": 3000}]))
    assert "OperationNotAllowed" in str(err.value)
    assert "AzureImageVersionReplicationSensor" in str(err.value)
    run_task(sensor(fast, "5.0.0"))

    quick.patch("/durations", json={"replication_per_region": 900})  # East US, added, replicates for 1.5 s
    pools = [
        {"region": "West Europe", "target_dedicated_nodes": 2000, "target_low_priority_nodes": 1000},
        {"region": "eastus", "target_dedicated_nodes": 10},
    ]
    raised = run_task(scale(fast, "5.0.0", pools=pools, vms_per_replica=600))
    assert raised.result == {"westeurope": 5, "northeurope": 3, "eastus": 1}
    assert [classpath for classpath, _ in raised.deferrals] == [OPERATION]
    found = compute.gallery_image_versions.get(info["resource_group"], GALLERY, IMAGE, "5.0.0")
    assert {t.name: t.regional_replica_count for t in found.publishing_profile.target_regions} == {
        "West Europe": 5,
        "North Europe": 3,
        "East US": 1,
    }

    mark = last_request(control)
    again = run_task(scale(fast, "5.0.0", pools=pools, vms_per_replica=600))
    assert again.result == raised.result
    assert again.deferrals == []
    assert [r["method"] for r in arm_requests(control, mark)] == ["GET"]

    smaller = [{"region": "westeurope", "target_dedicated_nodes": 300}]
    lowered = run_task(scale(fast, "5.0.0", pools=smaller, allow_lowering=True, replica_counts={"eastus": 2}))
    # West Europe hosts a pool: never lowered; North Europe has none: lowered to the minimum.
    assert lowered.result == {"westeurope": 5, "northeurope": 1, "eastus": 2}


# --- prune ---------------------------------------------------------------------------------------------


def test_prune_keeps_the_newest_the_promoted_and_the_ones_in_use(sources, fast, quick, compute, info):
    published = {
        v: run_task(publish(fast, v, image=PRUNED, source_image_id=sources["image"])).result
        for v in ("1.0.0", "1.0.1", "1.0.2", "1.0.9", "1.0.10")
    }
    quick.patch("/durations", json={"version_delete": 600})  # long enough for the deletion to be waited for
    in_use = published["1.0.0"]["image_version_id"].upper()
    op = AzureImageVersionPruneOperator(
        task_id="prune",
        gallery_name=GALLERY,
        image_name=PRUNED,
        keep=2,
        promoted_version="1.0.1",
        in_use_image_ids=[in_use],
        **fast,
    )
    run = run_task(op)
    assert run.result["deleted"] == ["1.0.2"]
    assert run.result["kept"] == {
        "1.0.10": "among the 2 newest",
        "1.0.9": "among the 2 newest",
        "1.0.1": "the version being promoted",
        "1.0.0": "a Batch pool uses it",
    }
    assert [classpath for classpath, _ in run.deferrals] == [OPERATION]
    assert versions(compute, info, PRUNED) == ["1.0.0", "1.0.1", "1.0.10", "1.0.9"]
    again = run_task(op)
    assert (again.result["deleted"], again.deferrals) == ([], [])


def test_prune_keeps_what_the_batch_accounts_pools_use(sources, fast, quick, compute, info, batch):
    published = {
        v: run_task(publish(fast, v, image=PRUNED, source_image_id=sources["image"])).result for v in ("2.0.0", "2.0.1")
    }
    run_task(
        AzureImageVersionReplicationSensor(
            task_id="replicated", gallery_name=GALLERY, image_name=PRUNED, version="2.0.0", **fast
        )
    )
    batch.create_pool(
        bm.BatchPoolCreateOptions(
            id="ver-ops-prune",
            vm_size="Standard_D2s_v3",
            target_dedicated_nodes=0,
            virtual_machine_configuration=bm.VirtualMachineConfiguration(
                image_reference=bm.BatchVmImageReference(
                    virtual_machine_image_id=published["2.0.0"]["image_version_id"]
                ),
                node_agent_sku_id="batch.node.ubuntu 22.04",
            ),
        )
    )
    try:
        run = run_task(
            AzureImageVersionPruneOperator(
                task_id="prune",
                gallery_name=GALLERY,
                image_name=PRUNED,
                keep=1,
                promoted_version="2.0.1",
                batch_account_urls=[info["batch_endpoint"]],
                **fast,
            )
        )
    finally:
        batch.begin_delete_pool("ver-ops-prune", polling_interval=clients.POLL).result()
    assert run.result["kept"] == {
        "2.0.1": "among the 1 newest, the version being promoted",
        "2.0.0": "a Batch pool uses it",
    }
    assert "2.0.0" in versions(compute, info, PRUNED)
