"""How a resize plays out: which nodes arrive when, which leave, and why a pool falls short.

Growing (pool creation is a resize from zero):
  * Nothing happens for ``pool_allocation_start`` (users see 3-8 minutes before nodes appear).
  * The new nodes are then allocated one after another, evenly over a window that grows with the
    node count and shrinks with the image's replicas in the account's region:
    ``window = pool_allocation_per_replica_batch * ceil(nodes / (replicas * vms_per_replica))``.
    Marketplace images count as plenty of replicas (one batch). Node ``i`` of ``n`` is allocated at
    ``start + window * (i + 1) / n``; the pool turns ``steady`` when the last one is allocated.
  * ``resizeTimeout`` is measured from the resize request. An allocation that would end later
    stops at the timeout with the nodes allocated by then and an ``AllocationTimedout`` resize
    error. The ``allocation_timeout`` fault forces this: half the nodes (rounded down) arrive
    before the timeout, the rest never do.
  * Core quotas (the account's, or the ``core_quota`` fault's ``dedicated_cores`` /
    ``low_priority_cores``) count every node of the account's pools that is allocated or still to
    be; only the nodes that fit are allocated, with ``AccountCoreQuotaReached`` /
    ``AccountLowPriorityCoreQuotaReached``. Where the account enforces per VM family quotas
    (``dedicatedCoreQuotaPerVMFamilyEnforced``), dedicated nodes also count against their size's
    family: ``AccountVMSeriesCoreQuotaReached``.
  * A gallery image that no longer exists or is no longer replicated to the region allocates
    nothing: ``AllocationFailed`` once the start delay has passed.
  * Each node then boots (``node_boot``), starts its agent (``node_agent_start``) and runs the start
    task (``start_task``). The ``unusable_nodes`` and ``start_task_failed`` faults pick an evenly
    spread ``fraction`` of the new nodes (deterministically) to end ``unusable`` or
    ``starttaskfailed`` (with the fault's ``exit_code``, default 1).
Shrinking removes the least useful nodes first (unusable, failed, still booting, idle, then busy).
They are ``leavingpool`` for ``node_remove``; with ``taskcompletion`` or ``retaineddata`` a busy
node leaves only when its booked tasks end. Resize errors are published when the pool turns steady.
"""

from __future__ import annotations

import math
from typing import Any

from azure_emulator import batchaccounts, catalogue
from azure_emulator.batch.models import nodes
from azure_emulator.batch.models.common import POOLS
from azure_emulator.clock import iso

SHORT = {True: "dedicated", False: "low priority"}
QUOTA_ERRORS = {
    True: ("AccountCoreQuotaReached", "The specified account has reached core quota"),
    False: ("AccountLowPriorityCoreQuotaReached", "The specified account has reached low priority core quota"),
}
FAMILY_QUOTA_ERROR = ("AccountVMSeriesCoreQuotaReached", "The specified account has reached VM series core quota")


def resize_error(code: str, message: str, reason: str | None = None) -> dict:
    error: dict[str, Any] = {"code": code, "message": message}
    if reason:
        error["values"] = [{"name": "Reason", "value": reason}]
    return error


def grow(
    backend,
    *,
    account: str,
    pool: dict,
    now: float,
    add: dict[bool, int],
    timeout: float,
    replicas: int | None,
    failure: str | None,
) -> tuple[list[dict], float, list[dict]]:
    """Plan ``add`` (dedicated -> count) new nodes: (node records, when allocation ends, resize errors)."""
    durations = backend.durations
    if not any(add.values()):
        return [], now, []
    start = now + durations["pool_allocation_start"]
    if failure:
        wanted = SHORT[bool(add[True])]
        return (
            [],
            start,
            [resize_error("AllocationFailed", f"Desired number of {wanted} nodes could not be allocated", failure)],
        )
    add, errors = _within_quota(backend, account, pool, now, add)
    kinds = [True] * add[True] + [False] * add[False]
    if not kinds:
        return [], start, errors
    batches = 1 if replicas is None else math.ceil(len(kinds) / (replicas * durations["vms_per_replica"]))
    window = durations["pool_allocation_per_replica_batch"] * batches
    times = [start + window * (i + 1) / len(kinds) for i in range(len(kinds))]
    end = start + window
    deadline = now + timeout
    timed_out = end > deadline
    if backend.faults.take("allocation_timeout", account=account, pool=pool["id"]):
        kept = len(kinds) // 2 if start < deadline else 0
        times = [start + (deadline - start) * (i + 1) / kept for i in range(kept)]
        timed_out = True
    if timed_out:
        times = [t for t in times if t <= deadline]
        wanted = SHORT[len(times) < add[True]]
        errors.append(
            resize_error(
                "AllocationTimedout",
                f"Desired number of {wanted} nodes could not be allocated as the resize timeout was reached",
            )
        )
        end = deadline
    kinds = kinds[: len(times)]
    return _nodes(backend, account, pool, kinds, times), end, errors


def _family(pool: dict) -> str | None:
    return pool.get("_family") or (catalogue.vm_size(pool["vmSize"]) or {}).get("family")


def _within_quota(backend, account: str, pool: dict, now: float, add: dict[bool, int]) -> tuple[dict, list[dict]]:
    settings = batchaccounts.get(backend, account)
    quota = {True: settings.dedicated_core_quota, False: settings.low_priority_core_quota}
    rule = backend.faults.take("core_quota", account=account)
    if rule:
        quota = {True: rule.get("dedicated_cores", quota[True]), False: rule.get("low_priority_cores", quota[False])}
    family = _family(pool)
    family_quota = (
        batchaccounts.family_quota(settings, family)
        if family and settings.dedicated_core_quota_per_vm_family_enforced
        else None
    )
    used = {True: 0, False: 0}
    family_used = 0
    for other in [p for p in backend.views(POOLS, f"{account}/") if p["id"].lower() != pool["id"].lower()] + [pool]:
        for node in other.get("_nodes", []):
            if nodes.committed(node, now):
                used[node["dedicated"]] += other["_cores"]
                if node["dedicated"] and _family(other) == family:
                    family_used += other["_cores"]
    errors = []
    fitted = {}
    for dedicated, count in add.items():
        fits = max(0, int(quota[dedicated] - used[dedicated]) // pool["_cores"])
        family_fits = (
            max(0, int(family_quota - family_used) // pool["_cores"])
            if dedicated and family_quota is not None
            else fits
        )
        fitted[dedicated] = min(count, fits, family_fits)
        if count > fits:
            errors.append(resize_error(*QUOTA_ERRORS[dedicated]))
        elif count > family_fits:
            errors.append(resize_error(*FAMILY_QUOTA_ERROR))
    return fitted, errors


def _spread(candidates: list[int], count: int) -> set[int]:
    """``count`` of ``candidates`` picked evenly, the same ones every time."""
    count = min(count, len(candidates))
    return {candidates[int((k + 0.5) * len(candidates) / count)] for k in range(count)} if count else set()


def _nodes(backend, account: str, pool: dict, kinds: list[bool], times: list[float]) -> list[dict]:
    durations = backend.durations
    phases = {
        "boot": durations["node_boot"],
        "agent": durations["node_agent_start"],
        "startTask": durations["start_task"],
    }
    everyone = list(range(len(kinds)))
    unusable_rule = backend.faults.take("unusable_nodes", account=account, pool=pool["id"])
    unusable = (
        _spread(everyone, math.floor(len(kinds) * float(unusable_rule.get("fraction", 1)))) if unusable_rule else set()
    )
    start_task = pool.get("startTask")
    failing, exit_code = set(), 0
    failed_rule = backend.faults.take("start_task_failed", account=account, pool=pool["id"]) if start_task else None
    if failed_rule:
        exit_code = int(failed_rule.get("exit_code", 1)) or 1
        failing = _spread(
            [i for i in everyone if i not in unusable], math.floor(len(kinds) * float(failed_rule.get("fraction", 1)))
        )
    wait = start_task.get("waitForSuccess", True) is not False if start_task else None
    created = []
    for i, (dedicated, at) in enumerate(zip(kinds, times)):
        pool["_serial"] = pool.get("_serial", 0) + 1
        fate = "unusable" if i in unusable else "starttaskfailed" if i in failing else "ok"
        created.append(
            nodes.new(
                account,
                pool["id"],
                pool["_serial"],
                dedicated=dedicated,
                allocated=at,
                phases=phases,
                fate=fate,
                start_task_wait=wait,
                start_task_exit=exit_code if fate == "starttaskfailed" else 0,
            )
        )
    return created


WAIT_FOR_TASKS = ("taskcompletion", "retaineddata")
# Which nodes go first when a pool shrinks: the ones that are least useful now.
_REMOVAL_ORDER = {
    "unusable": 0,
    "starttaskfailed": 1,
    "creating": 2,
    "starting": 3,
    "waitingforstarttask": 4,
    "idle": 5,
    "running": 6,
}


def shrink(backend, *, pool: dict, now: float, remove: dict[bool, int], option: str) -> tuple[list[dict], float]:
    """Mark ``remove`` (dedicated -> count) nodes as leaving: (the nodes, when the last one is gone)."""
    leaving_for = backend.durations["node_remove"]
    chosen: list[dict] = []
    for dedicated, count in remove.items():
        if count <= 0:
            continue
        candidates = [n for n in nodes.listed(pool, now) if n["dedicated"] == dedicated and n["leaving"] is None]
        candidates.sort(
            key=lambda n: (_REMOVAL_ORDER.get(nodes.state(n, now)[0], 7), max([r["end"] for r in nodes.runs(n)] or [0]))
        )
        chosen.extend(candidates[:count])
    end = now
    for node in chosen:
        running = [run["end"] for run in nodes.runs(node) if run["start"] <= now < run["end"]]
        waits = option in WAIT_FOR_TASKS and running
        node["leaving"] = max(running) if waits else now
        node["gone"] = node["leaving"] + leaving_for
        end = max(end, node["gone"])
    return chosen, end


def steady_changes(at: float, errors: list[dict]) -> dict:
    """The pool fields that change when an allocation ends."""
    changes: dict[str, Any] = {"allocationState": "steady", "allocationStateTransitionTime": iso(at)}
    if errors:
        changes["resizeErrors"] = errors
    return changes
