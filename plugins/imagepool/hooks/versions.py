"""Azure Compute Gallery image versions: publish, read (with replication status), update target
regions, list and delete.

Everything leaves the hook as plain data: region names in the short form (``westeurope``) except
in the replication summary, which keeps Azure's display names (``West Europe``) for messages.
"""

from __future__ import annotations

import re
from datetime import datetime

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute.models import (
    GalleryArtifactVersionFullSource,
    GalleryDataDiskImage,
    GalleryDiskImageSource,
    GalleryImageVersion,
    GalleryImageVersionProperties,
    GalleryImageVersionPublishingProfile,
    GalleryImageVersionStorageProfile,
    GalleryImageVersionUpdate,
    GalleryOSDiskImage,
    TargetRegion,
)

from imagepool.hooks.arm import ArmOperation, text
from imagepool.hooks.errors import translate
from imagepool.hooks.gallery import GalleryHook
from imagepool.replicas import normalize_region

INT32_MAX = 2**31 - 1
VERSION_NAME = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")
# While a version is in one of these states Azure refuses updates (409 OperationNotAllowed).
BUSY_STATES = ("Creating", "Updating", "Deleting")


def parse_version(name: str) -> tuple[int, int, int]:
    """``MAJOR.MINOR.PATCH``, each a 32-bit signed integer, as Azure requires; ValueError otherwise."""
    parts = VERSION_NAME.fullmatch(str(name))
    if not parts or any(int(part) > INT32_MAX for part in parts.groups()):
        raise ValueError(
            f"image version {name!r} is not MAJOR.MINOR.PATCH with each part a whole number from 0 to "
            f"{INT32_MAX} (for example 1.0.0 or 2024.12.1)"
        )
    major, minor, patch = (int(part) for part in parts.groups())
    return major, minor, patch


def version_source(
    *, image_id: str | None = None, os_snapshot_id: str | None = None, data_snapshot_ids: dict | None = None
) -> dict:
    """What a version is made from, as plain data.

    ``{"image_id": ...}`` for a managed image, ``{"os_snapshot_id": ..., "data_snapshot_ids":
    {"<lun>": ...}}`` for snapshots (or managed disks).
    """
    if image_id:
        return {"image_id": image_id}
    return {
        "os_snapshot_id": os_snapshot_id or "",
        "data_snapshot_ids": {str(lun): sid for lun, sid in (data_snapshot_ids or {}).items()},
    }


def same_source(one: dict, other: dict) -> bool:
    """Azure ids are case-insensitive (and Azure may echo them in another case)."""

    def folded(source: dict) -> dict:
        return {
            k: {lun: i.lower() for lun, i in v.items()} if isinstance(v, dict) else v.lower() for k, v in source.items()
        }

    return folded(one) == folded(other)


def _storage_profile(source: dict) -> GalleryImageVersionStorageProfile:
    if "image_id" in source:
        return GalleryImageVersionStorageProfile(source=GalleryArtifactVersionFullSource(id=source["image_id"]))
    data = [
        GalleryDataDiskImage(lun=int(lun), source=GalleryDiskImageSource(id=sid))
        for lun, sid in sorted(source["data_snapshot_ids"].items(), key=lambda item: int(item[0]))
    ]
    return GalleryImageVersionStorageProfile(
        os_disk_image=GalleryOSDiskImage(source=GalleryDiskImageSource(id=source["os_snapshot_id"])),
        data_disk_images=data or None,
    )


def _source_of(storage) -> dict:
    full = storage.source
    if full and (full.id or full.virtual_machine_id):
        return version_source(image_id=full.id or full.virtual_machine_id)
    os_image = storage.os_disk_image
    return version_source(
        os_snapshot_id=os_image.source.id if os_image and os_image.source else None,
        data_snapshot_ids={d.lun: d.source.id for d in (storage.data_disk_images or []) if d.source and d.source.id},
    )


def _target_regions(targets: list[dict]) -> list[TargetRegion]:
    return [
        TargetRegion(
            name=t["name"],
            regional_replica_count=t["regional_replica_count"],
            storage_account_type=t.get("storage_account_type"),
            exclude_from_latest=t.get("exclude_from_latest"),
        )
        for t in targets
    ]


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def version_facts(found) -> dict:
    """A GalleryImageVersion as plain data (what operators, triggers and XCom use)."""
    profile = found.publishing_profile
    status = found.replication_status
    return {
        "id": found.id,
        "name": found.name,
        "location": normalize_region(found.location),
        "tags": dict(found.tags or {}),
        "provisioning_state": text(found.provisioning_state),
        "exclude_from_latest": bool(profile.exclude_from_latest) if profile else False,
        "published_date": _iso(profile.published_date) if profile else None,
        "end_of_life_date": _iso(profile.end_of_life_date) if profile else None,
        "source": _source_of(found.storage_profile),
        "target_regions": [
            {
                "name": normalize_region(t.name),
                "regional_replica_count": t.regional_replica_count or (profile.replica_count or 1),
                "storage_account_type": text(t.storage_account_type),
                "exclude_from_latest": bool(t.exclude_from_latest),
            }
            for t in (profile.target_regions or [])
        ]
        if profile
        else [],
        "replication": None
        if status is None
        else {
            "aggregated_state": text(status.aggregated_state),
            "regions": [
                {"region": s.region, "state": text(s.state), "progress": s.progress or 0, "details": s.details or ""}
                for s in (status.summary or [])
            ],
        },
    }


class ImageVersionHook(GalleryHook):
    """Gallery image versions, started as plain :class:`ArmOperation` s for the triggers to wait on."""

    def version_id(self, resource_group: str, gallery: str, image: str, version: str) -> str:
        return self.compute_id(resource_group, "galleries", gallery, "images", image, "versions", version)

    def get_version(
        self, resource_group: str, gallery: str, image: str, version: str, *, with_replication: bool = False
    ) -> dict | None:
        """The version, with its replication status per region when ``with_replication``; None if it does not exist."""
        expand = {"expand": "ReplicationStatus"} if with_replication else {}
        found = self.lookup(
            lambda: self.connection.gallery_image_versions.get(resource_group, gallery, image, version, **expand),
            f"image version {gallery}/{image}/{version}",
        )
        return version_facts(found) if found else None

    def list_versions(self, resource_group: str, gallery: str, image: str) -> list[dict]:
        try:
            return [
                version_facts(v)
                for v in self.connection.gallery_image_versions.list_by_gallery_image(resource_group, gallery, image)
            ]
        except HttpResponseError as exc:
            raise translate(exc, f"image definition {gallery}/{image}") from exc

    def begin_version(
        self,
        resource_group: str,
        gallery: str,
        image: str,
        version: str,
        *,
        location: str,
        source: dict,
        target_regions: list[dict],
        exclude_from_latest: bool,
        end_of_life_date: datetime | None,
        tags: dict[str, str],
    ) -> ArmOperation:
        """PUT a new version (``source`` as made by :func:`version_source`)."""
        body = GalleryImageVersion(
            location=location,
            tags=tags,
            properties=GalleryImageVersionProperties(
                publishing_profile=GalleryImageVersionPublishingProfile(
                    target_regions=_target_regions(target_regions),
                    exclude_from_latest=exclude_from_latest,
                    end_of_life_date=end_of_life_date,
                ),
                storage_profile=_storage_profile(source),
            ),
        )
        return self.start(
            lambda **kw: self.connection.gallery_image_versions.begin_create_or_update(
                resource_group, gallery, image, version, body, **kw
            ),
            resource_id=self.version_id(resource_group, gallery, image, version),
            description=f"image version {gallery}/{image}/{version}",
            action="versions are never overwritten: publish under a new version number",
        )

    def begin_target_regions(
        self, resource_group: str, gallery: str, image: str, version: str, target_regions: list[dict]
    ) -> ArmOperation:
        """PATCH the full list of target regions (Azure replaces the list: omitted regions are removed)."""
        body = GalleryImageVersionUpdate(
            properties=GalleryImageVersionProperties(
                publishing_profile=GalleryImageVersionPublishingProfile(target_regions=_target_regions(target_regions)),
                storage_profile=GalleryImageVersionStorageProfile(),
            )
        )
        return self.start(
            lambda **kw: self.connection.gallery_image_versions.begin_update(
                resource_group, gallery, image, version, body, **kw
            ),
            resource_id=self.version_id(resource_group, gallery, image, version),
            description=f"target regions of image version {gallery}/{image}/{version}",
        )

    def begin_delete_version(self, resource_group: str, gallery: str, image: str, version: str) -> ArmOperation:
        return self.start(
            lambda **kw: self.connection.gallery_image_versions.begin_delete(
                resource_group, gallery, image, version, **kw
            ),
            resource_id=self.version_id(resource_group, gallery, image, version),
            description=f"deletion of image version {gallery}/{image}/{version}",
        )

    # --- async, for triggers -----------------------------------------------------------------
    async def aget_replication(self, resource_group: str, gallery: str, image: str, version: str) -> dict | None:
        """The version with its replication status, or None if it does not exist (yet)."""
        client = await self.get_async_conn()
        try:
            found = await client.gallery_image_versions.get(
                resource_group, gallery, image, version, expand="ReplicationStatus"
            )
        except ResourceNotFoundError:
            return None
        return version_facts(found)
