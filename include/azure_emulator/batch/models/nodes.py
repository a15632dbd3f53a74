"""Compute nodes: small records inside their pool's document, their state computed at read time.

A record holds the instants of the node's life, fixed when the node is planned (emulated seconds):
``allocated`` (the VM exists: ``creating``), ``starting`` (booted, the node agent starts),
``ready`` (the agent is up: the start task begins, or the node is ``unusable``), ``idle`` (the start
task ended), and, once the node is being removed, ``leaving`` and ``gone``. Its ``fate`` says how
it ends up (``ok``, ``unusable``, ``starttaskfailed``), ``startTaskWait`` / ``startTaskExit`` describe
its start task (None: the pool had none) and ``tasks``, once a task is booked, holds the task runs.
Nothing is written as time passes, so reading a pool of 5,000 nodes costs one pass over the records
(a view shares them with the stored pool, see :mod:`azure_emulator.timeline`). Records are small and
flat on purpose: every change to a pool writes its whole document.
"""

from __future__ import annotations

import hashlib

from azure_emulator.batch.models.common import POOLS, node_not_found, pool_key, pool_not_found
from azure_emulator.clock import iso

NODE_AGENT_VERSION = "1.12.22"

# Node state (as ``BatchNode.state`` spells it) -> the counter in ``BatchNodeCounts``.
COUNTERS = {
    "creating": "creating",
    "idle": "idle",
    "offline": "offline",
    "preempted": "preempted",
    "rebooting": "rebooting",
    "reimaging": "reimaging",
    "running": "running",
    "starting": "starting",
    "starttaskfailed": "startTaskFailed",
    "leavingpool": "leavingPool",
    "unknown": "unknown",
    "unusable": "unusable",
    "waitingforstarttask": "waitingForStartTask",
    "deallocated": "deallocated",
    "deallocating": "deallocating",
    "upgradingos": "upgradingOS",
}

UNUSABLE_ERROR = {
    "code": "UnusableNode",
    "message": "The node agent did not start on the node, so Batch cannot "
    "use it. Nodes booted from an incorrectly prepared custom image do not recover.",
    "errorDetails": [{"name": "Reason", "value": "The node agent did not report ready."}],
}
START_TASK_FAILURE = {
    "category": "usererror",
    "code": "FailureExitCode",
    "message": "The task exited with an exit code representing a failure",
}


def new(
    account: str,
    pool_id: str,
    serial: int,
    *,
    dedicated: bool,
    allocated: float,
    phases: dict,
    fate: str,
    start_task_wait: bool | None,
    start_task_exit: int,
) -> dict:
    """A node planned to be allocated at ``allocated``; ``phases`` holds boot, agent and start task seconds."""
    digest = hashlib.sha256(f"{account}/{pool_id}/{serial}".lower().encode()).hexdigest()
    starting = allocated + phases["boot"]
    ready = starting + phases["agent"]
    return {
        "id": f"tvmps_{digest}_{'d' if dedicated else 'p'}",
        "dedicated": dedicated,
        "ip": f"10.{(serial >> 16) & 255}.{(serial >> 8) & 255}.{serial & 255}",
        "allocated": allocated,
        "starting": starting,
        "ready": ready,
        "idle": ready + (phases["startTask"] if start_task_wait is not None and fate != "unusable" else 0),
        "fate": fate,
        "startTaskWait": start_task_wait,
        "startTaskExit": start_task_exit,
        "leaving": None,
        "gone": None,
    }


def runs(node: dict) -> list[dict]:
    """The task runs booked on the node."""
    return node.get("tasks", [])


def present(node: dict, now: float) -> bool:
    return node["allocated"] <= now and (node["gone"] is None or now < node["gone"])


def committed(node: dict, now: float) -> bool:
    """Allocated or still to be allocated, and not removed: what counts against core quotas."""
    return node["gone"] is None or now < node["gone"]


def _waits_for_start_task(node: dict) -> bool:
    return bool(node["startTaskWait"])


def available_from(node: dict) -> float | None:
    """When the node can first run tasks, or None if it never will."""
    if node["leaving"] is not None or node["fate"] == "unusable":
        return None
    if _waits_for_start_task(node):
        return None if node["fate"] == "starttaskfailed" else node["idle"]
    return node["ready"]


def state(node: dict, now: float) -> tuple[str, float]:
    """The node's state at ``now`` and when it entered it."""
    if node["leaving"] is not None and now >= node["leaving"]:
        return "leavingpool", node["leaving"]
    if now < node["starting"]:
        return "creating", node["allocated"]
    if now < node["ready"]:
        return "starting", node["starting"]
    if node["fate"] == "unusable":
        return "unusable", node["ready"]
    if _waits_for_start_task(node):
        if now < node["idle"]:
            return "waitingforstarttask", node["ready"]
        if node["fate"] == "starttaskfailed":
            return "starttaskfailed", node["idle"]
    running = [run["start"] for run in runs(node) if run["start"] <= now < run["end"]]
    if running:
        return "running", min(running)
    ended = [run["end"] for run in runs(node) if run["end"] <= now]
    return "idle", max([available_from(node) or node["ready"], *ended])


def listed(pool: dict, now: float) -> list[dict]:
    return [node for node in pool.get("_nodes", []) if present(node, now)]


def current_counts(pool: dict, now: float) -> tuple[int, int]:
    """(dedicated, low-priority) nodes in the pool now."""
    found = listed(pool, now)
    dedicated = sum(1 for node in found if node["dedicated"])
    return dedicated, len(found) - dedicated


def counts(pool: dict, now: float) -> dict:
    """``BatchPoolNodeCounts``: every state counter and the total, for dedicated and low-priority nodes."""
    result = {kind: dict.fromkeys([*COUNTERS.values(), "total"], 0) for kind in ("dedicated", "lowPriority")}
    for node in listed(pool, now):
        bucket = result["dedicated" if node["dedicated"] else "lowPriority"]
        bucket[COUNTERS[state(node, now)[0]]] += 1
        bucket["total"] += 1
    return {"poolId": pool["id"], **result}


def view(pool: dict, node: dict, now: float) -> dict:
    """The node as ``GET /pools/{pool}/nodes/{node}`` shows it (without its URL)."""
    current, since = state(node, now)
    started = [run for run in runs(node) if run["start"] <= now]
    running = [run for run in started if now < run["end"]]
    found = {
        "id": node["id"],
        "state": current,
        "schedulingState": "enabled",
        "stateTransitionTime": iso(since),
        "allocationTime": iso(node["allocated"]),
        "ipAddress": node["ip"],
        "affinityId": f"TVM:{node['id']}",
        "vmSize": pool["vmSize"],
        "totalTasksRun": len(started),
        "runningTasksCount": len(running),
        "runningTaskSlotsCount": sum(run["slots"] for run in running),
        "totalTasksSucceeded": sum(1 for run in started if run["end"] <= now and run["exitCode"] == 0),
        "isDedicated": node["dedicated"],
        "virtualMachineInfo": {
            "imageReference": dict(
                pool["virtualMachineConfiguration"]["imageReference"], exactVersion=pool["_image"]["exactVersion"]
            )
        },
    }
    if now >= node["starting"]:
        found["lastBootTime"] = iso(node["starting"])
    if now >= node["ready"] and node["fate"] != "unusable":
        found["nodeAgentInfo"] = {"version": NODE_AGENT_VERSION, "lastUpdateTime": iso(node["ready"])}
    if current == "unusable":
        found["errors"] = [UNUSABLE_ERROR]
    if pool.get("startTask"):
        found["startTask"] = pool["startTask"]
    info = _start_task_info(node, now)
    if info:
        found["startTaskInfo"] = info
    return found


def _start_task_info(node: dict, now: float) -> dict | None:
    if node["startTaskWait"] is None or node["fate"] == "unusable" or now < node["ready"]:
        return None
    info = {"state": "running", "startTime": iso(node["ready"]), "retryCount": 0}
    if now >= node["idle"]:
        code = node["startTaskExit"]
        info.update(
            state="completed", endTime=iso(node["idle"]), exitCode=code, result="success" if code == 0 else "failure"
        )
        if code != 0:
            info["failureInfo"] = START_TASK_FAILURE
    return info


# --- reads through the backend ------------------------------------------------------------------------


def _pool(backend, account: str, pool_id: str) -> dict:
    found = backend.view(POOLS, pool_key(account, pool_id))
    if found is None:
        raise pool_not_found()
    return found


def pool_nodes(backend, account: str, pool_id: str) -> tuple[dict, list[dict]]:
    """The pool and the views of its nodes, oldest first."""
    pool, now = _pool(backend, account, pool_id), backend.now()
    return pool, [view(pool, node, now) for node in listed(pool, now)]


def pool_node(backend, account: str, pool_id: str, node_id: str) -> tuple[dict, dict]:
    pool, now = _pool(backend, account, pool_id), backend.now()
    node = next((n for n in listed(pool, now) if n["id"].lower() == node_id.lower()), None)
    if node is None:
        raise node_not_found()
    return pool, view(pool, node, now)


def account_counts(backend, account: str) -> list[dict]:
    now = backend.now()
    return [counts(pool, now) for pool in sorted(backend.views(POOLS, f"{account}/"), key=lambda p: p["id"].lower())]
