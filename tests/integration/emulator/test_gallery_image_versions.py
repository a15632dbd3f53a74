"""Gallery image versions and their replication through the real azure-mgmt-compute clients over HTTPS."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.compute.models import (
    Gallery,
    GalleryArtifactVersionFullSource,
    GalleryDiskImageSource,
    GalleryImage,
    GalleryImageFeature,
    GalleryImageIdentifier,
    GalleryImageProperties,
    GalleryImageVersion,
    GalleryImageVersionProperties,
    GalleryImageVersionPublishingProfile,
    GalleryImageVersionStorageProfile,
    GalleryImageVersionUpdate,
    GalleryOSDiskImage,
    Image,
    ImageOSDisk,
    ImageProperties,
    ImageStorageProfile,
    SubResource,
    TargetRegion,
)

from tests.integration import clients
from tests.integration.emulator import builders

GALLERY = "gal_versions"
# Replication in about a tenth of a second per region at the test emulator's speed.
FAST = {
    "version_prepare": 6,
    "replication_per_region": 60,
    "replication_per_extra_replica": 6,
    "version_update": 6,
    "version_delete": 6,
}
# definition name -> (Hyper-V generation, SecurityType feature or None)
DEFINITIONS = {
    "linux_v2": ("V2", "TrustedLaunchSupported"),
    "linux_v1": ("V1", None),
    "standard_v2": ("V2", "Standard"),
}


@pytest.fixture(scope="module")
def sources(compute, info):
    """The gallery, its definitions and the snapshots versions are published from; removed afterwards."""
    rg, location = info["resource_group"], info["location"]
    compute.galleries.begin_create_or_update(rg, GALLERY, Gallery(location=location)).result()
    for name, (generation, security) in DEFINITIONS.items():
        features = [GalleryImageFeature(name="SecurityType", value=security)] if security else []
        compute.gallery_images.begin_create_or_update(
            rg,
            GALLERY,
            name,
            GalleryImage(
                location=location,
                properties=GalleryImageProperties(
                    os_type="Linux",
                    os_state="Generalized",
                    hyper_v_generation=generation,
                    features=features,
                    identifier=GalleryImageIdentifier(publisher="contoso", offer="batch", sku=name),
                ),
            ),
        ).result()
    made = {
        "snap": builders.snapshot(compute, info, "snap_ver", builders.disk(compute, info, "dsk_ver").id),
        "other": builders.snapshot(compute, info, "snap_ver_other", builders.disk(compute, info, "dsk_ver2").id),
        "trusted": builders.snapshot(
            compute, info, "snap_ver_tl", builders.trusted_launch_disk(compute, info, "dsk_ver_tl").id
        ),
    }
    yield {name: snap.id for name, snap in made.items()}
    for name in DEFINITIONS:
        for version in compute.gallery_image_versions.list_by_gallery_image(rg, GALLERY, name):
            compute.gallery_image_versions.begin_delete(rg, GALLERY, name, version.name).result()
        compute.gallery_images.begin_delete(rg, GALLERY, name).result()
    compute.galleries.begin_delete(rg, GALLERY).result()
    for name in ("snap_ver", "snap_ver_other", "snap_ver_tl"):
        compute.snapshots.begin_delete(rg, name).result()
    for name in ("dsk_ver", "dsk_ver2", "dsk_ver_tl"):
        compute.disks.begin_delete(rg, name).result()


@pytest.fixture
def fast(control):
    control.patch("/durations", json=FAST)
    return control


def version_body(
    info, *, snapshot: str | None = None, image: str | None = None, regions=(("westeurope", 1),), **profile
) -> GalleryImageVersion:
    storage = GalleryImageVersionStorageProfile(
        source=GalleryArtifactVersionFullSource(id=image) if image else None,
        os_disk_image=GalleryOSDiskImage(source=GalleryDiskImageSource(id=snapshot)) if snapshot else None,
    )
    targets = [TargetRegion(name=name, regional_replica_count=count) for name, count in regions]
    return GalleryImageVersion(
        location=info["location"],
        properties=GalleryImageVersionProperties(
            publishing_profile=GalleryImageVersionPublishingProfile(target_regions=targets, **profile),
            storage_profile=storage,
        ),
    )


def update_body(regions) -> GalleryImageVersionUpdate:
    targets = [TargetRegion(name=name, regional_replica_count=count) for name, count in regions]
    return GalleryImageVersionUpdate(
        properties=GalleryImageVersionProperties(
            publishing_profile=GalleryImageVersionPublishingProfile(target_regions=targets),
            storage_profile=GalleryImageVersionStorageProfile(),
        )
    )


def states(status) -> dict[str, tuple[str, int]]:
    return {s.region: (s.state, s.progress) for s in status.summary}


def test_version_replicates_to_every_region_then_succeeds(compute, info, sources, control):
    rg, versions = info["resource_group"], compute.gallery_image_versions
    control.patch("/durations", json={"version_prepare": 60, "replication_per_region": 600})
    end_of_life = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    poller = versions.begin_create_or_update(
        rg,
        GALLERY,
        "linux_v2",
        "1.0.0",
        version_body(
            info,
            snapshot=sources["snap"],
            regions=(("westeurope", 2), ("northeurope", 1)),
            end_of_life_date=end_of_life,
        ),
    )
    first = versions.get(rg, GALLERY, "linux_v2", "1.0.0")
    assert first.provisioning_state == "Creating"
    assert first.replication_status is None  # only with $expand=ReplicationStatus
    version = poller.result()
    assert version.provisioning_state == "Succeeded"
    profile = version.publishing_profile
    assert [(t.name, t.regional_replica_count, t.storage_account_type) for t in profile.target_regions] == [
        ("West Europe", 2, "Standard_LRS"),
        ("North Europe", 1, "Standard_LRS"),
    ]
    assert (profile.end_of_life_date, profile.exclude_from_latest) == (end_of_life, False)
    assert profile.published_date is not None
    assert version.storage_profile.os_disk_image.source.id == sources["snap"]
    assert version.storage_profile.os_disk_image.size_in_gb == 30
    status = versions.get(rg, GALLERY, "linux_v2", "1.0.0", expand="ReplicationStatus").replication_status
    assert status.aggregated_state == "Completed"
    assert states(status) == {"West Europe": ("Completed", 100), "North Europe": ("Completed", 100)}
    assert [v.name for v in versions.list_by_gallery_image(rg, GALLERY, "linux_v2")] == ["1.0.0"]
    versions.begin_delete(rg, GALLERY, "linux_v2", "1.0.0").result()
    with pytest.raises(ResourceNotFoundError):
        versions.get(rg, GALLERY, "linux_v2", "1.0.0")


def test_regions_replicate_independently_with_rising_progress(compute, info, sources, control):
    rg, versions = info["resource_group"], compute.gallery_image_versions
    # West Europe takes 600 s (1 s real), North Europe with 11 replicas 1200 s.
    control.patch(
        "/durations", json={"version_prepare": 0, "replication_per_region": 600, "replication_per_extra_replica": 60}
    )
    poller = versions.begin_create_or_update(
        rg,
        GALLERY,
        "linux_v2",
        "1.1.0",
        version_body(info, snapshot=sources["snap"], regions=(("westeurope", 1), ("northeurope", 11))),
    )
    seen = []
    while True:
        version = versions.get(rg, GALLERY, "linux_v2", "1.1.0", expand="ReplicationStatus")
        seen.append(
            (
                version.replication_status.aggregated_state,
                version.provisioning_state,
                states(version.replication_status),
            )
        )
        if seen[-1][0] != "InProgress":
            break
        time.sleep(0.1)
    assert poller.result().provisioning_state == "Succeeded"
    assert seen[-1][0] == "Completed"
    assert all(provisioning == "Creating" for aggregated, provisioning, _ in seen if aggregated == "InProgress")
    north = [regions["North Europe"][1] for _, _, regions in seen]
    assert north == sorted(north)
    assert north[-1] == 100
    assert any(0 < p < 100 for p in north)
    assert any(
        regions["West Europe"] == ("Completed", 100) and regions["North Europe"][0] == "Replicating"
        for _, _, regions in seen
    )
    versions.begin_delete(rg, GALLERY, "linux_v2", "1.1.0").result()


def test_patch_scales_replicas_and_regions(compute, info, sources, fast):
    rg, versions = info["resource_group"], compute.gallery_image_versions
    versions.begin_create_or_update(
        rg, GALLERY, "linux_v2", "1.2.0", version_body(info, snapshot=sources["snap"])
    ).result()
    fast.patch("/durations", json={"replication_per_extra_replica": 300})
    poller = versions.begin_update(
        rg, GALLERY, "linux_v2", "1.2.0", update_body((("westeurope", 3), ("northeurope", 1)))
    )
    during = versions.get(rg, GALLERY, "linux_v2", "1.2.0", expand="ReplicationStatus")
    assert during.provisioning_state == "Updating"
    assert states(during.replication_status)["West Europe"][0] == "Replicating"  # the two extra replicas
    with pytest.raises(ResourceExistsError) as err:
        versions.begin_update(rg, GALLERY, "linux_v2", "1.2.0", update_body((("westeurope", 1),)))
    assert err.value.error.code == "OperationNotAllowed"
    scaled = poller.result()
    assert [(t.name, t.regional_replica_count) for t in scaled.publishing_profile.target_regions] == [
        ("West Europe", 3),
        ("North Europe", 1),
    ]
    assert scaled.provisioning_state == "Succeeded"
    fast.patch("/durations", json=FAST)
    shrunk = versions.begin_update(rg, GALLERY, "linux_v2", "1.2.0", update_body((("westeurope", 1),))).result()
    assert [(t.name, t.regional_replica_count) for t in shrunk.publishing_profile.target_regions] == [
        ("West Europe", 1)
    ]
    status = versions.get(rg, GALLERY, "linux_v2", "1.2.0", expand="ReplicationStatus").replication_status
    assert states(status) == {"West Europe": ("Completed", 100)}
    premium = GalleryImageVersionUpdate(
        properties=GalleryImageVersionProperties(
            publishing_profile=GalleryImageVersionPublishingProfile(
                target_regions=[
                    TargetRegion(name="westeurope", regional_replica_count=1, storage_account_type="Premium_LRS")
                ]
            ),
            storage_profile=GalleryImageVersionStorageProfile(),
        )
    )
    with pytest.raises(HttpResponseError) as err:
        versions.begin_update(rg, GALLERY, "linux_v2", "1.2.0", premium)
    assert err.value.error.code == "InvalidParameter"
    assert "cannot change from 'Standard_LRS' to 'Premium_LRS'" in err.value.error.message
    versions.begin_delete(rg, GALLERY, "linux_v2", "1.2.0").result()


def test_failed_region_is_removed_and_added_back(compute, info, sources, fast):
    rg, versions = info["resource_group"], compute.gallery_image_versions
    fast.post(
        "/faults",
        json={"kind": "replication_failed", "match": {"region": "^northeurope$", "version": "^1.3.0$"}, "count": 2},
    )
    both, west = (("westeurope", 1), ("northeurope", 1)), (("westeurope", 1),)
    with pytest.raises(HttpResponseError) as err:
        versions.begin_create_or_update(
            rg, GALLERY, "linux_v2", "1.3.0", version_body(info, snapshot=sources["snap"], regions=both)
        ).result()
    assert err.value.error.code == "InternalOperationError"
    assert "{region:northeurope, detail:Failed with internal server error.}" in err.value.error.message
    assert "removing the failed regions" in err.value.error.message
    failed = versions.get(rg, GALLERY, "linux_v2", "1.3.0", expand="ReplicationStatus")
    assert failed.provisioning_state == "Failed"
    assert failed.replication_status.aggregated_state == "Failed"
    north = next(s for s in failed.replication_status.summary if s.region == "North Europe")
    assert north.state == "Failed"
    assert "North Europe" in north.details
    assert "internal server error" in north.details
    assert states(failed.replication_status)["West Europe"] == ("Completed", 100)
    with pytest.raises(HttpResponseError):  # a failed region that stays listed stays failed
        versions.begin_update(rg, GALLERY, "linux_v2", "1.3.0", update_body(both)).result()
    assert (
        versions.begin_update(rg, GALLERY, "linux_v2", "1.3.0", update_body(west)).result().provisioning_state
        == "Succeeded"
    )
    with pytest.raises(HttpResponseError):  # the fault's second firing: the new attempt fails too
        versions.begin_update(rg, GALLERY, "linux_v2", "1.3.0", update_body(both)).result()
    versions.begin_update(rg, GALLERY, "linux_v2", "1.3.0", update_body(west)).result()
    repaired = versions.begin_update(rg, GALLERY, "linux_v2", "1.3.0", update_body(both)).result()
    assert repaired.provisioning_state == "Succeeded"
    status = versions.get(rg, GALLERY, "linux_v2", "1.3.0", expand="ReplicationStatus").replication_status
    assert states(status) == {"West Europe": ("Completed", 100), "North Europe": ("Completed", 100)}
    versions.begin_delete(rg, GALLERY, "linux_v2", "1.3.0").result()


@pytest.mark.parametrize("name", ["1.0", "1.0.0.0", "a.1.0", "1.2147483648.0", "1.0.-1", "1.0.0-beta"])
def test_version_name_must_be_three_32_bit_numbers(compute, info, sources, name):
    with pytest.raises(HttpResponseError) as err:
        compute.gallery_image_versions.begin_create_or_update(
            info["resource_group"], GALLERY, "linux_v2", name, version_body(info, snapshot=sources["snap"])
        )
    assert (err.value.status_code, err.value.error.code) == (400, "InvalidParameter")
    assert err.value.error.target == "galleryImageVersionName"
    assert "between 0 and 2,147,483,647" in err.value.error.message


def test_largest_version_name_is_accepted(compute, info, sources, fast):
    rg, name = info["resource_group"], "2147483647.2147483647.2147483647"
    created = compute.gallery_image_versions.begin_create_or_update(
        rg, GALLERY, "linux_v2", name, version_body(info, snapshot=sources["snap"])
    ).result()
    assert created.name == name
    compute.gallery_image_versions.begin_delete(rg, GALLERY, "linux_v2", name).result()


@pytest.mark.parametrize(
    ("regions", "profile", "expected"),
    [
        ((("westeurope", 101),), {}, "The value must be between 1 and 100, inclusive"),
        ((("westeurope", 0),), {}, "out of range"),
        (
            (("westeurope", 1), ("West Europe", 2)),
            {},
            "Duplicate regions are not allowed in target publishing regions.",
        ),
        ((("northeurope", 1),), {}, "must contain the location of image version 'West Europe'"),
        ((("westeurope", 1), ("atlantis", 1)), {}, "The provided location 'atlantis' is not available"),
        ((("westeurope", 1),), {"storage_account_type": "Premium_ZRS"}, "Premium_ZRS"),
        (
            (("westeurope", 1),),
            {"end_of_life_date": dt.datetime(2001, 1, 1, tzinfo=dt.UTC)},
            "EndOfLifeDate must be set to a future date.",
        ),
    ],
)
def test_publishing_profile_rules(compute, info, sources, regions, profile, expected):
    with pytest.raises(HttpResponseError) as err:
        compute.gallery_image_versions.begin_create_or_update(
            info["resource_group"],
            GALLERY,
            "linux_v2",
            "1.4.0",
            version_body(info, snapshot=sources["snap"], regions=regions, **profile),
        )
    assert (err.value.status_code, err.value.error.code) == (400, "InvalidParameter")
    assert expected in err.value.error.message


def test_updates_wait_for_the_running_operation(compute, info, sources, control):
    rg, versions = info["resource_group"], compute.gallery_image_versions
    versions.begin_create_or_update(rg, GALLERY, "linux_v2", "1.5.0", version_body(info, snapshot=sources["snap"]))
    with pytest.raises(ResourceExistsError) as err:
        versions.begin_update(rg, GALLERY, "linux_v2", "1.5.0", update_body((("westeurope", 2),)))
    assert err.value.error.code == "OperationNotAllowed"
    assert "'Creating'" in err.value.error.message
    versions.begin_delete(rg, GALLERY, "linux_v2", "1.5.0").result()  # deleting a replicating version is allowed
    with pytest.raises(ResourceNotFoundError):
        versions.get(rg, GALLERY, "linux_v2", "1.5.0")


def test_put_again_updates_but_cannot_change_the_source(compute, info, sources, fast):
    rg, versions = info["resource_group"], compute.gallery_image_versions
    first = versions.begin_create_or_update(
        rg, GALLERY, "linux_v2", "1.6.0", version_body(info, snapshot=sources["snap"])
    ).result()
    again = versions.begin_create_or_update(
        rg, GALLERY, "linux_v2", "1.6.0", version_body(info, snapshot=sources["snap"], regions=(("westeurope", 2),))
    ).result()
    assert again.publishing_profile.published_date == first.publishing_profile.published_date
    assert again.publishing_profile.target_regions[0].regional_replica_count == 2
    with pytest.raises(ResourceExistsError) as err:
        versions.begin_create_or_update(rg, GALLERY, "linux_v2", "1.6.0", version_body(info, snapshot=sources["other"]))
    assert err.value.error.code == "PropertyChangeNotAllowed"
    assert "osDiskImage.source.id" in err.value.error.message
    versions.begin_delete(rg, GALLERY, "linux_v2", "1.6.0").result()


def test_source_rules(compute, info, sources):
    rg, versions = info["resource_group"], compute.gallery_image_versions
    with pytest.raises(ResourceExistsError) as err:  # a Gen2 snapshot into a Gen1 definition
        versions.begin_create_or_update(rg, GALLERY, "linux_v1", "1.0.0", version_body(info, snapshot=sources["snap"]))
    assert err.value.error.code == "Conflict"
    assert (
        "different Hypervisor generation ['V2'] than the parent gallery image Hypervisor generation ['V1']"
        in err.value.error.message
    )
    missing = sources["snap"].replace("snap_ver", "snap_nothere")
    with pytest.raises(ResourceNotFoundError) as err:
        versions.begin_create_or_update(rg, GALLERY, "linux_v2", "1.7.0", version_body(info, snapshot=missing))
    assert err.value.error.message.startswith(f"Source {missing} is not found.")
    with pytest.raises(HttpResponseError) as err:
        versions.begin_create_or_update(rg, GALLERY, "linux_v2", "1.7.0", version_body(info))
    assert "One and only one source type" in err.value.error.message
    with pytest.raises(ResourceNotFoundError) as err:
        versions.begin_create_or_update(
            rg, GALLERY, "nodefinition", "1.0.0", version_body(info, snapshot=sources["snap"])
        )
    assert err.value.error.code == "ParentResourceNotFound"
    assert f"Parent resource '{GALLERY}/nodefinition' not found." in err.value.error.message


def test_version_from_a_managed_image(compute, info, sources, fast):
    rg = info["resource_group"]
    image = compute.images.begin_create_or_update(
        rg,
        "img_for_version",
        Image(
            location=info["location"],
            properties=ImageProperties(
                storage_profile=ImageStorageProfile(
                    os_disk=ImageOSDisk(
                        os_type="Linux", os_state="Generalized", snapshot=SubResource(id=sources["snap"])
                    )
                )
            ),
        ),
    ).result()
    version = compute.gallery_image_versions.begin_create_or_update(
        rg, GALLERY, "linux_v2", "1.8.0", version_body(info, image=image.id)
    ).result()
    assert version.provisioning_state == "Succeeded"
    assert version.storage_profile.source.id == image.id
    assert version.storage_profile.os_disk_image.size_in_gb == 30
    compute.gallery_image_versions.begin_delete(rg, GALLERY, "linux_v2", "1.8.0").result()
    compute.images.begin_delete(rg, "img_for_version").result()


def test_version_failure_fault(compute, info, sources, fast):
    rg, versions = info["resource_group"], compute.gallery_image_versions
    fast.post(
        "/faults",
        json={
            "kind": "operation_failed",
            "match": {"resource_type": "galleryImageVersions", "name": "^1.9.0$"},
            "code": "StorageAllocationFailure",
            "message": "Storage allocation failure.",
        },
    )
    with pytest.raises(HttpResponseError) as err:
        versions.begin_create_or_update(
            rg, GALLERY, "linux_v2", "1.9.0", version_body(info, snapshot=sources["snap"])
        ).result()
    assert err.value.error.code == "StorageAllocationFailure"
    assert err.value.error.message == "Storage allocation failure."
    failed = versions.get(rg, GALLERY, "linux_v2", "1.9.0", expand="ReplicationStatus")
    assert failed.provisioning_state == "Failed"
    assert failed.replication_status.aggregated_state == "Failed"
    versions.begin_delete(rg, GALLERY, "linux_v2", "1.9.0").result()


def test_trusted_launch_is_published_from_snapshots(compute, info, sources, fast):
    rg, versions = info["resource_group"], compute.gallery_image_versions
    published = versions.begin_create_or_update(
        rg, GALLERY, "linux_v2", "2.0.0", version_body(info, snapshot=sources["trusted"])
    ).result()
    assert published.provisioning_state == "Succeeded"
    with pytest.raises(HttpResponseError) as err:  # a Standard-only definition cannot take a Trusted Launch disk
        versions.begin_create_or_update(
            rg, GALLERY, "standard_v2", "2.0.0", version_body(info, snapshot=sources["trusted"])
        ).result()
    assert err.value.error.code == "InternalOperationError"
    assert "security type 'TrustedLaunch'" in err.value.error.message
    with pytest.raises(ResourceExistsError) as err:
        compute.gallery_images.begin_delete(rg, GALLERY, "linux_v2")
    assert err.value.error.code == "CannotDeleteResource"
    versions.begin_delete(rg, GALLERY, "linux_v2", "2.0.0").result()
    versions.begin_delete(rg, GALLERY, "standard_v2", "2.0.0").result()


async def test_replication_with_the_async_client(info, sources, control):
    rg = info["resource_group"]
    control.patch("/durations", json=dict(FAST, replication_per_region=300))
    async with clients.async_credential(info) as credential, clients.async_compute(info, credential) as client:
        versions = client.gallery_image_versions
        poller = await versions.begin_create_or_update(
            rg,
            GALLERY,
            "linux_v2",
            "3.0.0",
            version_body(info, snapshot=sources["snap"], regions=(("westeurope", 1), ("northeurope", 2))),
        )
        progress = []
        while True:
            version = await versions.get(rg, GALLERY, "linux_v2", "3.0.0", expand="ReplicationStatus")
            status = version.replication_status
            progress.append(states(status)["North Europe"][1])
            if status.aggregated_state != "InProgress":
                break
            await asyncio.sleep(0.05)
        assert (await poller.result()).provisioning_state == "Succeeded"
        assert progress == sorted(progress)
        assert progress[-1] == 100
        updater = await versions.begin_update(rg, GALLERY, "linux_v2", "3.0.0", update_body((("westeurope", 2),)))
        updated = await updater.result()
        assert [(t.name, t.regional_replica_count) for t in updated.publishing_profile.target_regions] == [
            ("West Europe", 2)
        ]
        await (await versions.begin_delete(rg, GALLERY, "linux_v2", "3.0.0")).result()
