"""Wait for an image version to be replicated to the regions a task needs, repairing failed regions.

Replication fails now and then in one region ("Storage allocation failure", internal errors), late
and for no fault of the image; Azure's advice is to remove the failed region from the target
regions and add it back. The sensor does that, a bounded number of times, between waits: the
trigger only reads and reports "region failed", the writes happen here in the worker.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from imagepool.errors import AzureOperationFailed
from imagepool.hooks.versions import ImageVersionHook, parse_version
from imagepool.links.portal import ImageVersionLink
from imagepool.operators.base import ImagepoolBaseOperator, for_good
from imagepool.operators.versions import REPLICATION_TIMEOUT, is_whole
from imagepool.replicas import normalize_region
from imagepool.triggers.arm import ArmOperationTrigger
from imagepool.triggers.versions import ReplicationTrigger


class AzureImageVersionReplicationSensor(ImagepoolBaseOperator):
    """Wait until an image version has replicated to the given regions (all target regions by default).

    Other regions may still be replicating when it succeeds, so a pool can start in a region that is
    ready. A region that fails is removed from the target regions and added back (``region_retries``
    times), once the other regions have settled (Azure refuses updates while it replicates).

    :param gallery_name: gallery (templated).
    :param image_name: image definition (templated).
    :param version: the image version (templated).
    :param regions: a region or a list of regions to wait for (templated); default: every target region.
    :param region_retries: how many times a failed region is removed and re-added (default 2).
    :param resource_group_name: resource group (templated); default: the connection's.
    :param timeout: seconds to wait in all, repairs included (default 6 hours).
    :param poll_interval: seconds between looks (default 60: replication moves 1-3 % a minute, and a
        message that changes at every look never backs off).
    :return: ``{"image_version_id", "regions": [regions that completed]}``.
    """

    template_fields: Sequence[str] = (
        *ImagepoolBaseOperator.template_fields,
        "gallery_name",
        "image_name",
        "version",
        "regions",
        "resource_group_name",
    )
    operator_extra_links = (ImageVersionLink(),)
    ui_color = "#e0f0d8"

    def __init__(
        self,
        *,
        gallery_name: str,
        image_name: str,
        version: str,
        regions: str | list[str] | None = None,
        region_retries: int = 2,
        resource_group_name: str | None = None,
        timeout: float = REPLICATION_TIMEOUT,
        poll_interval: float = 60.0,
        **kwargs,
    ):
        super().__init__(poll_interval=poll_interval, **kwargs)
        self.gallery_name = gallery_name
        self.image_name = image_name
        self.version = version
        self.regions = regions
        self.region_retries = region_retries
        self.resource_group_name = resource_group_name
        self.timeout = timeout

    @property
    def _what(self) -> str:
        return f"image version {self.gallery_name}/{self.image_name}/{self.version}"

    def _wanted_regions(self) -> list[str]:
        return [normalize_region(r) for r in self._raw_regions()]

    def _raw_regions(self) -> list:
        return [self.regions] if isinstance(self.regions, str) else list(self.regions or [])

    def execute(self, context):
        problems = []
        try:
            parse_version(self.version)
        except ValueError as exc:
            problems.append(str(exc))
        if not is_whole(self.region_retries, minimum=0):
            problems.append(f"region_retries={self.region_retries!r} must be a whole number (0 for no retry)")
        if not all(isinstance(r, str) and r.strip() for r in self._raw_regions()):
            problems.append(f"regions={self.regions!r} must be a region name or a list of region names")
        if problems:
            raise ValueError(f"{self.task_id}: cannot wait for {self._what}: " + "; ".join(problems))
        hook = ImageVersionHook(self.azure_conn_id)
        group = hook.resource_group(self.resource_group_name)
        ImageVersionLink.persist(
            context, hook.settings, hook.version_id(group, self.gallery_name, self.image_name, self.version)
        )
        return self._watch(context, group, time.time() + self.timeout, {})

    def _polling_until(self, deadline: float, hint: str = "") -> dict:
        """Trigger arguments for a wait ending at the task's own deadline: repairs do not extend it."""
        return {**self.polling(self.timeout, hint), "deadline": deadline}

    def _watch(self, context, group: str, deadline: float, retries: dict[str, int]):
        trigger = ReplicationTrigger(
            resource_group_name=group,
            gallery_name=self.gallery_name,
            image_name=self.image_name,
            version=self.version,
            regions=self._wanted_regions(),
            **self._polling_until(
                deadline, "Replication can take hours per region; see the version's replication status in the portal."
            ),
        )
        return self.wait_for(
            context, trigger, kwargs={"resource_group": group, "deadline": deadline, "retries": retries}
        )

    def execute_complete(
        self,
        context,
        event=None,
        resource_group: str = "",
        deadline: float = 0.0,
        retries: dict[str, int] | None = None,
    ):
        if event and event.get("status") == "error" and event.get("failed_regions"):
            return self._remove_failed(context, event, resource_group, deadline, retries or {})
        done = self.check_event(event)
        return {"image_version_id": done["image_version_id"], "regions": done["regions"]}

    def _remove_failed(self, context, event: dict, group: str, deadline: float, retries: dict[str, int]):
        failed = event["failed_regions"]
        names = event.get("display_names") or {}
        details = "; ".join(event["failure_details"].values())
        hook = ImageVersionHook(self.azure_conn_id)
        version = hook.get_version(group, self.gallery_name, self.image_name, self.version)
        # Neither failure below is worth a retry of the task: the repairs were this task's retries.
        if version["location"] in failed:
            raise for_good(
                AzureOperationFailed(
                    version["id"],
                    "ReplicationFailed",
                    f"replication failed in the version's own region "
                    f"{names.get(version['location'], version['location'])}, which cannot be removed and re-added: "
                    f"{details}",
                    "delete the version and publish the image again under a new version number",
                )
            )
        exhausted = [r for r in failed if retries.get(r, 0) >= self.region_retries]
        if exhausted:
            raise for_good(
                AzureOperationFailed(
                    version["id"],
                    "ReplicationFailed",
                    f"replication failed in {', '.join(names.get(r, r) for r in exhausted)} after {self.region_retries} "
                    f"{'retry' if self.region_retries == 1 else 'retries'} (each removes the region and adds it back): "
                    f"{details}",
                    "check Azure's status and your storage quota in that region, then re-run this task (it retries "
                    "again); or publish without the region and move its pools elsewhere",
                )
            )
        retries = {**retries, **{r: retries.get(r, 0) + 1 for r in failed}}
        self.log.warning(
            "%s; removing %s from the target regions and adding it back (retry %s of %d)",
            event["message"],
            ", ".join(names.get(r, r) for r in failed),
            ", ".join(str(retries[r]) for r in failed),
            self.region_retries,
        )
        removed = [t for t in version["target_regions"] if t["name"] in failed]
        kept = [t for t in version["target_regions"] if t["name"] not in failed]
        operation = hook.begin_target_regions(group, self.gallery_name, self.image_name, self.version, kept)
        trigger = ArmOperationTrigger(operation=operation.to_dict(), **self._polling_until(deadline))
        return self.wait_for(
            context,
            trigger,
            method_name="execute_regions_removed",
            kwargs={"resource_group": group, "deadline": deadline, "retries": retries, "removed": removed},
        )

    def execute_regions_removed(
        self,
        context,
        event=None,
        resource_group: str = "",
        deadline: float = 0.0,
        retries: dict[str, int] | None = None,
        removed: list[dict] | None = None,
    ):
        """The failed regions are out of the target list: add them back, then wait for replication again."""
        self.check_event(event)
        hook = ImageVersionHook(self.azure_conn_id)
        version = hook.get_version(resource_group, self.gallery_name, self.image_name, self.version)
        present = {t["name"] for t in version["target_regions"]}
        targets = version["target_regions"] + [t for t in removed or [] if t["name"] not in present]
        hook.begin_target_regions(resource_group, self.gallery_name, self.image_name, self.version, targets)
        self.log.info(
            "Added %s back to the target regions of %s", ", ".join(t["name"] for t in removed or []), version["id"]
        )
        return self._watch(context, resource_group, deadline, retries or {})
