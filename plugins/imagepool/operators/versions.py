"""Gallery image versions: publish one, scale its replicas to the pools that boot from it, prune old ones.

Publishing returns as soon as Azure accepted the version: replication takes from minutes to hours
per region, and ``sensors.versions.AzureImageVersionReplicationSensor`` waits for the regions a
task needs, so a pool can start in one region while another still replicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from imagepool.errors import AzureOperationFailed
from imagepool.hooks.batch import BatchHook
from imagepool.hooks.versions import BUSY_STATES, ImageVersionHook, parse_version, same_source, version_source
from imagepool.links.portal import ImageVersionLink
from imagepool.operators.base import ImagepoolBaseOperator
from imagepool.replicas import MAX_REPLICAS, normalize_region, pool_nodes, replica_plan
from imagepool.triggers.arm import ArmOperationTrigger

STORAGE_ACCOUNT_TYPES = ("Standard_LRS", "Standard_ZRS", "Premium_LRS", "PremiumV2_LRS")
# Replication has been seen to fail after 2 h 17 min and to run for hours with many regions.
REPLICATION_TIMEOUT = 6 * 3600


def _problems(problems: list[str], what: str) -> None:
    if problems:
        raise ValueError(f"{what}: " + "; ".join(problems))


def is_whole(value, minimum: int = 1) -> bool:
    """A whole number of at least ``minimum`` (True and False are not numbers here)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


class AzureImageVersionPublishOperator(ImagepoolBaseOperator):
    """Publish a gallery image version from a managed image or straight from snapshots; return at once.

    Versions are never overwritten: a version that exists with the same source is reused (a re-run
    converges), one with another source fails and asks for a new version number. The gallery's
    region is always a target region (Azure keeps the source replica there); it is added if missing.

    :param gallery_name: gallery (templated).
    :param image_name: image definition (templated).
    :param version: ``MAJOR.MINOR.PATCH``, each part a 32-bit signed integer (templated).
    :param target_regions: regions to replicate to (templated): region names, or
        ``{"name", "regional_replica_count" (default 1, capped at 100), "storage_account_type"}``.
    :param source_image_id: managed image to publish (templated); or:
    :param os_snapshot_id: OS disk snapshot (or managed disk) to publish directly (templated).
    :param data_snapshot_ids: data disk snapshots by LUN, ``{lun: snapshot id}`` (templated; with ``os_snapshot_id``).
    :param storage_account_type: replica storage where a region does not say (default ``Standard_LRS``).
    :param exclude_from_latest: keep the version out of "latest" (default False).
    :param end_of_life_date: ISO 8601 date-time after which the version should not be used (templated).
    :param location: the version's region (templated); default: the gallery's region.
    :param resource_group_name: resource group (templated); default: the connection's ``resource_group``.
    :param tags: tags of a new version (templated).
    :return: ``{"image_version_id", "version", "location", "regions": [...], "replica_counts": {region: n}}``.
    """

    template_fields: Sequence[str] = (
        *ImagepoolBaseOperator.template_fields,
        "gallery_name",
        "image_name",
        "version",
        "target_regions",
        "source_image_id",
        "os_snapshot_id",
        "data_snapshot_ids",
        "end_of_life_date",
        "location",
        "resource_group_name",
        "tags",
    )
    operator_extra_links = (ImageVersionLink(),)

    def __init__(
        self,
        *,
        gallery_name: str,
        image_name: str,
        version: str,
        target_regions: list,
        source_image_id: str | None = None,
        os_snapshot_id: str | None = None,
        data_snapshot_ids: dict | None = None,
        storage_account_type: str = "Standard_LRS",
        exclude_from_latest: bool = False,
        end_of_life_date: str | datetime | None = None,
        location: str | None = None,
        resource_group_name: str | None = None,
        tags: dict[str, str] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.gallery_name = gallery_name
        self.image_name = image_name
        self.version = version
        self.target_regions = target_regions
        self.source_image_id = source_image_id
        self.os_snapshot_id = os_snapshot_id
        self.data_snapshot_ids = data_snapshot_ids
        self.storage_account_type = storage_account_type
        self.exclude_from_latest = exclude_from_latest
        self.end_of_life_date = end_of_life_date
        self.location = location
        self.resource_group_name = resource_group_name
        self.tags = tags or {}

    # --- validation of rendered values ------------------------------------------------------------
    def _source(self, problems: list[str]) -> dict:
        if bool(self.source_image_id) == bool(self.os_snapshot_id):
            problems.append(
                "give exactly one source: source_image_id (a managed image) or os_snapshot_id "
                f"(snapshots); got source_image_id={self.source_image_id!r}, "
                f"os_snapshot_id={self.os_snapshot_id!r}"
            )
        if self.data_snapshot_ids and not self.os_snapshot_id:
            problems.append("data_snapshot_ids go with os_snapshot_id: a managed image brings its own data disks")
        luns = {}
        for lun, snapshot_id in (self.data_snapshot_ids or {}).items():
            if not str(lun).isdigit():
                problems.append(f"data_snapshot_ids: LUN {lun!r} must be a whole number")
            else:
                luns[int(lun)] = snapshot_id
        return version_source(image_id=self.source_image_id, os_snapshot_id=self.os_snapshot_id, data_snapshot_ids=luns)

    def _targets(self, problems: list[str]) -> list[dict]:
        if self.storage_account_type not in STORAGE_ACCOUNT_TYPES:
            problems.append(
                f"storage_account_type {self.storage_account_type!r} is not one of {', '.join(STORAGE_ACCOUNT_TYPES)}"
            )
        targets: list[dict] = []
        for given in self.target_regions or []:
            entry = {"name": given} if isinstance(given, str) else given
            if not isinstance(entry, dict) or not entry.get("name"):
                problems.append(f"target region {entry!r} has no name")
                continue
            name = normalize_region(entry["name"])
            count = entry.get("regional_replica_count", 1)
            if not is_whole(count):
                problems.append(
                    f"target region {name}: regional_replica_count {count!r} must be a whole number of at least 1"
                )
            elif count > MAX_REPLICAS:
                self.log.warning(
                    "Target region %s: %d replicas asked, capped at Azure's maximum of %d", name, count, MAX_REPLICAS
                )
                count = MAX_REPLICAS
            storage = entry.get("storage_account_type") or self.storage_account_type
            if storage not in STORAGE_ACCOUNT_TYPES:
                problems.append(
                    f"target region {name}: storage_account_type {storage!r} is not one of "
                    f"{', '.join(STORAGE_ACCOUNT_TYPES)}"
                )
            if any(t["name"] == name for t in targets):
                problems.append(f"target region {name} is listed twice; Azure refuses duplicate regions")
            targets.append({"name": name, "regional_replica_count": count, "storage_account_type": storage})
        return targets

    def _end_of_life(self, problems: list[str]) -> datetime | None:
        if not self.end_of_life_date:
            return None
        try:
            when = (
                self.end_of_life_date
                if isinstance(self.end_of_life_date, datetime)
                else datetime.fromisoformat(str(self.end_of_life_date))
            )
        except ValueError:
            problems.append(f"end_of_life_date {self.end_of_life_date!r} is not an ISO 8601 date-time")
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        if when <= datetime.now(UTC):
            problems.append(f"end_of_life_date {self.end_of_life_date!r} is in the past; Azure wants a future date")
        return when

    # --- the task ------------------------------------------------------------------------------------
    def execute(self, context):
        problems: list[str] = []
        try:
            parse_version(self.version)
        except ValueError as exc:
            problems.append(str(exc))
        source = self._source(problems)
        targets = self._targets(problems)
        end_of_life = self._end_of_life(problems)
        _problems(problems, f"{self.task_id}: cannot publish image version {self.version!r}")

        hook = ImageVersionHook(self.azure_conn_id)
        group = hook.resource_group(self.resource_group_name)
        existing = hook.get_version(group, self.gallery_name, self.image_name, self.version)
        if existing:
            ImageVersionLink.persist(context, hook.settings, existing["id"])
            return self._reuse(existing, source, targets)
        location = normalize_region(self.location or self._gallery_location(hook, group))
        if location not in [t["name"] for t in targets]:
            self.log.info(
                "Adding the gallery's region %s to the target regions: Azure keeps the version's source replica there",
                location,
            )
            targets.append(
                {"name": location, "regional_replica_count": 1, "storage_account_type": self.storage_account_type}
            )
        version_id = hook.begin_version(
            group,
            self.gallery_name,
            self.image_name,
            self.version,
            location=location,
            source=source,
            target_regions=targets,
            exclude_from_latest=self.exclude_from_latest,
            end_of_life_date=end_of_life,
            tags=self.tags,
        ).resource_id
        ImageVersionLink.persist(context, hook.settings, version_id)
        self.log.info(
            "Publishing %s to %s; replication is waited for by AzureImageVersionReplicationSensor",
            version_id,
            ", ".join(f"{t['name']} ({t['regional_replica_count']} replicas)" for t in targets),
        )
        return self._published(version_id, location, targets)

    def _published(self, version_id: str, location: str, targets: list[dict]) -> dict:
        """What the task returns (XCom), for a new version and a reused one alike."""
        return {
            "image_version_id": version_id,
            "version": self.version,
            "location": location,
            "regions": [t["name"] for t in targets],
            "replica_counts": _counts(targets),
        }

    def _gallery_location(self, hook: ImageVersionHook, group: str) -> str:
        gallery = hook.get_gallery(group, self.gallery_name)
        if gallery is None:
            raise AzureOperationFailed(
                f"gallery {self.gallery_name}",
                "ResourceNotFound",
                f"the gallery does not exist in resource group {group}",
                "create it first (AzureGalleryEnsureOperator), or fix gallery_name",
            )
        return gallery["location"]

    def _reuse(self, existing: dict, source: dict, targets: list[dict]) -> dict:
        if existing["provisioning_state"] == "Deleting":
            raise AzureOperationFailed(
                existing["id"],
                "Deleting",
                "the version is being deleted",
                "publish under a new version number, or re-run once the deletion has ended",
            )
        if not same_source(existing["source"], source):
            raise AzureOperationFailed(
                existing["id"],
                "PropertyChangeNotAllowed",
                f"the version already exists with source {existing['source']}, not {source}; Azure never "
                "changes a version's source",
                f"versions are never overwritten: bump the version (for example "
                f"{_next_patch(self.version)}) and publish again",
            )
        regions = _counts(existing["target_regions"])
        missing = [t["name"] for t in targets if t["name"] not in regions]
        self.log.info(
            "%s already exists from the same source (%s); reusing it", existing["id"], existing["provisioning_state"]
        )
        if missing:
            self.log.warning(
                "%s does not target %s; a pool there needs AzureImageVersionReplicasScaleOperator "
                "(which adds its region) or a new version",
                existing["id"],
                ", ".join(missing),
            )
        return self._published(existing["id"], existing["location"], existing["target_regions"])


def _next_patch(version: str) -> str:
    major, minor, patch = parse_version(version)
    return f"{major}.{minor}.{patch + 1}"


class AzureImageVersionReplicasScaleOperator(ImagepoolBaseOperator):
    """Raise each region's replica count to what the Batch pools booting from the version need.

    A region's need is ``ceil(nodes / vms_per_replica)`` over its pools' target nodes (dedicated +
    spot), at least ``minimum_replicas``, at most 100 (see ``imagepool.replicas``); a pool region
    that is not a target region yet is added. Counts are only raised: a region that hosts a pool is
    never lowered, and other regions only with ``allow_lowering``. Nothing is sent when the counts are
    already right; otherwise the operator waits for the update (the new replicas' replication).

    :param gallery_name: gallery (templated).
    :param image_name: image definition (templated).
    :param version: the image version (templated).
    :param pools: pools that boot from the version (templated):
        ``[{"region", "target_dedicated_nodes", "target_low_priority_nodes"}]``.
    :param replica_counts: a precomputed need ``{region: replicas}`` (templated), e.g. the pipeline spec's
        ``replicas_per_region()``; combined with ``pools`` by taking the larger count.
    :param vms_per_replica: pool nodes one replica serves (default 300; older guidance said 600).
    :param minimum_replicas: replicas in every target region (default 1).
    :param allow_lowering: lower regions without pools to the plan (default False).
    :param resource_group_name: resource group (templated); default: the connection's.
    :param timeout: seconds to wait for the update (default 6 hours).
    :return: ``{region: replica count}`` after the update.
    """

    template_fields: Sequence[str] = (
        *ImagepoolBaseOperator.template_fields,
        "gallery_name",
        "image_name",
        "version",
        "pools",
        "replica_counts",
        "resource_group_name",
    )
    operator_extra_links = (ImageVersionLink(),)

    def __init__(
        self,
        *,
        gallery_name: str,
        image_name: str,
        version: str,
        pools: list[dict] | None = None,
        replica_counts: dict[str, int] | None = None,
        vms_per_replica: int = 300,
        minimum_replicas: int = 1,
        allow_lowering: bool = False,
        resource_group_name: str | None = None,
        timeout: float = REPLICATION_TIMEOUT,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.gallery_name = gallery_name
        self.image_name = image_name
        self.version = version
        self.pools = pools
        self.replica_counts = replica_counts
        self.vms_per_replica = vms_per_replica
        self.minimum_replicas = minimum_replicas
        self.allow_lowering = allow_lowering
        self.resource_group_name = resource_group_name
        self.timeout = timeout

    def _wanted(self) -> dict[str, int]:
        """Check the rendered values before any call; the explicit ``replica_counts`` by region."""
        problems: list[str] = []
        try:
            parse_version(self.version)
        except ValueError as exc:
            problems.append(str(exc))
        for i, pool in enumerate(self.pools or []):
            try:
                if not pool.get("region") or pool_nodes(pool) < 0:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(
                    f"pools[{i}] = {pool!r} needs a region and whole, non-negative "
                    "target_dedicated_nodes / target_low_priority_nodes"
                )
        if not is_whole(self.vms_per_replica):
            problems.append(f"vms_per_replica={self.vms_per_replica!r} must be a whole number of at least 1")
        if not is_whole(self.minimum_replicas) or self.minimum_replicas > MAX_REPLICAS:
            problems.append(
                f"minimum_replicas={self.minimum_replicas!r} must be a whole number from 1 to {MAX_REPLICAS}"
            )
        bad = {r: c for r, c in (self.replica_counts or {}).items() if not is_whole(c)}
        if bad:
            problems.append(f"replica_counts {bad} must be whole numbers of at least 1")
        _problems(problems, f"{self.task_id}: cannot size the replicas of image version {self.version!r}")
        return {normalize_region(r): min(MAX_REPLICAS, c) for r, c in (self.replica_counts or {}).items()}

    def execute(self, context):
        wanted = self._wanted()
        hook = ImageVersionHook(self.azure_conn_id)
        group = hook.resource_group(self.resource_group_name)
        existing = hook.get_version(group, self.gallery_name, self.image_name, self.version)
        if existing is None:
            raise AzureOperationFailed(
                f"image version {self.gallery_name}/{self.image_name}/{self.version}",
                "ResourceNotFound",
                "the version does not exist",
                "publish it first (AzureImageVersionPublishOperator)",
            )
        ImageVersionLink.persist(context, hook.settings, existing["id"])
        current = {t["name"]: t for t in existing["target_regions"]}
        plan = replica_plan(
            current, self.pools or [], vms_per_replica=self.vms_per_replica, minimum=self.minimum_replicas
        )
        for region, count in wanted.items():
            plan[region] = max(plan.get(region, self.minimum_replicas), count)
        pool_regions = {normalize_region(p["region"]) for p in self.pools or []}
        targets, changes = [], []
        for name, held in current.items():
            target = held
            have, want = target["regional_replica_count"], plan[name]
            lower = want < have and self.allow_lowering and name not in pool_regions
            if want > have or lower:
                changes.append(f"{name} {have} -> {want}")
                target = dict(target, regional_replica_count=want)
            elif want < have:
                self.log.info(
                    "%s keeps %d replicas (the plan needs %d): %s",
                    name,
                    have,
                    want,
                    "a pool uses the region" if name in pool_regions else "lowering is not allowed",
                )
            targets.append(target)
        for name in plan.keys() - current.keys():
            changes.append(f"{name} added with {plan[name]}")
            targets.append({"name": name, "regional_replica_count": plan[name]})
        if not changes:
            self.log.info("%s already has the replicas it needs: %s", existing["id"], _counts(targets))
            return _counts(targets)
        if existing["provisioning_state"] in BUSY_STATES:
            raise AzureOperationFailed(
                existing["id"],
                "OperationNotAllowed",
                f"the version is {existing['provisioning_state']} and Azure refuses updates "
                "until the running operation ends",
                "wait for replication (AzureImageVersionReplicationSensor), then re-run",
            )
        self.log.info("Scaling replicas of %s: %s", existing["id"], ", ".join(changes))
        operation = hook.begin_target_regions(group, self.gallery_name, self.image_name, self.version, targets)
        trigger = ArmOperationTrigger(
            operation=operation.to_dict(),
            action="a region failed to replicate: AzureImageVersionReplicationSensor removes and re-adds failed "
            "regions; then re-run this task",
            **self.polling(
                self.timeout,
                "Replication of new replicas can take hours; see the version's replication status in the portal.",
            ),
        )
        return self.wait_for(context, trigger)

    def execute_complete(self, context, event=None):
        self.check_event(event)
        hook = ImageVersionHook(self.azure_conn_id)
        found = hook.get_version(
            hook.resource_group(self.resource_group_name), self.gallery_name, self.image_name, self.version
        )
        counts = _counts(found["target_regions"])
        self.log.info("Replicas of %s are now %s", found["id"], counts)
        return counts


def _counts(targets: list[dict]) -> dict[str, int]:
    return {t["name"]: t["regional_replica_count"] for t in targets}


def prune_plan(versions: list[dict], *, keep: int, promoted: str | None, in_use: set[str]) -> dict[str, str]:
    """Which versions to keep and why: ``{name: reason}``; every other version may be deleted.

    Kept: the ``keep`` newest by version number, the promoted version, every version a pool boots
    from (``in_use``: lower-cased image ids), and, when a pool names the image definition itself
    (Azure's "latest"), the newest version not excluded from latest. A name that is not
    ``MAJOR.MINOR.PATCH`` is kept rather than guessed at.
    """
    reasons: dict[str, list[str]] = {v["name"]: [] for v in versions}
    numbered = []
    for v in versions:
        try:
            numbered.append((parse_version(v["name"]), v))
        except ValueError:
            reasons[v["name"]].append("not a MAJOR.MINOR.PATCH name")
    numbered.sort(key=lambda item: item[0], reverse=True)
    for _, v in numbered[:keep]:
        reasons[v["name"]].append(f"among the {keep} newest")
    definitions = {v["id"].lower().rsplit("/versions/", 1)[0] for v in versions}
    latest = next((v for _, v in numbered if not v["exclude_from_latest"]), None)
    for v in versions:
        if v["name"] == promoted:
            reasons[v["name"]].append("the version being promoted")
        if v["id"].lower() in in_use:
            reasons[v["name"]].append("a Batch pool uses it")
    if latest is not None and definitions & in_use:
        reasons[latest["name"]].append("a Batch pool uses the definition's latest version")
    return {name: ", ".join(why) for name, why in reasons.items() if why}


class AzureImageVersionPruneOperator(ImagepoolBaseOperator):
    """Delete old image versions, keeping the newest ones and every version a Batch pool still uses.

    :param gallery_name: gallery (templated).
    :param image_name: image definition (templated).
    :param keep: how many of the newest versions (by version number) to keep (default 3, at least 1).
    :param promoted_version: the version being promoted, never deleted (templated).
    :param in_use_image_ids: image ids pools boot from (``virtualMachineImageId``), never deleted (templated).
    :param batch_account_urls: Batch accounts whose pools' image ids are also kept (templated).
    :param resource_group_name: resource group (templated); default: the connection's.
    :param timeout: seconds to wait for each deletion (default 1800).
    :return: ``{"kept": {version: reason}, "deleted": [version, ...]}``.
    """

    template_fields: Sequence[str] = (
        *ImagepoolBaseOperator.template_fields,
        "gallery_name",
        "image_name",
        "promoted_version",
        "in_use_image_ids",
        "batch_account_urls",
        "resource_group_name",
    )

    def __init__(
        self,
        *,
        gallery_name: str,
        image_name: str,
        keep: int = 3,
        promoted_version: str | None = None,
        in_use_image_ids: list[str] | None = None,
        batch_account_urls: list[str] | None = None,
        resource_group_name: str | None = None,
        timeout: float = 1800,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.gallery_name = gallery_name
        self.image_name = image_name
        self.keep = keep
        self.promoted_version = promoted_version
        self.in_use_image_ids = in_use_image_ids
        self.batch_account_urls = batch_account_urls
        self.resource_group_name = resource_group_name
        self.timeout = timeout

    def _in_use(self) -> set[str]:
        in_use = {image_id.lower() for image_id in self.in_use_image_ids or []}
        for url in self.batch_account_urls or []:
            in_use |= BatchHook(self.azure_conn_id, batch_account_url=url).pool_image_ids()
        return in_use

    def execute(self, context):
        problems: list[str] = []
        if not is_whole(self.keep):
            problems.append(f"keep={self.keep!r} must be a whole number of at least 1")
        if self.promoted_version:
            try:
                parse_version(self.promoted_version)
            except ValueError as exc:
                problems.append(f"promoted_version: {exc}")
        _problems(problems, f"{self.task_id}: cannot prune {self.gallery_name}/{self.image_name}")

        hook = ImageVersionHook(self.azure_conn_id)
        group = hook.resource_group(self.resource_group_name)
        versions = hook.list_versions(group, self.gallery_name, self.image_name)
        kept = prune_plan(versions, keep=self.keep, promoted=self.promoted_version, in_use=self._in_use())
        for name, reason in kept.items():
            self.log.info("Keeping %s/%s/%s: %s", self.gallery_name, self.image_name, name, reason)
        doomed = sorted((v["name"] for v in versions if v["name"] not in kept), key=parse_version)
        operations = [
            hook.begin_delete_version(group, self.gallery_name, self.image_name, name).to_dict() for name in doomed
        ]
        self.log.info("Deleting %s", ", ".join(doomed) if doomed else "nothing")
        return self._wait_next(context, operations, {"kept": kept, "deleted": doomed})

    def _wait_next(self, context, operations: list[dict], result: dict[str, Any]):
        """Wait for the deletions one after the other (all were started together)."""
        pending = [op for op in operations if not op["done"]]
        if not pending:
            return result
        trigger = ArmOperationTrigger(operation=pending[0], **self.polling(self.timeout))
        return self.wait_for(context, trigger, kwargs={"operations": pending[1:], "result": result})

    def execute_complete(
        self, context, event=None, operations: list[dict] | None = None, result: dict[str, Any] | None = None
    ):
        self.log.info("%s", self.check_event(event)["message"])
        return self._wait_next(context, operations or [], result or {})
