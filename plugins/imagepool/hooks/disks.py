"""Managed disks, snapshots and managed images: a build VM's disks captured for publishing, and
what is left of them after a build.
"""

from __future__ import annotations

from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute.models import (
    CreationData,
    Image,
    ImageDataDisk,
    ImageOSDisk,
    ImageProperties,
    ImageStorageProfile,
    Snapshot,
    SnapshotProperties,
    SubResource,
)
from azure.mgmt.core.tools import parse_resource_id

from imagepool.errors import AzureResourceNotFound
from imagepool.hooks.arm import ArmHook, ArmOperation, operation_from, text
from imagepool.hooks.errors import translate
from imagepool.hooks.vm import BUILD_TAG, is_build_disk

# Resource types this hook deletes by id, and the singular used in messages.
DELETABLE = {"disks": "disk", "snapshots": "snapshot", "images": "managed image"}


def _security_type(resource) -> str:
    profile = resource.security_profile
    return text(profile.security_type) if profile and profile.security_type else "Standard"


def _snapshot_facts(snapshot) -> dict:
    return {
        "id": snapshot.id,
        "name": snapshot.name,
        "location": snapshot.location,
        "provisioning_state": snapshot.provisioning_state,
        "source_id": snapshot.creation_data.source_resource_id,
        "os_type": text(snapshot.os_type),
        "hyper_v_generation": text(snapshot.hyper_v_generation),
        "security_type": _security_type(snapshot),
        "tags": dict(snapshot.tags or {}),
    }


def _image_facts(image) -> dict:
    storage = image.storage_profile
    sources = {"os": storage.os_disk.snapshot.id if storage.os_disk.snapshot else None}
    sources.update({str(d.lun): d.snapshot.id if d.snapshot else None for d in storage.data_disks or []})
    return {
        "id": image.id,
        "provisioning_state": image.provisioning_state,
        "hyper_v_generation": text(image.hyper_v_generation),
        "sources": sources,
    }


class DiskHook(ArmHook):
    """Disks (read, find leftovers), snapshots and managed images (create, read, delete)."""

    def get_disk(self, disk_id: str) -> dict | None:
        parts = parse_resource_id(disk_id)
        disk = self.lookup(lambda: self.connection.disks.get(parts["resource_group"], parts["name"]), f"disk {disk_id}")
        if disk is None:
            return None
        return {
            "id": disk.id,
            "name": disk.name,
            "location": disk.location,
            "managed_by": disk.managed_by,
            "os_type": text(disk.os_type),
            "provisioning_state": disk.provisioning_state,
        }

    # --- snapshots -------------------------------------------------------------------------------
    def get_snapshot(self, resource_group: str, name: str) -> dict | None:
        found = self.lookup(lambda: self.connection.snapshots.get(resource_group, name), f"snapshot {name}")
        return _snapshot_facts(found) if found else None

    def get_snapshot_by_id(self, snapshot_id: str) -> dict | None:
        parts = parse_resource_id(snapshot_id)
        return self.get_snapshot(parts["resource_group"], parts["name"])

    def begin_snapshot(
        self, resource_group: str, name: str, *, location: str, disk_id: str, tags: dict[str, str]
    ) -> ArmOperation:
        # A full copy: a gallery version or managed image can be made from it alone.
        body = Snapshot(
            location=location,
            tags=tags,
            properties=SnapshotProperties(
                creation_data=CreationData(create_option="Copy", source_resource_id=disk_id), incremental=False
            ),
        )
        return self.start(
            lambda **kw: self.connection.snapshots.begin_create_or_update(resource_group, name, body, **kw),
            resource_id=self.compute_id(resource_group, "snapshots", name),
            description=f"snapshot {name}",
            action="retry the task (a snapshot that failed is taken again); if it keeps failing, check the disk "
            "in the portal",
        )

    # --- managed images --------------------------------------------------------------------------
    def get_image(self, resource_group: str, name: str) -> dict | None:
        found = self.lookup(lambda: self.connection.images.get(resource_group, name), f"managed image {name}")
        return _image_facts(found) if found else None

    def begin_image(
        self,
        resource_group: str,
        name: str,
        *,
        location: str,
        os_type: str,
        hyper_v_generation: str,
        sources: dict[str, str],
        tags: dict[str, str],
    ) -> ArmOperation:
        """``sources``: snapshot id by LUN (``"os"`` for the OS disk)."""
        storage = ImageStorageProfile(
            os_disk=ImageOSDisk(os_type=os_type, os_state="Generalized", snapshot=SubResource(id=sources["os"])),
            data_disks=[
                ImageDataDisk(lun=int(lun), snapshot=SubResource(id=snapshot_id))
                for lun, snapshot_id in sorted(sources.items())
                if lun != "os"
            ],
        )
        body = Image(
            location=location,
            tags=tags,
            properties=ImageProperties(storage_profile=storage, hyper_v_generation=hyper_v_generation),
        )
        return self.start(
            lambda **kw: self.connection.images.begin_create_or_update(resource_group, name, body, **kw),
            resource_id=self.compute_id(resource_group, "images", name),
            description=f"managed image {name}",
            action="retry the task; if it keeps failing, check the snapshots in the portal",
        )

    # --- what a build leaves behind --------------------------------------------------------------
    def disk_leftovers(self, resource_group: str, vm_name: str) -> list[str]:
        """Disks named after the build VM that no VM holds (detached, or left by a failed create)."""
        try:
            found = self.connection.disks.list_by_resource_group(resource_group)
            return [d.id for d in found if is_build_disk(vm_name, d.name) and not d.managed_by]
        except HttpResponseError as exc:
            raise translate(exc, f"disks in resource group {resource_group}") from exc

    def tagged(self, resource_group: str, vm_name: str) -> list[str]:
        """Snapshots and managed images made from the build VM (tagged with its name)."""
        try:
            found = [
                *self.connection.snapshots.list_by_resource_group(resource_group),
                *self.connection.images.list_by_resource_group(resource_group),
            ]
        except HttpResponseError as exc:
            raise translate(exc, f"snapshots and images in resource group {resource_group}") from exc
        return [r.id for r in found if (r.tags or {}).get(BUILD_TAG) == vm_name]

    def begin_delete(self, resource_id: str) -> ArmOperation:
        """Delete a disk, snapshot or managed image by id; one that is gone counts as deleted."""
        parts = parse_resource_id(resource_id)
        kind = parts["type"]
        description = f"delete {DELETABLE[kind]} {parts['name']}"
        operations = getattr(self.connection, kind)
        try:
            return self.start(
                lambda **kw: operations.begin_delete(parts["resource_group"], parts["name"], **kw),
                resource_id=resource_id,
                description=description,
            )
        except AzureResourceNotFound:
            return operation_from(resource_id, description, {})
