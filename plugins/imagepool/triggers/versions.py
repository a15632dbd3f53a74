"""Wait for an image version's replication, region by region.

The trigger only reads: a region that failed is reported as an event carrying ``failed_regions``,
and the sensor repairs it (remove the region, re-add it) before waiting again.
"""

from __future__ import annotations

from typing import Any

from imagepool.hooks.versions import ImageVersionHook
from imagepool.replicas import normalize_region
from imagepool.triggers.base import AzurePollingTrigger, Poll

# Azure refuses to update a version (409) until its running operation ends: a failed region can
# only be repaired once the other regions have completed or failed too.
SETTLING_STATES = ("Creating", "Updating")


def _progress(watched: list[dict]) -> str:
    """``replication 62%, 1/3 regions complete (West Europe 100%, North Europe 40%, East US 45%)``."""
    percent = round(sum(100 if r["state"] == "Completed" else r["progress"] for r in watched) / len(watched))
    complete = sum(r["state"] == "Completed" for r in watched)
    regions = ", ".join(
        f"{r['region']} failed at {r['progress']}%"
        if r["state"] == "Failed"
        else f"{r['region']} {100 if r['state'] == 'Completed' else r['progress']}%"
        for r in watched
    )
    return f"replication {percent}%, {complete}/{len(watched)} regions complete ({regions})"


def replication_poll(version: dict | None, wanted: list[str] | None, what: str) -> Poll:
    """The decision for one look at a version (``hooks.versions.version_facts`` with replication).

    Success when every wanted region (all target regions if ``wanted`` is empty) has completed,
    whatever the other regions do; a failed wanted region is reported, with every other failed
    region, once the version has settled (``failed_regions``, ``failure_details``, ``display_names``).
    """
    if version is None:
        return Poll.waiting(f"{what}: not found (yet)")
    state = version["provisioning_state"]
    if state == "Deleting":
        return Poll.failed(
            f"{what}: the version is being deleted -> publish the image again under a new version number",
            image_version_id=version["id"],
        )
    summary = (version.get("replication") or {}).get("regions") or []
    if not summary:
        return Poll.waiting(f"{what}: {state}, replication not started yet")
    by_region = {normalize_region(r["region"]): r for r in summary}
    names = [normalize_region(r) for r in wanted] if wanted else list(by_region)
    missing = [r for r in names if r not in by_region]
    if missing and state == "Updating":
        # An update that adds the region (a scale-out, a failed region added back) may not show it yet.
        return Poll.waiting(f"{what}: Updating; {', '.join(missing)} not among the target regions yet")
    if missing:
        return Poll.failed(
            f"{what}: {', '.join(missing)} not among the version's target regions "
            f"({', '.join(by_region)}) -> add the region with AzureImageVersionReplicasScaleOperator "
            "(a pool in the region), or wait only for target regions",
            image_version_id=version["id"],
        )
    watched = [by_region[r] for r in names]
    message = f"{what}: {_progress(watched)}"
    failed = [r for r in names if by_region[r]["state"] == "Failed"]
    if failed and state in SETTLING_STATES:
        return Poll.waiting(
            f"{message}; waiting for the other regions to settle before retrying "
            f"{', '.join(by_region[r]['region'] for r in failed)}"
        )
    if failed:
        # Every failed region, wanted or not: Azure fails any update while a failed region is listed.
        every = [r for r, status in by_region.items() if status["state"] == "Failed"]
        details = {r: by_region[r]["details"] or f"replication failed in {by_region[r]['region']}" for r in every}
        return Poll.failed(
            f"{message}; " + "; ".join(details.values()),
            image_version_id=version["id"],
            failed_regions=every,
            failure_details=details,
            display_names={r: by_region[r]["region"] for r in every},
        )
    if all(r["state"] == "Completed" for r in watched):
        return Poll.done(message, image_version_id=version["id"], regions=names)
    return Poll.waiting(message)


class ReplicationTrigger(AzurePollingTrigger):
    """Poll a version with its replication status until the wanted regions complete or one fails.

    :param resource_group_name: resource group of the gallery.
    :param gallery_name: gallery.
    :param image_name: image definition.
    :param version: image version (``MAJOR.MINOR.PATCH``).
    :param regions: regions to wait for (either spelling); empty or None: every target region.
    """

    hook_class = ImageVersionHook

    def __init__(
        self,
        *,
        resource_group_name: str,
        gallery_name: str,
        image_name: str,
        version: str,
        regions: list[str] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.resource_group_name = resource_group_name
        self.gallery_name = gallery_name
        self.image_name = image_name
        self.version = version
        self.regions = list(regions or [])

    def _kwargs(self) -> dict[str, Any]:
        return {
            "resource_group_name": self.resource_group_name,
            "gallery_name": self.gallery_name,
            "image_name": self.image_name,
            "version": self.version,
            "regions": self.regions,
        }

    async def poll(self, hook: ImageVersionHook) -> Poll:
        found = await hook.aget_replication(self.resource_group_name, self.gallery_name, self.image_name, self.version)
        return replication_poll(
            found, self.regions, f"image version {self.gallery_name}/{self.image_name}/{self.version}"
        )
