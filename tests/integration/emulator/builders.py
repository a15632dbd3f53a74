"""Source disks and snapshots made through the real SDK, for tests of what is built from them."""

from __future__ import annotations

from azure.mgmt.compute.models import (
    CreationData,
    Disk,
    DiskProperties,
    DiskSecurityProfile,
    ImageDiskReference,
    Snapshot,
    SnapshotProperties,
)

# A Gen2 Marketplace image the emulator's catalogue knows, for Trusted Launch disks (which Azure only
# makes from images).
GEN2_IMAGE = (
    "/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/westeurope/Publishers/Canonical/"
    "ArtifactTypes/VMImage/Offers/0001-com-ubuntu-server-jammy/Skus/22_04-lts-gen2/Versions/22.04.202411010"
)


def disk(
    compute, info, name: str, *, size_gb: int = 30, os_type: str | None = "Linux", hyper_v_generation: str | None = "V2"
) -> Disk:
    """An empty disk standing in for a build VM's disk."""
    body = Disk(
        location=info["location"],
        properties=DiskProperties(
            creation_data=CreationData(create_option="Empty"),
            disk_size_gb=size_gb,
            os_type=os_type,
            hyper_v_generation=hyper_v_generation,
        ),
    )
    return compute.disks.begin_create_or_update(info["resource_group"], name, body).result()


def trusted_launch_disk(compute, info, name: str) -> Disk:
    """A Trusted Launch OS disk, made from a Gen2 Marketplace image."""
    reference = ImageDiskReference(id=GEN2_IMAGE.format(sub=info["subscription_id"]))
    body = Disk(
        location=info["location"],
        properties=DiskProperties(
            creation_data=CreationData(create_option="FromImage", image_reference=reference),
            security_profile=DiskSecurityProfile(security_type="TrustedLaunch"),
        ),
    )
    return compute.disks.begin_create_or_update(info["resource_group"], name, body).result()


def snapshot_body(info, source_id: str, *, incremental: bool = False) -> Snapshot:
    return Snapshot(
        location=info["location"],
        properties=SnapshotProperties(
            creation_data=CreationData(create_option="Copy", source_resource_id=source_id), incremental=incremental
        ),
    )


def snapshot(compute, info, name: str, source_id: str) -> Snapshot:
    return compute.snapshots.begin_create_or_update(
        info["resource_group"], name, snapshot_body(info, source_id)
    ).result()
