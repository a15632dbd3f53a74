"""Disk, snapshot and gallery image version rules in-process, on a frozen emulated clock; what the Batch
emulator asks about gallery images (``pool_image_info``).
"""

from __future__ import annotations

import pytest

from azure_emulator.arm.models import disks, galleries, galleryimageversions as versions, snapshots
from azure_emulator.backend import Backend
from azure_emulator.errors import AzureError

DURATIONS = {
    "version_prepare": 100,
    "replication_per_region": 1000,
    "replication_per_extra_replica": 100,
    "version_update": 10,
    "replication_failure_after": 0.5,
}


class FrozenClock:
    """Emulated time that moves only when a test says so."""

    def __init__(self, start: float):
        self.at = start

    def __call__(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds


@pytest.fixture
def backend(tmp_path):
    backend = Backend(tmp_path, speed=1000)
    backend.clock.now = FrozenClock(backend.clock.now())
    backend.durations.update(DURATIONS)
    return backend


@pytest.fixture
def compute(backend) -> str:
    return f"/subscriptions/{backend.settings.subscription_id}/resourceGroups/rg/providers/Microsoft.Compute"


def definition(backend, compute, name="ubuntu", *, os_type="Linux", security="TrustedLaunchSupported") -> str:
    gallery = f"{compute}/galleries/gal"
    if backend.view(galleries.GALLERIES, gallery) is None:
        galleries.put_gallery(backend, gallery, "westeurope", {}, {})
    image = f"{gallery}/images/{name}"
    galleries.put_image(
        backend,
        gallery,
        image,
        "westeurope",
        {},
        {
            "osType": os_type,
            "osState": "Generalized",
            "hyperVGeneration": "V2",
            "identifier": {"publisher": "p", "offer": "o", "sku": name},
            "features": [{"name": "SecurityType", "value": security}],
        },
    )
    return image


def snapshot(backend, compute, name="snap", *, os_type="Linux") -> str:
    disk = disks.new_disk(
        backend,
        f"{compute}/disks/{name}-disk",
        location="westeurope",
        size_gb=30,
        creation_data={"createOption": "Empty"},
        os_type=os_type,
        hyper_v_generation="V2",
    )
    doc, *_ = snapshots.put_snapshot(
        backend,
        f"{compute}/snapshots/{name}",
        "westeurope",
        {},
        None,
        {"creationData": {"createOption": "Copy", "sourceResourceId": disk["id"]}},
    )
    backend.clock.now.advance(backend.durations["snapshot_create"])
    return doc["id"]


def publish(backend, image: str, snap: str, name: str, regions=(("westeurope", 1),), **profile) -> dict:
    targets = [{"name": region, "regionalReplicaCount": count} for region, count in regions]
    doc, *_ = versions.put_version(
        backend,
        f"{image}/versions/{name}",
        "westeurope",
        {},
        {
            "publishingProfile": {"targetRegions": targets, **profile},
            "storageProfile": {"osDiskImage": {"source": {"id": snap}}},
        },
    )
    return doc


def test_pool_image_info_follows_replication(backend, compute):
    image = definition(backend, compute)
    version = publish(backend, image, snapshot(backend, compute), "1.0.0", (("westeurope", 3), ("northeurope", 1)))
    before = versions.pool_image_info(backend, version["id"], "westeurope")
    assert before == {
        "version_id": version["id"],
        "os_type": "Linux",
        "hyper_v_generation": "V2",
        "security_type": "TrustedLaunchSupported",
        "replicated": False,
        "replica_count": 0,
    }
    backend.clock.now.advance(100 + 1000)  # North Europe (1 replica) is done, West Europe (3) is not
    assert versions.pool_image_info(backend, version["id"], "northeurope")["replica_count"] == 1
    assert not versions.pool_image_info(backend, version["id"], "westeurope")["replicated"]
    backend.clock.now.advance(200)
    after = versions.pool_image_info(backend, version["id"], "westeurope")
    assert (after["replicated"], after["replica_count"]) == (True, 3)
    elsewhere = versions.pool_image_info(backend, version["id"], "eastus")
    assert (elsewhere["replicated"], elsewhere["replica_count"]) == (False, 0)


def test_existing_replicas_keep_serving_while_more_replicate(backend, compute):
    image = definition(backend, compute)
    version = publish(backend, image, snapshot(backend, compute), "1.0.0")
    backend.clock.now.advance(1100)
    versions.update_version(
        backend,
        version["id"],
        None,
        {"publishingProfile": {"targetRegions": [{"name": "westeurope", "regionalReplicaCount": 5}]}},
    )
    during = versions.pool_image_info(backend, version["id"], "westeurope")
    assert (during["replicated"], during["replica_count"]) == (True, 1)
    status = versions.get_version(backend, version["id"], True)["properties"]["replicationStatus"]
    assert status["summary"][0]["state"] == "Replicating"
    backend.clock.now.advance(4 * 100)
    assert versions.pool_image_info(backend, version["id"], "westeurope")["replica_count"] == 5
    assert versions.get_version(backend, version["id"])["properties"]["provisioningState"] == "Succeeded"


def test_latest_is_the_highest_version_not_excluded(backend, compute):
    image = definition(backend, compute)
    snap = snapshot(backend, compute)
    assert versions.pool_image_info(backend, image, "westeurope") is None  # no versions yet
    publish(backend, image, snap, "1.9.0", (("westeurope", 1), ("northeurope", 1)))
    publish(backend, image, snap, "1.20.0", excludeFromLatest=True)
    targets = [{"name": "westeurope"}, {"name": "northeurope", "excludeFromLatest": True}]
    versions.put_version(
        backend,
        f"{image}/versions/1.10.0",
        "westeurope",
        {},
        {"publishingProfile": {"targetRegions": targets}, "storageProfile": {"osDiskImage": {"source": {"id": snap}}}},
    )
    assert versions.pool_image_info(backend, image, "westeurope")["version_id"].endswith("/versions/1.10.0")
    assert versions.pool_image_info(backend, image, "northeurope")["version_id"].endswith("/versions/1.9.0")
    assert versions.pool_image_info(backend, image.upper(), "westeurope") is not None  # ids are case-insensitive
    assert versions.pool_image_info(backend, f"{image}/versions/9.9.9", "westeurope") is None
    assert versions.pool_image_info(backend, image.replace("ubuntu", "nothing"), "westeurope") is None
    assert versions.pool_image_info(backend, "not-an-id", "westeurope") is None


def test_trusted_launch_security_type_is_the_definitions(backend, compute):
    image = definition(backend, compute, "strict", security="TrustedLaunch")
    disk = disks.new_disk(
        backend,
        f"{compute}/disks/tl",
        location="westeurope",
        size_gb=30,
        os_type="Linux",
        creation_data={"createOption": "FromImage"},
        hyper_v_generation="V2",
        security_type="TrustedLaunch",
    )
    snap, *_ = snapshots.put_snapshot(
        backend,
        f"{compute}/snapshots/tl",
        "westeurope",
        {},
        None,
        {"creationData": {"createOption": "Copy", "sourceResourceId": disk["id"]}},
    )
    backend.clock.now.advance(backend.durations["snapshot_create"])
    version = publish(backend, image, snap["id"], "1.0.0")
    assert versions.pool_image_info(backend, version["id"], "westeurope")["security_type"] == "TrustedLaunch"


def test_a_standard_source_cannot_become_a_trusted_launch_only_image(backend, compute):
    image = definition(backend, compute, "strict", security="TrustedLaunch")
    doc, _, duration, error = versions.put_version(
        backend,
        f"{image}/versions/1.0.0",
        "westeurope",
        {},
        {"storageProfile": {"osDiskImage": {"source": {"id": snapshot(backend, compute)}}}},
    )
    assert error["code"] == "InternalOperationError"
    assert duration == DURATIONS["version_prepare"]
    backend.clock.now.advance(duration)
    assert versions.get_version(backend, doc["id"])["properties"]["provisioningState"] == "Failed"


def test_source_os_type_must_match_the_definition(backend, compute):
    image = definition(backend, compute, "windows", os_type="Windows")
    with pytest.raises(AzureError) as err:
        publish(backend, image, snapshot(backend, compute), "1.0.0")
    assert err.value.code == "Conflict"
    assert "different OS type ['Linux'] than the parent gallery image OS type ['Windows']" in err.value.message


def test_a_refused_update_changes_nothing(backend, compute):
    version = publish(backend, definition(backend, compute), snapshot(backend, compute), "1.0.0")
    backend.clock.now.advance(1100)
    bad = {
        "publishingProfile": {
            "targetRegions": [
                {"name": "westeurope", "regionalReplicaCount": 2},
                {"name": "northeurope", "regionalReplicaCount": 101},
            ]
        }
    }
    with pytest.raises(AzureError):
        versions.update_version(backend, version["id"], None, bad)
    stored = versions.get_version(backend, version["id"], True)
    assert stored["properties"]["provisioningState"] == "Succeeded"
    assert [t["regionalReplicaCount"] for t in stored["properties"]["publishingProfile"]["targetRegions"]] == [1]


def test_replication_carries_on_after_a_restart(backend, compute, tmp_path):
    version = publish(backend, definition(backend, compute), snapshot(backend, compute), "1.0.0")
    started = backend.clock.now()
    backend.store.close()
    restarted = Backend(tmp_path, speed=1000)
    restarted.clock.now = FrozenClock(started + 600)
    status = versions.get_version(restarted, version["id"], True)["properties"]["replicationStatus"]
    assert status["summary"][0] == {"region": "West Europe", "state": "Replicating", "details": "", "progress": 50}
    restarted.clock.now.advance(500)
    assert versions.get_version(restarted, version["id"])["properties"]["provisioningState"] == "Succeeded"


def test_attached_disk_cannot_be_deleted(backend, compute):
    vm = f"{compute}/virtualMachines/build"
    disk = disks.new_disk(
        backend,
        f"{compute}/disks/os",
        location="westeurope",
        size_gb=30,
        creation_data={"createOption": "FromImage"},
        managed_by=vm,
    )
    with pytest.raises(AzureError) as err:
        disks.delete_disk(backend, disk["id"])
    assert (err.value.status, err.value.code) == (409, "OperationNotAllowed")
    assert err.value.message == f"Disk os is attached to VM {vm}."
    assert disks.delete_disk(backend, f"{compute}/disks/missing") is None
