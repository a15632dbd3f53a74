"""Gallery image versions: an image published to target regions, and its replication there.

A new version is prepared for ``version_prepare``, then every target region replicates in parallel
for ``replication_per_region + (replicas - 1) * replication_per_extra_replica``. The operation, and
provisioningState, ends when every region has completed or failed: Succeeded, or Failed if any
region failed, which is why tools that wait on the operation "time out while the image exists".
A region is stored as its current attempt (start, end, the instant it fails if it does); its state
and progress are derived when read, so reads change nothing and a restarted emulator carries on.
The aggregated replication state is Failed as soon as one region has failed, while the operation
still waits for the other regions.

An update (PATCH, or PUT with the same source) replaces the target regions: a new region replicates
in full, a raised replica count replicates the extra replicas, a lowered count or a removed region
takes ``version_update``. A failed region that is still listed stays failed and fails the update
again: Azure's advice is to remove the failed regions, update, then add them back.

Emulator choices where Azure's behaviour is not documented:
* an update while the version is Creating, Updating or Deleting is refused (409 OperationNotAllowed);
* a source whose security type the definition does not accept fails the operation after preparation
  with InternalOperationError (the way users report it), not at the PUT;
* "latest" is the highest version number not excluded from latest, globally or in the region, in
  whatever state it is; ``pool_image_info`` says whether it is replicated there.
"""

from __future__ import annotations

import datetime as dt
import re

from azure_emulator import regions, timeline
from azure_emulator.arm.common import check_same_location, injected_failure, tracked
from azure_emulator.arm.models import disks, images
from azure_emulator.arm.models.galleries import IMAGES as DEFINITIONS, VERSIONS, security_type
from azure_emulator.clock import iso
from azure_emulator.errors import AzureError, property_change_not_allowed

INT32_MAX = 2**31 - 1
VERSION_NAME = re.compile(r"^([0-9]+)\.([0-9]+)\.([0-9]+)$")
IMAGE_REFERENCE = re.compile(
    r"^(?P<definition>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/"
    r"galleries/[^/]+/images/[^/]+)(?:/versions/(?P<version>[^/]+))?/?$",
    re.IGNORECASE,
)
STORAGE_TYPES = ("Standard_LRS", "Standard_ZRS", "Premium_LRS", "PremiumV2_LRS")
HOST_CACHING = ("None", "ReadOnly", "ReadWrite")
MAX_REPLICAS = 100
BUSY = ("Creating", "Updating", "Deleting")
PROFILE = "galleryImageVersion.properties.publishingProfile"
# The JSON types of what a version PUT or PATCH is read for (see azure_emulator.shapes).
BODY = {
    "properties": {
        "publishingProfile": {
            "targetRegions": [
                {"name": str, "regionalReplicaCount": int, "storageAccountType": str, "excludeFromLatest": bool}
            ],
            "replicaCount": int,
            "storageAccountType": str,
            "excludeFromLatest": bool,
            "endOfLifeDate": str,
        },
        "storageProfile": {
            "source": {"id": str, "virtualMachineId": str},
            "osDiskImage": {"source": {"id": str}, "hostCaching": str},
            "dataDiskImages": [{"lun": int, "source": {"id": str}, "hostCaching": str}],
        },
        "safetyProfile": {"allowDeletionOfReplicatedLocations": bool, "blockDeletionBeforeEndOfLife": bool},
    }
}
# What a caller may set in safetyProfile (``reportedForPolicyViolation`` and ``policyViolations`` are Azure's).
SAFETY_SETTINGS = ("allowDeletionOfReplicatedLocations", "blockDeletionBeforeEndOfLife")
# A PATCH may carry the location too; it is not read, but it is deserialized like the rest.
UPDATE_BODY = {"location": str, **BODY}
# Source security types each definition security type accepts (a Trusted Launch disk cannot become a
# Standard image, nor a Standard one a TrustedLaunch-only image).
ACCEPTS = {
    "Standard": {"Standard"},
    "TrustedLaunch": {"TrustedLaunch"},
    "TrustedLaunchSupported": {"Standard", "TrustedLaunch"},
    "ConfidentialVM": {"ConfidentialVM"},
    "ConfidentialVMSupported": {"Standard", "ConfidentialVM"},
    "TrustedLaunchAndConfidentialVmSupported": {"Standard", "TrustedLaunch", "ConfidentialVM"},
}
REPLICATION_ERROR = "Failed with internal server error."


# --- request validation ------------------------------------------------------------------------------


def _check_name(name: str) -> None:
    parts = VERSION_NAME.match(name)
    if not parts or any(int(part) > INT32_MAX for part in parts.groups()):
        raise AzureError(
            "InvalidParameter",
            "The image version name is invalid. The image version name should follow "
            "Major(int).Minor(int).Patch(int) format, where int is between 0 and 2,147,483,647 "
            "(inclusive). For e.g: 1.0.0, 2018.12.1 etc",
            target="galleryImageVersionName",
        )


def _replicas(value, parameter: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REPLICAS:
        raise AzureError(
            "InvalidParameter",
            f"The value {value} of parameter {parameter} is out of range. The value "
            f"must be between 1 and {MAX_REPLICAS}, inclusive: an image version has at most "
            f"{MAX_REPLICAS} replicas per region.",
            target=parameter,
        )
    return value


def _storage_type(value: str, parameter: str) -> str:
    if value not in STORAGE_TYPES:
        raise AzureError(
            "InvalidParameter",
            f"The value '{value}' of parameter {parameter} is not allowed. Allowed "
            f"values are: {', '.join(STORAGE_TYPES)}.",
            target=parameter,
        )
    return value


def _end_of_life(value: str, now: float) -> str:
    try:
        when = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise AzureError(
            "InvalidParameter",
            f"Could not convert string to DateTimeOffset: {value}. Path 'properties.publishingProfile.endOfLifeDate'.",
            target="endOfLifeDate",
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    if when.timestamp() <= now:
        raise AzureError("InvalidParameter", "EndOfLifeDate must be set to a future date.", target="endOfLifeDate")
    return value


def _targets(backend, raw: list, replica_count: int, storage_type: str, location: str) -> list[dict]:
    """The asked target regions, normalized: [{region, display, replicas, storage, explicit_storage, exclude}]."""
    targets: list[dict] = []
    for entry in raw:
        region = regions.normalize(backend, entry.get("name"))
        if region is None:
            raise AzureError(
                "InvalidParameter",
                f"The provided location '{entry.get('name')}' is not available for "
                "resource type 'Microsoft.Compute/galleries'. List of available regions for the resource "
                f"type is '{','.join(regions.physical_names(backend))}'.",
                target=f"{PROFILE}.targetRegions.name",
            )
        if any(t["region"] == region for t in targets):
            raise AzureError(
                "InvalidParameter",
                "Duplicate regions are not allowed in target publishing regions.",
                target=f"{PROFILE}.targetRegions",
            )
        count = entry.get("regionalReplicaCount")
        targets.append(
            {
                "region": region,
                "display": regions.display(backend, region),
                "replicas": replica_count
                if count is None
                else _replicas(count, f"{PROFILE}.targetRegions.regionalReplicaCount"),
                "storage": _storage_type(
                    entry.get("storageAccountType") or storage_type, f"{PROFILE}.targetRegions.storageAccountType"
                ),
                "explicit_storage": bool(entry.get("storageAccountType")),
                "exclude": bool(entry.get("excludeFromLatest", False)),
            }
        )
    if location not in [t["region"] for t in targets]:
        raise AzureError(
            "InvalidParameter",
            "Gallery image version publishing profile regions "
            f"'{', '.join(t['region'] for t in targets)}' must contain the location of image version "
            f"'{regions.display(backend, location)}'.",
            target=f"{PROFILE}.targetRegions",
        )
    return targets


def _target_document(target: dict) -> dict:
    return {
        "name": target["display"],
        "regionalReplicaCount": target["replicas"],
        "storageAccountType": target["storage"],
        "excludeFromLatest": target["exclude"],
    }


# --- sources -------------------------------------------------------------------------------------------


def _origin(storage: dict) -> dict:
    """What a version is made from, by id: changing it on an existing version is refused."""
    source = storage.get("source") or {}
    return {
        "source": (source.get("id") or source.get("virtualMachineId") or "").lower(),
        "osDiskImage": (((storage.get("osDiskImage") or {}).get("source") or {}).get("id") or "").lower(),
        "dataDiskImages": sorted(
            f"{d.get('lun')}={((d.get('source') or {}).get('id') or '').lower()}"
            for d in storage.get("dataDiskImages") or []
        ),
    }


def _check_same_origin(doc: dict, storage: dict, partial: bool) -> None:
    wanted = _origin(storage)
    for field in ("source", "osDiskImage"):
        if (wanted[field] or not partial) and wanted[field] != doc["_origin"][field]:
            path = "source.id" if field == "source" else "osDiskImage.source.id"
            raise property_change_not_allowed(f"galleryImageVersion.properties.storageProfile.{path}")
    if (wanted["dataDiskImages"] or not partial) and wanted["dataDiskImages"] != doc["_origin"]["dataDiskImages"]:
        raise AzureError(
            "InvalidParameter",
            "Adding new Data Disks or changing the LUN of a Data Disk in an existing Image is not allowed.",
            target="galleryImageVersion.properties.storageProfile.dataDiskImages",
        )


def _missing_source(resource_id: str) -> AzureError:
    return AzureError(
        "NotFound",
        f"Source {resource_id} is not found. Please check source exists, and is in the same "
        "region as gallery image version being created.",
    )


def _check_ready(source: dict) -> None:
    state = source["properties"]["provisioningState"]
    if state != "Succeeded":
        raise AzureError(
            "OperationNotAllowed",
            f"The source '{source['id']}' is in provisioning state '{state}'; a "
            "version can be published from it once it has succeeded.",
        )


def _check_matches(
    definition: dict, source_id: str, os_type: str | None, generation: str | None, os_state: str | None = None
) -> None:
    wanted = definition["properties"]
    if os_type and os_type != wanted["osType"]:
        raise AzureError(
            "Conflict",
            f"The resource with id '{source_id}' has a different OS type ['{os_type}'] than "
            f"the parent gallery image OS type ['{wanted['osType']}'].",
        )
    if os_state and os_state != wanted["osState"]:
        raise AzureError(
            "BadRequest",
            f"The resource with id '{source_id}' has a different OS state ['{os_state}'] "
            f"than the parent gallery image OS state ['{wanted['osState']}'].",
        )
    if generation and generation != wanted["hyperVGeneration"]:
        raise AzureError(
            "Conflict",
            f"The resource with id '{source_id}' has a different Hypervisor generation "
            f"['{generation}'] than the parent gallery image Hypervisor generation "
            f"['{wanted['hyperVGeneration']}'].",
        )


def _from_managed_image(backend, definition: dict, source_id: str, location: str) -> tuple[dict, str]:
    """(storage profile, source security type) of a version published from a managed image."""
    kind = source_id.rstrip("/").split("/")[-2].lower() if source_id.count("/") > 1 else ""
    if kind != "images":
        raise AzureError(
            "InvalidParameter",
            f"The source id: {source_id} must either be a managed image, virtual "
            "machine or another gallery image version. The emulator publishes managed images and, through "
            "'osDiskImage', snapshots and disks.",
            target="storageProfile.source.id",
        )
    image = backend.view(images.IMAGES, source_id)
    if image is None or image["location"] != location:
        raise _missing_source(source_id)
    _check_ready(image)
    os_disk = image["properties"]["storageProfile"]["osDisk"]
    _check_matches(
        definition, image["id"], os_disk["osType"], image["properties"]["hyperVGeneration"], os_disk["osState"]
    )
    profile = {
        "source": {"id": source_id},
        "osDiskImage": {"sizeInGB": os_disk["diskSizeGB"], "hostCaching": "ReadOnly"},
        "dataDiskImages": [
            {"lun": d["lun"], "sizeInGB": d["diskSizeGB"], "hostCaching": "None"}
            for d in image["properties"]["storageProfile"]["dataDisks"]
        ],
    }
    return profile, "Standard"


def _disk_image(backend, entry: dict, location: str, caching: str, path: str) -> tuple[dict, dict]:
    """One disk image from a snapshot or managed disk: (its document, the source's properties)."""
    source_id = (entry.get("source") or {}).get("id") or ""
    kind = source_id.rstrip("/").split("/")[-2].lower() if source_id.count("/") > 1 else ""
    if kind not in ("snapshots", "disks"):
        raise AzureError(
            "InvalidParameter",
            f"The source id: {source_id} must be a managed disk or snapshot.",
            target=f"storageProfile.{path}.source.id",
        )
    source = disks.find_copy_source(backend, source_id)
    if source is None or source["location"] != location:
        raise _missing_source(source_id)
    _check_ready(source)
    host_caching = entry.get("hostCaching") or caching
    if host_caching not in HOST_CACHING:
        raise AzureError(
            "InvalidParameter",
            f"The value '{host_caching}' of parameter 'hostCaching' is not allowed. "
            f"Allowed values are: {', '.join(HOST_CACHING)}.",
            target=f"storageProfile.{path}.hostCaching",
        )
    return (
        {"hostCaching": host_caching, "sizeInGB": source["properties"]["diskSizeGB"], "source": {"id": source_id}},
        source["properties"],
    )


def _from_snapshots(backend, definition: dict, storage: dict, location: str) -> tuple[dict, str]:
    """(storage profile, source security type) of a version published straight from snapshots or disks."""
    os_image, os_source = _disk_image(backend, storage["osDiskImage"], location, "ReadOnly", "osDiskImage")
    _check_matches(definition, os_image["source"]["id"], os_source.get("osType"), os_source.get("hyperVGeneration"))
    data_images: list[dict] = []
    for entry in storage.get("dataDiskImages") or []:
        if entry.get("lun") in [d["lun"] for d in data_images]:
            raise AzureError(
                "InvalidParameter",
                "Duplicated lun numbers have been detected in the input data disks. "
                "Lun number must be unique for each data disk.",
                target="storageProfile.dataDiskImages",
            )
        data_image, _ = _disk_image(backend, entry, location, "None", "dataDiskImages")
        data_images.append({"lun": entry.get("lun"), **data_image})
    ids = [d["source"]["id"].lower() for d in [os_image, *data_images]]
    if len(set(ids)) != len(ids):
        raise AzureError(
            "InvalidParameter",
            "Duplicated source ids are found in the input disks. Source id should be unique for each disk.",
            target="storageProfile",
        )
    security = (os_source.get("securityProfile") or {}).get("securityType") or "Standard"
    return {"osDiskImage": os_image, "dataDiskImages": data_images}, security


def _source(backend, definition: dict, storage: dict, location: str) -> tuple[dict, str]:
    full = storage.get("source") or {}
    direct = ((storage.get("osDiskImage") or {}).get("source") or {}).get("id")
    full_id = full.get("id") or full.get("virtualMachineId")
    if bool(full_id) == bool(direct):
        raise AzureError(
            "InvalidParameter",
            "The gallery artifact version source can only be specified either "
            "directly under storageProfile or within individual OS or data disks. One and only one source "
            "type (user image, snapshot, disk, virtual machine) can be provided.",
            target="storageProfile",
        )
    if full_id:
        return _from_managed_image(backend, definition, full_id, location)
    return _from_snapshots(backend, definition, storage, location)


def _security_mismatch(definition: dict, source_security: str) -> dict | None:
    wanted = security_type(definition["properties"])
    family = "ConfidentialVM" if source_security.startswith("ConfidentialVM") else source_security
    if family in ACCEPTS.get(wanted, {"Standard"}):
        return None
    return {
        "code": "InternalOperationError",
        "message": f"Replication failed in this region due to 'The source has security type '{source_security}', "
        f"which the gallery image's security type '{wanted}' does not accept.'",
    }


# --- replication ------------------------------------------------------------------------------------------


def _attempt(backend, target: dict, start: float, span: float, ready: int, version: str) -> dict:
    """A region's replication attempt; the ``replication_failed`` fault decides whether it fails."""
    record = {
        "replicas": target["replicas"],
        "storage": target["storage"],
        "exclude": target["exclude"],
        "ready": ready,
        "start": start,
        "end": start + span,
        "failAt": None,
        "error": None,
    }
    rule = backend.faults.take("replication_failed", region=target["region"], version=version)
    if rule is not None:
        record.update(
            failAt=start + backend.durations["replication_failure_after"] * span,
            error=rule.get("message", REPLICATION_ERROR),
        )
    return record


def _full_span(backend, replicas: int) -> float:
    d = backend.durations
    return d["replication_per_region"] + (replicas - 1) * d["replication_per_extra_replica"]


def _terminal_at(record: dict) -> float:
    return record["end"] if record["failAt"] is None else record["failAt"]


def region_status(record: dict, now: float) -> tuple[str, int]:
    """(state, progress percent) of a region's replication at ``now``."""

    def progress(at: float) -> int:
        span = record["end"] - record["start"]
        return 0 if span <= 0 else max(0, min(99, int(100 * (at - record["start"]) / span)))

    if record["failAt"] is not None and now >= record["failAt"]:
        return "Failed", progress(record["failAt"])
    if now >= record["end"]:
        return "Completed", 100
    return "Replicating", progress(now)


def replication_status(doc: dict, now: float) -> dict:
    # Each region's display name, as its target region entry spells it.
    names = {regions.key(t["name"]): t["name"] for t in doc["properties"]["publishingProfile"]["targetRegions"]}
    summary = []
    for region, record in doc["_regions"].items():
        state, progress = region_status(record, now)
        display = names.get(region, region)
        details = f"Replication failed in region '{display}' due to '{record['error']}'" if state == "Failed" else ""
        summary.append({"region": display, "state": state, "details": details, "progress": progress})
    states = {s["state"] for s in summary}
    aggregated = "Failed" if "Failed" in states else "InProgress" if "Replicating" in states else "Completed"
    return {"aggregatedState": aggregated, "summary": summary}


def _replication_error(records: dict[str, dict]) -> dict | None:
    failed = [f"{{region:{region}, detail:{r['error']}}}" for region, r in records.items() if r["failAt"] is not None]
    if not failed:
        return None
    return {
        "code": "InternalOperationError",
        "message": f"Gallery replication jobs failed in one or more regions. The failing regions' details are as "
        f"follows: '{', '.join(failed)}'. If retry does not work, then please do an update by removing "
        "the failed regions and update again by adding them back.",
    }


# --- operations -------------------------------------------------------------------------------------------


def put_version(
    backend, version_id: str, location: str, tags: dict, props: dict
) -> tuple[dict, bool, float, dict | None]:
    """Create a version, or update it when it exists with the same source.

    Returns (document, created, emulated duration, error the LRO ends with).
    """
    definition_id, name = version_id.rsplit("/", 2)[0], version_id.rsplit("/", 1)[-1]
    definition = backend.view(DEFINITIONS, definition_id)
    if definition is None:
        parent = "/".join(definition_id.split("/")[-3::2])
        raise AzureError(
            "ParentResourceNotFound",
            f"Can not perform requested operation on nested resource. Parent resource '{parent}' not found.",
        )
    _check_name(name)
    profile = props.get("publishingProfile") or {}
    storage = props.get("storageProfile") or {}
    existing = backend.settled(VERSIONS, version_id)
    if existing:
        check_same_location(existing, location)
        _check_same_origin(existing, storage, partial=False)
        whole = dict(profile, targetRegions=profile.get("targetRegions") or [{"name": location}])
        duration, error = _update(backend, existing, whole, tags, props.get("safetyProfile"))
        return backend.save(VERSIONS, version_id, existing), False, duration, error
    now = backend.now()
    replica_count = _replicas(profile.get("replicaCount", 1), f"{PROFILE}.replicaCount")
    storage_type = _storage_type(profile.get("storageAccountType") or "Standard_LRS", f"{PROFILE}.storageAccountType")
    targets = _targets(
        backend, profile.get("targetRegions") or [{"name": location}], replica_count, storage_type, location
    )
    published = {
        "targetRegions": [_target_document(t) for t in targets],
        "replicaCount": replica_count,
        "excludeFromLatest": bool(profile.get("excludeFromLatest", False)),
        "publishedDate": iso(now),
        "storageAccountType": storage_type,
        "replicationMode": "Full",
    }
    if profile.get("endOfLifeDate"):
        published["endOfLifeDate"] = _end_of_life(profile["endOfLifeDate"], now)
    storage_profile, source_security = _source(backend, definition, storage, location)
    prepared = now + backend.durations["version_prepare"]
    failure = _security_mismatch(definition, source_security) or injected_failure(backend, "galleryImageVersions", name)
    records = {}
    for target in targets:
        if failure:
            records[target["region"]] = {
                "replicas": target["replicas"],
                "storage": target["storage"],
                "exclude": target["exclude"],
                "ready": 0,
                "start": prepared,
                "end": prepared,
                "failAt": prepared,
                "error": failure["message"],
            }
        else:
            records[target["region"]] = _attempt(
                backend, target, prepared, _full_span(backend, target["replicas"]), 0, name
            )
    error = failure or _replication_error(records)
    doc = tracked(
        version_id,
        "Microsoft.Compute/galleries/images/versions",
        location,
        tags,
        {
            "publishingProfile": published,
            "storageProfile": storage_profile,
            "safetyProfile": _safety({}, props.get("safetyProfile")),
            "provisioningState": "Creating",
        },
    )
    doc["_regions"] = records
    doc["_origin"] = _origin(storage)
    end = max(_terminal_at(r) for r in records.values())
    timeline.schedule(doc, end, {"properties.provisioningState": "Failed" if error else "Succeeded"})
    return backend.save(VERSIONS, version_id, doc), True, end - now, error


def update_version(backend, version_id: str, tags: dict | None, props: dict) -> tuple[dict, float, dict | None] | None:
    """PATCH: change target regions, replica counts, latest/end-of-life settings; None if there is no version."""
    doc = backend.settled(VERSIONS, version_id)
    if doc is None:
        return None
    _check_same_origin(doc, props.get("storageProfile") or {}, partial=True)
    duration, error = _update(backend, doc, props.get("publishingProfile") or {}, tags, props.get("safetyProfile"))
    return backend.save(VERSIONS, version_id, doc), duration, error


def _next_record(backend, old: dict | None, target: dict, now: float, version: str) -> dict:
    """A target region's record after an update at ``now``."""
    if old is None:
        return _attempt(backend, target, now, _full_span(backend, target["replicas"]), 0, version)
    state, _ = region_status(old, now)
    if state == "Failed" or target["replicas"] == old["replicas"]:
        return dict(old, exclude=target["exclude"])
    if target["replicas"] > old["replicas"]:
        extra = (target["replicas"] - old["replicas"]) * backend.durations["replication_per_extra_replica"]
        return _attempt(backend, target, now, extra, old["replicas"], version)
    # Fewer replicas copy nothing: the region is usable throughout with the replicas it keeps.
    return dict(
        old,
        replicas=target["replicas"],
        exclude=target["exclude"],
        ready=target["replicas"],
        start=now,
        end=now + backend.durations["version_update"],
    )


def _safety(current: dict, asked: dict | None) -> dict:
    """The version's safetyProfile: the caller's settings over the current ones; never reported for a violation."""
    found = {"allowDeletionOfReplicatedLocations": False, "reportedForPolicyViolation": False}
    found.update({"blockDeletionBeforeEndOfLife": False, **current})
    found.update({k: v for k, v in (asked or {}).items() if k in SAFETY_SETTINGS and v is not None})
    return found


def _update(
    backend, doc: dict, profile: dict, tags: dict | None, safety: dict | None = None
) -> tuple[float, dict | None]:
    """Apply an update to a settled document; everything is checked before anything changes."""
    props = doc["properties"]
    current = props["publishingProfile"]
    if props["provisioningState"] in BUSY:
        raise AzureError(
            "OperationNotAllowed",
            f"The gallery image version '{doc['name']}' is "
            f"'{props['provisioningState']}': it can be updated once the running operation has finished.",
        )
    if profile.get("storageAccountType") not in (None, current["storageAccountType"]):
        raise property_change_not_allowed(f"{PROFILE}.storageAccountType")
    now = backend.now()
    replica_count = _replicas(profile.get("replicaCount", current["replicaCount"]), f"{PROFILE}.replicaCount")
    end_of_life = profile.get("endOfLifeDate")
    if end_of_life:
        _end_of_life(end_of_life, now)
    if profile.get("targetRegions") is not None:
        targets = _targets(
            backend, profile["targetRegions"], replica_count, current["storageAccountType"], doc["location"]
        )
        for target in targets:
            old = doc["_regions"].get(target["region"])
            if old and old["storage"] != target["storage"]:
                display = target["display"]
                raise AzureError(
                    "InvalidParameter",
                    f"Global storage account type does not match the storage account "
                    f"type in the existing TargetRegion: '{display}'. Please specify '{old['storage']}' "
                    "as the storage account type for this region."
                    if not target["explicit_storage"]
                    else f"The storage account type of the existing target region '{display}' cannot change "
                    f"from '{old['storage']}' to '{target['storage']}'.",
                    target=f"{PROFILE}.targetRegions.storageAccountType",
                )
        doc["_regions"] = {
            t["region"]: _next_record(backend, doc["_regions"].get(t["region"]), t, now, doc["name"]) for t in targets
        }
        current["targetRegions"] = [_target_document(t) for t in targets]
    current["replicaCount"] = replica_count
    if end_of_life:
        current["endOfLifeDate"] = end_of_life
    if profile.get("excludeFromLatest") is not None:
        current["excludeFromLatest"] = bool(profile["excludeFromLatest"])
    if tags is not None:
        doc["tags"] = tags
    props["safetyProfile"] = _safety(props.get("safetyProfile") or {}, safety)
    error = _replication_error(doc["_regions"])
    end = max([now + backend.durations["version_update"], *(_terminal_at(r) for r in doc["_regions"].values())])
    props["provisioningState"] = "Updating"
    timeline.schedule(doc, end, {"properties.provisioningState": "Failed" if error else "Succeeded"})
    return end - now, error


def get_version(backend, version_id: str, expand_replication: bool = False) -> dict | None:
    doc = backend.view(VERSIONS, version_id)
    if doc is not None and expand_replication:
        return dict(doc, properties=dict(doc["properties"], replicationStatus=replication_status(doc, backend.now())))
    return doc


def list_versions(backend, definition_id: str) -> list[dict]:
    return backend.views(VERSIONS, definition_id + "/versions/")


def delete_version(backend, version_id: str) -> float | None:
    """Schedule the deletion (a running replication is abandoned); None if there is no such version."""
    doc = backend.settled(VERSIONS, version_id)
    if doc is None:
        return None
    duration = backend.durations["version_delete"]
    timeline.cancel(doc, "properties.provisioningState")
    doc["properties"]["provisioningState"] = "Deleting"
    timeline.schedule(doc, backend.now() + duration, {timeline.DELETED: True})
    backend.save(VERSIONS, version_id, doc)
    return duration


# --- what the Batch emulator asks -------------------------------------------------------------------------


def _excluded(version: dict, region: str) -> bool:
    record = version["_regions"].get(region)
    return bool(version["properties"]["publishingProfile"].get("excludeFromLatest") or (record and record["exclude"]))


def pool_image_info(backend, image_id: str, region: str) -> dict | None:
    """What a Batch pool in ``region`` (normalized) gets from its ``virtualMachineImageId``.

    ``image_id`` is a version id, or an image definition id meaning its latest version not excluded
    from latest. None when there is no such version. ``replica_count`` is how many replicas serve the
    region now: 0 outside the target regions and until the region's first replication completes; while
    a raised count replicates (or after it failed) the replicas that existed before keep serving, as on
    Azure. ``replicated`` is whether the image can be used in the region: its replication there has
    completed (at least once).
    """
    reference = IMAGE_REFERENCE.match(image_id or "")
    if reference is None:
        return None
    definition = backend.view(DEFINITIONS, reference["definition"])
    if definition is None:
        return None
    if reference["version"]:
        version = backend.view(VERSIONS, f"{reference['definition']}/versions/{reference['version']}")
    else:
        candidates = [v for v in list_versions(backend, reference["definition"]) if not _excluded(v, region)]
        version = max(candidates, key=lambda v: tuple(int(p) for p in v["name"].split(".")), default=None)
    if version is None:
        return None
    record = version["_regions"].get(region)
    serving = 0
    if record is not None:
        serving = record["replicas"] if region_status(record, backend.now())[0] == "Completed" else record["ready"]
    return {
        "version_id": version["id"],
        "os_type": definition["properties"]["osType"],
        "hyper_v_generation": definition["properties"]["hyperVGeneration"],
        "security_type": security_type(definition["properties"]),
        "replicated": serving > 0,
        "replica_count": serving,
    }
