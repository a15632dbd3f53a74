"""Capture the generalized build VM: one snapshot per disk, then (documented path) a managed image
made from the snapshots.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from imagepool.errors import AzureOperationFailed, AzureResourceNotFound
from imagepool.hooks.disks import DiskHook
from imagepool.hooks.vm import BUILD_TAG
from imagepool.links.portal import ManagedImageLink, SnapshotLink
from imagepool.operators.base import ImagepoolBaseOperator
from imagepool.triggers.arm import ArmOperationTrigger


def _compute_id(kind: str) -> re.Pattern:
    return re.compile(
        rf"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/{kind}/[^/]+$", re.IGNORECASE
    )


DISK_ID, SNAPSHOT_ID, IMAGE_ID = _compute_id("disks"), _compute_id("snapshots"), _compute_id("images")
# Snapshot and image names: 1-80 characters; letters, digits, '_', '.', '-'; start with a letter or
# digit, end with a letter, digit or '_'.
RESOURCE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9_.-]{0,78}[a-z0-9_])?$", re.IGNORECASE)
NAME_LIMIT = 80
MAX_LUN = 63
# What to do when Azure keeps failing a snapshot or an image, after the task's own retries.
PERSISTENT_ADVICE = (
    "if every try fails, check Azure's status for the region (and the activity log of the resource "
    "group), then run the build again"
)
TRUSTED_LAUNCH_REFUSED = (
    "Azure refuses managed images from Trusted Launch VMs: publish the gallery image version "
    "straight from the snapshots (the direct path) instead"
)


def snapshot_name(disk_name: str, run_key: str) -> str:
    """``<disk>-<run key>``, made a valid Azure name; a name too long keeps a digest of the whole."""
    name = f"{disk_name}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', run_key).strip('-.')}"
    if len(name) > NAME_LIMIT:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[: NAME_LIMIT - 9].rstrip('-.')}-{digest}"
    return name


def lun_problems(name: str, lun: Any) -> list[str]:
    if lun == "os" or (isinstance(lun, int) and not isinstance(lun, bool) and 0 <= lun <= MAX_LUN):
        return []
    return [f"{name} {lun!r} must be 'os' or a data disk LUN 0-{MAX_LUN}"]


class AzureSnapshotCreateOperator(ImagepoolBaseOperator):
    """Take a full snapshot of one disk of the build VM; return ``{snapshot_id, lun, disk_id}``.

    Meant to be mapped over the build VM's disks:
    ``AzureSnapshotCreateOperator.partial(task_id=..., run_key=...).expand_kwargs(create_vm.output["disks"])``.
    The snapshot is named ``<disk name>-<run_key>`` and tagged with the build VM's name; a
    succeeded snapshot of the same disk under that name is reused, and one that failed is taken again.

    :param disk_id: resource id of the disk (templated).
    :param lun: ``"os"`` for the OS disk, else the data disk's LUN (templated).
    :param run_key: what makes this run's snapshot names unique, e.g. the run id (templated).
    :param resource_group_name: resource group for the snapshot (templated); default: the connection's.
    :param tags: extra tags for the snapshot (templated).
    :param timeout: seconds to wait for the snapshot (default 3600).
    """

    template_fields: Sequence[str] = (
        *ImagepoolBaseOperator.template_fields,
        "disk_id",
        "lun",
        "run_key",
        "resource_group_name",
        "tags",
    )
    operator_extra_links = (SnapshotLink(),)

    def __init__(
        self,
        *,
        disk_id: str,
        lun: str | int,
        run_key: str,
        resource_group_name: str | None = None,
        tags: dict[str, str] | None = None,
        timeout: float = 3600,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.disk_id = disk_id
        self.lun = lun
        self.run_key = run_key
        self.resource_group_name = resource_group_name
        self.tags = tags or {}
        self.timeout = timeout

    def _problems(self) -> list[str]:
        problems = lun_problems("lun", self.lun)
        if not isinstance(self.disk_id, str) or not DISK_ID.match(self.disk_id):
            problems.append(
                f"disk_id {self.disk_id!r} must be a managed disk resource id (/subscriptions/.../"
                "providers/Microsoft.Compute/disks/<name>)"
            )
        if not isinstance(self.run_key, str) or not re.search(r"[A-Za-z0-9]", self.run_key):
            problems.append(f"run_key {self.run_key!r} must contain letters or digits")
        return problems

    def execute(self, context):
        self.reject(self._problems())
        hook = DiskHook(self.azure_conn_id)
        group = hook.resource_group(self.resource_group_name)
        name = snapshot_name(self.disk_id.rsplit("/", 1)[-1], self.run_key)
        existing = hook.get_snapshot(group, name)
        if existing and existing["source_id"].lower() != self.disk_id.lower():
            raise AzureOperationFailed(
                f"snapshot {existing['id']}",
                "SnapshotSourceMismatch",
                f"it copies {existing['source_id']}, not {self.disk_id}",
                "a snapshot of another disk has this name: delete it, or use another run_key",
            )
        if existing and existing["provisioning_state"] == "Succeeded":
            SnapshotLink.persist(context, hook.settings, existing["id"])
            self.log.info("Snapshot %s of %s already exists; reusing it", existing["id"], self.disk_id)
            return self._result(existing["id"])
        disk = hook.get_disk(self.disk_id)
        if disk is None:
            raise AzureResourceNotFound(
                f"disk {self.disk_id}",
                "ResourceNotFound",
                "the disk does not exist",
                "snapshot the disks of an existing build VM (did its cleanup run early?)",
            )
        if existing:
            self.log.info(
                "Snapshot %s is %s after an earlier try; taking it again",
                existing["id"],
                existing["provisioning_state"],
            )
        tags = dict(self.tags)
        if disk["managed_by"]:
            tags[BUILD_TAG] = disk["managed_by"].rsplit("/", 1)[-1]
        operation = hook.begin_snapshot(group, name, location=disk["location"], disk_id=disk["id"], tags=tags)
        SnapshotLink.persist(context, hook.settings, operation.resource_id)
        return self.wait_for(
            context,
            ArmOperationTrigger(
                operation=operation.to_dict(),
                action=f"a retry of the task takes it again; {PERSISTENT_ADVICE}",
                **self.polling(self.timeout),
            ),
        )

    def execute_complete(self, context, event=None):
        return self._result(self.check_event(event)["resource_id"])

    def _result(self, snapshot_id: str) -> dict:
        return {"snapshot_id": snapshot_id, "lun": self.lun, "disk_id": self.disk_id}


class AzureManagedImageCreateOperator(ImagepoolBaseOperator):
    """Make a generalized managed image from the build VM's snapshots; return its resource id.

    The OS type, Hyper-V generation and region come from the OS disk's snapshot. Trusted Launch
    sources are refused before anything is created: Azure does not make managed images of them.

    :param image_name: the managed image's name (templated).
    :param snapshots: the snapshot tasks' results, ``[{snapshot_id, lun}]``, with exactly one ``lun: "os"``
        (templated).
    :param resource_group_name: resource group for the image (templated); default: the connection's.
    :param tags: extra tags for the image (templated).
    :param timeout: seconds to wait for the image (default 3600).
    """

    template_fields: Sequence[str] = (
        *ImagepoolBaseOperator.template_fields,
        "image_name",
        "snapshots",
        "resource_group_name",
        "tags",
    )
    operator_extra_links = (ManagedImageLink(),)

    def __init__(
        self,
        *,
        image_name: str,
        snapshots: list[dict],
        resource_group_name: str | None = None,
        tags: dict[str, str] | None = None,
        timeout: float = 3600,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_name = image_name
        self.snapshots = snapshots
        self.resource_group_name = resource_group_name
        self.tags = tags or {}
        self.timeout = timeout

    def _sources(self) -> tuple[dict[str, str], list[str]]:
        """(snapshot id by LUN, problems) from the rendered ``snapshots``."""
        problems = []
        if not isinstance(self.image_name, str) or not RESOURCE_NAME.match(self.image_name):
            problems.append(
                f"image_name {self.image_name!r} must be 1-80 letters, digits, '_', '.' or '-', "
                "starting with a letter or digit and ending with a letter, digit or '_'"
            )
        sources: dict[str, str] = {}
        # A mapped task's results arrive as a lazy sequence, not a list.
        iterable = hasattr(self.snapshots, "__iter__") and not isinstance(self.snapshots, (str, dict))
        for entry in list(self.snapshots) if iterable else []:
            lun = entry.get("lun") if isinstance(entry, dict) else None
            snapshot_id = entry.get("snapshot_id") if isinstance(entry, dict) else None
            entry_problems = lun_problems("snapshots[].lun", lun)
            if not isinstance(snapshot_id, str) or not SNAPSHOT_ID.match(snapshot_id):
                entry_problems.append(f"snapshots[].snapshot_id {snapshot_id!r} must be a snapshot resource id")
            if not entry_problems and str(lun) in sources:
                entry_problems.append(f"snapshots has two entries for lun {lun!r}")
            problems += entry_problems
            if not entry_problems:
                sources[str(lun)] = snapshot_id
        if "os" not in sources:
            problems.append(
                f"snapshots must be a list of {{snapshot_id, lun}} with exactly one lun 'os' (got {self.snapshots!r})"
            )
        return sources, problems

    def execute(self, context):
        sources, problems = self._sources()
        self.reject(problems)
        hook = DiskHook(self.azure_conn_id)
        group = hook.resource_group(self.resource_group_name)
        os_snapshot = hook.get_snapshot_by_id(sources["os"])
        if os_snapshot is None:
            raise AzureResourceNotFound(
                f"snapshot {sources['os']}",
                "ResourceNotFound",
                "the OS snapshot is gone",
                "take the snapshots again (retry the snapshot tasks)",
            )
        if os_snapshot["security_type"] != "Standard":
            raise AzureOperationFailed(
                f"snapshot {sources['os']}",
                "TrustedLaunchNotSupported",
                f"its disk's security type is {os_snapshot['security_type']}",
                TRUSTED_LAUNCH_REFUSED,
            )
        existing = hook.get_image(group, self.image_name)
        if existing and {k: v.lower() for k, v in existing["sources"].items() if v} != {
            k: v.lower() for k, v in sources.items()
        }:
            raise AzureOperationFailed(
                f"managed image {existing['id']}",
                "ImageSourceMismatch",
                f"it was made from {existing['sources']}, not {sources}",
                "an image's sources cannot change: delete it, or choose another image_name",
            )
        if existing and existing["provisioning_state"] == "Succeeded":
            ManagedImageLink.persist(context, hook.settings, existing["id"])
            self.log.info("Managed image %s already exists; reusing it", existing["id"])
            return existing["id"]
        tags = dict(self.tags)
        if BUILD_TAG in os_snapshot["tags"]:
            tags[BUILD_TAG] = os_snapshot["tags"][BUILD_TAG]
        operation = hook.begin_image(
            group,
            self.image_name,
            location=os_snapshot["location"],
            os_type=os_snapshot["os_type"],
            hyper_v_generation=os_snapshot["hyper_v_generation"] or "V1",
            sources=sources,
            tags=tags,
        )
        ManagedImageLink.persist(context, hook.settings, operation.resource_id)
        return self.wait_for(
            context,
            ArmOperationTrigger(
                operation=operation.to_dict(),
                action=f"a retry of the task makes it again; {PERSISTENT_ADVICE}",
                **self.polling(self.timeout),
            ),
        )

    def execute_complete(self, context, event=None):
        return self.check_event(event)["resource_id"]
