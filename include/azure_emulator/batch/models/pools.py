"""Batch pools: Batch's rules on add and update, resizes through the allocation model, deletion.

A pool is one document (kind ``batch/pools``, key ``account/pool``) holding its node records
(see :mod:`.nodes`). Operations that the SDK's pollers watch flip their state before answering:
``allocationState`` turns ``resizing`` / ``stopping`` and ``state`` turns ``deleting`` at once, and
the end of each is scheduled on the pool's timeline (see :mod:`.allocation` for how long).
"""

from __future__ import annotations

import re

from azure_emulator import batchaccounts, catalogue, timeline
from azure_emulator.batch.models import allocation, images, nodes, tasks
from azure_emulator.batch.models.common import (
    COMMAND,
    NAME_VALUES,
    PACKAGES,
    POOLS,
    check_id,
    invalid_state,
    pool_being_deleted,
    pool_key,
    pool_not_found,
    touch,
)
from azure_emulator.clock import iso
from azure_emulator.errors import AzureError, batch_invalid_property, batch_missing_property

DEFAULT_RESIZE_TIMEOUT = 900.0
MIN_RESIZE_TIMEOUT = 300.0
DEFAULT_AUTOSCALE_INTERVAL = 900.0
FILL_TYPES = ("spread", "pack")
DEALLOCATION_OPTIONS = ("requeue", "terminate", "taskcompletion", "retaineddata")
# Optional pool properties stored as given.
KEPT = (
    "displayName",
    "networkConfiguration",
    "startTask",
    "applicationPackageReferences",
    "userAccounts",
    "metadata",
    "mountConfiguration",
    "upgradePolicy",
)
UPDATABLE = ("startTask", "applicationPackageReferences", "metadata")
UPDATABLE_WHEN_EMPTY = (
    "displayName",
    "vmSize",
    "enableInterNodeCommunication",
    "virtualMachineConfiguration",
    "taskSlotsPerNode",
    "taskSchedulingPolicy",
    "networkConfiguration",
    "userAccounts",
    "mountConfiguration",
    "upgradePolicy",
)
_START_TASK = {**COMMAND, "waitForSuccess": bool, "maxTaskRetryCount": int}
# The JSON types of what pool add, update (PATCH) and updateproperties are read for, and of a resize
# (see azure_emulator.shapes); ``resizeTimeout`` and ``autoScaleEvaluationInterval`` are durations.
BODY = {
    "id": str,
    "displayName": str,
    "vmSize": str,
    "virtualMachineConfiguration": {
        "imageReference": {"publisher": str, "offer": str, "sku": str, "version": str, "virtualMachineImageId": str},
        "nodeAgentSKUId": str,
        "securityProfile": {
            "securityType": str,
            "encryptionAtHost": bool,
            "uefiSettings": {"secureBootEnabled": bool, "vTpmEnabled": bool},
        },
    },
    "resizeTimeout": str,
    "targetDedicatedNodes": int,
    "targetLowPriorityNodes": int,
    "enableAutoScale": bool,
    "autoScaleFormula": str,
    "autoScaleEvaluationInterval": str,
    "enableInterNodeCommunication": bool,
    "taskSlotsPerNode": int,
    "taskSchedulingPolicy": {"nodeFillType": str},
    "startTask": _START_TASK,
    "networkConfiguration": dict,
    "userAccounts": [dict],
    "metadata": NAME_VALUES,
    "applicationPackageReferences": PACKAGES,
    "mountConfiguration": [dict],
    "upgradePolicy": {"mode": str},
}
RESIZE = {
    "targetDedicatedNodes": int,
    "targetLowPriorityNodes": int,
    "resizeTimeout": str,
    "nodeDeallocationOption": str,
}
AUTOSCALE_TARGET = {
    True: re.compile(r"\$TargetDedicated(?:Nodes)?\s*=\s*(\d+)\s*(?:;|$)"),
    False: re.compile(r"\$TargetLowPriorityNodes\s*=\s*(\d+)\s*(?:;|$)"),
}


def region_of(backend, account: str) -> str:
    return batchaccounts.get(backend, account).location


# --- validation -------------------------------------------------------------------------------------


def _count(value, prop: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise batch_invalid_property(prop, "The value must be a non-negative integer.")
    return value


def _start_task(value) -> dict | None:
    if value is None:
        return None
    if not value.get("commandLine"):
        raise batch_missing_property("startTask.commandLine")
    return value


def _scaling(spec: dict) -> dict:
    """Fixed targets, or an autoscale formula whose constant assignments set the targets."""
    autoscale = bool(spec.get("enableAutoScale"))
    if not autoscale:
        if spec.get("targetDedicatedNodes") is None and spec.get("targetLowPriorityNodes") is None:
            raise batch_missing_property("targetDedicatedNodes")
        return {
            "enableAutoScale": False,
            "targetDedicatedNodes": _count(spec.get("targetDedicatedNodes") or 0, "targetDedicatedNodes"),
            "targetLowPriorityNodes": _count(spec.get("targetLowPriorityNodes") or 0, "targetLowPriorityNodes"),
        }
    for prop in ("targetDedicatedNodes", "targetLowPriorityNodes"):
        if spec.get(prop) is not None:
            raise batch_invalid_property(prop, "The target node counts must not be set when enableAutoScale is true.")
    formula = spec.get("autoScaleFormula")
    if not formula:
        raise batch_missing_property("autoScaleFormula")
    interval = spec.get("autoScaleEvaluationInterval") or DEFAULT_AUTOSCALE_INTERVAL
    if interval < MIN_RESIZE_TIMEOUT:
        raise batch_invalid_property("autoScaleEvaluationInterval", "The minimum value is 5 minutes.")
    targets = {
        kind: int(m.group(1)) if (m := pattern.search(formula)) else 0 for kind, pattern in AUTOSCALE_TARGET.items()
    }
    return {
        "enableAutoScale": True,
        "autoScaleFormula": formula,
        "autoScaleEvaluationInterval": interval,
        "targetDedicatedNodes": targets[True],
        "targetLowPriorityNodes": targets[False],
    }


def _settings(backend, account: str, spec: dict) -> dict:
    """Every property of a pool that Batch validates on add, normalised; plus what allocation needs."""
    if not spec.get("vmSize"):
        raise batch_missing_property("vmSize")
    size = catalogue.vm_size(spec["vmSize"])
    if size is None or not catalogue.usable(backend, region_of(backend, account), spec["vmSize"]):
        raise batch_invalid_property(
            "vmSize", f"The VM size '{spec['vmSize']}' is not supported by Azure Batch in this region."
        )
    image = images.resolve(
        backend, region=region_of(backend, account), vm_size=size, config=spec.get("virtualMachineConfiguration")
    )
    timeout = spec.get("resizeTimeout") or DEFAULT_RESIZE_TIMEOUT
    if timeout < MIN_RESIZE_TIMEOUT:
        raise batch_invalid_property(
            "resizeTimeout", "The specified resize timeout is less than the minimum of 5 minutes."
        )
    slots = spec.get("taskSlotsPerNode") or 1
    most = min(4 * size["cores"], 256)
    if isinstance(slots, bool) or not isinstance(slots, int) or not 1 <= slots <= most:
        raise batch_invalid_property(
            "taskSlotsPerNode",
            f"The value must be between 1 and {most} (the smaller of 4 "
            f"times the {size['cores']} cores of {size['name']}, and 256).",
        )
    fill = (spec.get("taskSchedulingPolicy") or {}).get("nodeFillType") or "spread"
    if fill not in FILL_TYPES:
        raise batch_invalid_property("taskSchedulingPolicy.nodeFillType", "The value must be spread or pack.")
    settings = {
        "vmSize": size["name"].lower(),
        "virtualMachineConfiguration": spec["virtualMachineConfiguration"],
        "resizeTimeout": timeout,
        "enableInterNodeCommunication": bool(spec.get("enableInterNodeCommunication")),
        "taskSlotsPerNode": slots,
        "taskSchedulingPolicy": {"nodeFillType": fill},
        "_image": image,
        "_cores": size["cores"],
        "_family": size["family"],
        **_scaling(spec),
    }
    settings.update({k: spec[k] for k in KEPT if spec.get(k) is not None})
    _start_task(spec.get("startTask"))
    return settings


# --- reads ------------------------------------------------------------------------------------------


def current(doc: dict, now: float) -> dict:
    """A pool view with the counts that depend on its nodes' progress."""
    doc["currentDedicatedNodes"], doc["currentLowPriorityNodes"] = nodes.current_counts(doc, now)
    if doc.get("enableAutoScale"):
        doc["autoScaleRun"] = {
            "timestamp": doc["creationTime"],
            "results": f"$TargetDedicatedNodes="
            f"{doc['targetDedicatedNodes']};$TargetLowPriorityNodes={doc['targetLowPriorityNodes']}",
        }
    return doc


def get(backend, account: str, pool_id: str) -> dict:
    found = backend.view(POOLS, pool_key(account, pool_id))
    if found is None:
        raise pool_not_found()
    return current(found, backend.now())


def listing(backend, account: str) -> list[dict]:
    now = backend.now()
    return sorted((current(p, now) for p in backend.views(POOLS, f"{account}/")), key=lambda p: p["id"].lower())


# --- changes ----------------------------------------------------------------------------------------


def _settled(backend, account: str, pool_id: str) -> dict:
    """The stored pool ready to change: due transitions applied, departed nodes forgotten."""
    doc = backend.settled(POOLS, pool_key(account, pool_id))
    if doc is None:
        raise pool_not_found()
    if doc["state"] == "deleting":
        raise pool_being_deleted()
    now = backend.now()
    doc["_nodes"] = [n for n in doc["_nodes"] if n["gone"] is None or n["gone"] > now]
    return doc


def _save(backend, account: str, doc: dict) -> dict:
    return backend.save(POOLS, pool_key(account, doc["id"]), doc)


def create(backend, account: str, spec: dict, *, shared_key: bool) -> dict:
    if shared_key and images.uses_compute_resource(spec.get("virtualMachineConfiguration")):
        raise images.shared_key_refused()
    pool_id = check_id(spec.get("id"))
    existing = backend.view(POOLS, pool_key(account, pool_id))
    if existing is not None:
        raise (
            pool_being_deleted()
            if existing["state"] == "deleting"
            else AzureError("PoolExists", "The specified pool already exists.")
        )
    quota = batchaccounts.get(backend, account).pool_quota
    if len(backend.views(POOLS, f"{account}/")) >= quota:
        raise AzureError("PoolQuotaReached", f"The specified account has reached its pool quota ({quota} pools).")
    settings = _settings(backend, account, spec)
    now = backend.now()
    doc = {
        "id": pool_id,
        "creationTime": iso(now),
        "state": "active",
        "stateTransitionTime": iso(now),
        **settings,
        "_nodes": [],
        "_serial": 0,
    }
    touch(doc, now)
    _resize(
        backend, account, doc, now, {True: doc["targetDedicatedNodes"], False: doc["targetLowPriorityNodes"]}, "requeue"
    )
    return _save(backend, account, doc)


def _resize(backend, account: str, doc: dict, now: float, targets: dict[bool, int], option: str) -> None:
    """Start moving the pool to ``targets`` (dedicated -> count); steady is scheduled for the end."""
    staying = [n for n in doc["_nodes"] if nodes.committed(n, now) and n["leaving"] is None]
    have = {kind: sum(1 for n in staying if n["dedicated"] == kind) for kind in (True, False)}
    add = {kind: max(0, targets[kind] - have[kind]) for kind in have}
    replicas, failure = (
        images.replicas_in(backend, doc["_image"], region_of(backend, account)) if any(add.values()) else (None, None)
    )
    added, grown_at, errors = allocation.grow(
        backend,
        account=account,
        pool=doc,
        now=now,
        add=add,
        timeout=doc["resizeTimeout"],
        replicas=replicas,
        failure=failure,
    )
    doc["_nodes"].extend(added)
    removed, shrunk_at = allocation.shrink(
        backend, pool=doc, now=now, option=option, remove={kind: have[kind] - targets[kind] for kind in have}
    )
    for node in removed:
        tasks.evict(
            backend,
            account,
            doc,
            node,
            now,
            terminate=option == "terminate",
            keep_running=option in allocation.WAIT_FOR_TASKS,
        )
    end = max(grown_at, shrunk_at)
    doc.pop("resizeErrors", None)
    timeline.cancel(doc, "allocationState", "allocationStateTransitionTime", "resizeErrors")
    doc.update(allocationState="resizing", allocationStateTransitionTime=iso(now))
    timeline.schedule(doc, end, allocation.steady_changes(end, errors))
    tasks.book_waiting(backend, account, doc, now)


def resize(
    backend,
    account: str,
    pool_id: str,
    *,
    dedicated: int | None,
    low_priority: int | None,
    timeout: float | None,
    option: str | None,
) -> None:
    doc = _settled(backend, account, pool_id)
    if doc["enableAutoScale"]:
        raise invalid_state("The pool has automatic scaling enabled; disable it before resizing the pool.")
    if doc["allocationState"] != "steady":
        raise AzureError("PoolBeingResized", "The specified pool is being resized.")
    option = option or "requeue"
    if option not in DEALLOCATION_OPTIONS:
        raise batch_invalid_property(
            "nodeDeallocationOption", f"The value must be one of {', '.join(DEALLOCATION_OPTIONS)}."
        )
    if timeout is not None:
        if timeout < MIN_RESIZE_TIMEOUT:
            raise batch_invalid_property(
                "resizeTimeout", "The specified resize timeout is less than the minimum of 5 minutes."
            )
        doc["resizeTimeout"] = timeout
    # An omitted target keeps its current value.
    if dedicated is not None:
        doc["targetDedicatedNodes"] = _count(dedicated, "targetDedicatedNodes")
    if low_priority is not None:
        doc["targetLowPriorityNodes"] = _count(low_priority, "targetLowPriorityNodes")
    now = backend.now()
    _resize(
        backend, account, doc, now, {True: doc["targetDedicatedNodes"], False: doc["targetLowPriorityNodes"]}, option
    )
    _save(backend, account, doc)


def stop_resize(backend, account: str, pool_id: str) -> None:
    """Keep the nodes allocated so far: stop allocating, cancel removals that have not begun."""
    doc = _settled(backend, account, pool_id)
    if doc["allocationState"] != "resizing":
        return
    now = backend.now()
    for node in [n for n in doc["_nodes"] if n["allocated"] > now]:
        tasks.evict(backend, account, doc, node, now, terminate=False, keep_running=False)
        doc["_nodes"].remove(node)
    for node in doc["_nodes"]:
        if node["leaving"] is not None and node["leaving"] > now:
            node["leaving"] = node["gone"] = None
    timeline.cancel(doc, "allocationState", "allocationStateTransitionTime", "resizeErrors")
    doc.update(allocationState="stopping", allocationStateTransitionTime=iso(now))
    end = now + backend.durations["pool_resize_stop"]
    stopped = allocation.resize_error(
        "ResizeStopped", "Desired number of dedicated nodes could not be allocated as the resize was stopped"
    )
    timeline.schedule(doc, end, allocation.steady_changes(end, [stopped]))
    tasks.book_waiting(backend, account, doc, now)
    _save(backend, account, doc)


def delete(backend, account: str, pool_id: str) -> None:
    """Mark the pool deleting at once; its nodes leave and the pool is gone after ``pool_delete``."""
    doc = _settled(backend, account, pool_id)
    now = backend.now()
    for node in doc["_nodes"]:
        tasks.evict(backend, account, doc, node, now, terminate=False, keep_running=False)
        if node["leaving"] is None:
            node["leaving"], node["gone"] = now, now + backend.durations["node_remove"]
    doc["_nodes"] = [n for n in doc["_nodes"] if n["allocated"] <= now]
    timeline.cancel(doc, "allocationState", "allocationStateTransitionTime", "resizeErrors")
    doc.update(
        state="deleting",
        stateTransitionTime=iso(now),
        allocationState="resizing",
        allocationStateTransitionTime=iso(now),
    )
    timeline.schedule(doc, now + backend.durations["pool_delete"], {timeline.DELETED: True})
    _save(backend, account, doc)


def _is_empty(doc: dict, now: float) -> bool:
    return doc["allocationState"] == "steady" and not any(nodes.committed(n, now) for n in doc["_nodes"])


def update(backend, account: str, pool_id: str, changes: dict, *, shared_key: bool) -> None:
    """PATCH: replace the properties given; most of them only while the pool has no nodes."""
    doc = _settled(backend, account, pool_id)
    now = backend.now()
    # Only the properties a pool update carries are read: others (the targets, resizeTimeout) stay as they are.
    given = {k: v for k, v in changes.items() if v is not None and k in UPDATABLE + UPDATABLE_WHEN_EMPTY}
    when_empty = [k for k in UPDATABLE_WHEN_EMPTY if k in given]
    if when_empty:
        if not _is_empty(doc, now):
            raise invalid_state(f"The properties {', '.join(when_empty)} can be updated only when the pool is empty.")
        if shared_key and images.uses_compute_resource(given.get("virtualMachineConfiguration")):
            raise images.shared_key_refused()
        merged = {**{k: v for k, v in doc.items() if not k.startswith("_")}, **given}
        if merged["enableAutoScale"]:
            merged.pop("targetDedicatedNodes")
            merged.pop("targetLowPriorityNodes")
        doc.update(_settings(backend, account, merged))
    if "startTask" in given:
        doc["startTask"] = _start_task(given["startTask"])
    for prop in ("applicationPackageReferences", "metadata"):
        if prop in given:
            doc[prop] = given[prop]
    touch(doc, now)
    _save(backend, account, doc)


def replace_properties(
    backend, account: str, pool_id: str, *, start_task: dict | None, packages: list, metadata: list
) -> None:
    """updateproperties: the start task, packages and metadata become exactly what is given."""
    doc = _settled(backend, account, pool_id)
    doc.pop("startTask", None)
    if start_task is not None:
        doc["startTask"] = _start_task(start_task)
    doc["applicationPackageReferences"] = packages
    doc["metadata"] = metadata
    touch(doc, backend.now())
    _save(backend, account, doc)
