"""The emulated critical path of a pipeline run: the longest chain of Azure operations through the
DAG's dependencies, each task weighted by the emulated time it waits for Azure.

No orchestrator can finish a run sooner, so ``dag wall time / critical path`` is the pipeline's
overhead. The weights model the emulator's rules (``azure_emulator``'s durations, allocation and
replication) for a first run, the one that builds: nothing to retire or prune, no failure paths.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from graphlib import TopologicalSorter

# Tasks that wait for one Azure operation, by the last part of their task id -> its duration keys.
# Every task not named here or below waits for nothing on a first run: plan and its gates, reading
# the VM's disks, publishing (it only starts the replication the regions' sensors wait for), pool
# creation (Batch answers at once), promotion, and retiring, discarding or pruning (nothing to do).
SINGLE_OPERATIONS = {
    "ensure_gallery": ("gallery_create",),
    "ensure_image_definition": ("gallery_image_create",),
    "create_build_vm": ("vm_create",),
    "generalize": ("vm_deallocate",),
    "snapshot": ("snapshot_create",),
    "managed_image": ("image_create",),
    "smoke": ("task_schedule", "task_run"),
}


def longest_path(upstream: Mapping[str, Iterable[str]], cost: Mapping[str, float]) -> tuple[float, list[str]]:
    """The costliest chain of tasks through a DAG (``upstream``: task -> the tasks it waits for).

    Returns its total cost and its tasks in order; a task missing from ``cost`` costs nothing.
    Among equally costly chains, the one through the alphabetically first tasks is returned (``max``
    keeps the first of equals, and candidates are sorted), so the answer never depends on dict order.
    """
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    for task in TopologicalSorter({t: set(u) for t, u in upstream.items()}).static_order():
        longest = max(sorted(upstream.get(task, ())), key=finish.__getitem__, default=None)
        via[task] = longest
        finish[task] = cost.get(task, 0.0) + (finish[longest] if longest else 0.0)
    if not finish:
        return 0.0, []
    # The path ends at a task nothing waits for: a costlier chain ends at one, and so, through the tasks
    # that cost nothing, does a tie.
    waited_for = {t for before in upstream.values() for t in before}
    end = max(sorted(set(finish) - waited_for), key=finish.__getitem__)
    path = [end]
    while via[path[-1]]:
        path.append(via[path[-1]])
    return finish[end], path[::-1]


def replication_s(durations: Mapping[str, float], replicas: int) -> float:
    """From publishing until a region holds ``replicas`` replicas (regions replicate side by side)."""
    return (
        durations["version_prepare"]
        + durations["replication_per_region"]
        + (replicas - 1) * durations["replication_per_extra_replica"]
    )


def pool_ready_s(
    durations: Mapping[str, float], *, nodes: int, replicas: int, healthy_fraction: float, start_task: bool
) -> float:
    """From pool creation until it is steady with enough idle nodes.

    After the start delay, node ``k`` of ``n`` is allocated at ``window * k / n``; it then boots,
    starts its agent and runs the start task. The pool is steady when the last node is allocated
    and healthy once ``ceil(fraction * n)`` nodes are idle.
    """
    window = durations["pool_allocation_per_replica_batch"] * math.ceil(
        nodes / (replicas * durations["vms_per_replica"])
    )
    required = math.ceil(healthy_fraction * nodes - 1e-9)
    start_up = durations["node_boot"] + durations["node_agent_start"] + (durations["start_task"] if start_task else 0)
    return durations["pool_allocation_start"] + max(window, window * required / nodes + start_up)


def task_costs(task_ids: Iterable[str], spec, durations: Mapping[str, float]) -> dict[str, float]:
    """Each task's emulated wait for Azure in a first run of ``spec``'s pipeline (task ids as in the DAG:
    ``image.snapshot``, ``region_<r>.replicated``, ``region_<r>.pool_<prefix>.steady``...).
    """
    replicas = spec.replicas_per_region()
    pools = {pool.id_prefix: pool for pool in spec.batch.pools}
    costs = {}
    for task_id in task_ids:
        groups, name = task_id.split(".")[:-1], task_id.rsplit(".", 1)[-1]
        if name in SINGLE_OPERATIONS:
            costs[task_id] = sum(durations[key] for key in SINGLE_OPERATIONS[name])
        elif name == "wait_for_build":
            costs[task_id] = durations["build_windows" if spec.os_type == "Windows" else "build_linux"]
        elif name == "replicated":
            costs[task_id] = replication_s(durations, replicas[groups[0].removeprefix("region_")])
        elif name == "replicated_everywhere":
            costs[task_id] = max(replication_s(durations, count) for count in replicas.values())
        elif name == "steady":
            pool = pools[groups[1].removeprefix("pool_")]
            costs[task_id] = pool_ready_s(
                durations,
                nodes=pool.target_nodes,
                replicas=replicas[groups[0].removeprefix("region_")],
                healthy_fraction=pool.required_healthy_fraction,
                start_task=pool.start_task is not None,
            )
        elif name == "cleanup_build_resources":
            # The VM (its disks and NIC go with it), the snapshots and the image are deleted side by side.
            costs[task_id] = max(
                durations["vm_delete"],
                durations["snapshot_delete"],
                durations["image_delete"] if spec.image_path == "managed_image" else 0,
            )
        else:
            costs[task_id] = 0.0
    return costs


def dag_critical_path(dag, spec, durations: Mapping[str, float], speed: float) -> dict:
    """The critical path of ``dag`` (built from ``spec``), in emulated and real seconds."""
    upstream = {task_id: task.upstream_task_ids for task_id, task in dag.task_dict.items()}
    costs = task_costs(upstream, spec, durations)
    emulated, path = longest_path(upstream, costs)
    return {
        "emulated_s": emulated,
        "real_s": round(emulated / speed, 3),
        "tasks": [{"task_id": t, "emulated_s": costs[t]} for t in path],
    }


def realized(path: list[dict], timeline: list[dict], speed: float) -> dict:
    """Where a run's time went along the critical path: waiting for each task to start (scheduling, a free
    worker slot, a slower branch it also waits for), inside the tasks beyond their Azure time, and Azure.

    ``path``: the critical path's tasks (``task_id``, ``emulated_s``); ``timeline``: the run's task
    instances (``task_id``, ``start``, ``end``, seconds from the run's start; a mapped task has several).
    """
    between = inside = azure = 0.0
    ended = 0.0
    for task in path:
        spans = [t for t in timeline if t["task_id"] == task["task_id"]]
        if not spans:  # skipped or not run: nothing waited for it
            continue
        start, end = min(t["start"] for t in spans), max(t["end"] for t in spans)
        between += max(0.0, start - ended)
        inside += end - start - task["emulated_s"] / speed
        azure += task["emulated_s"] / speed
        ended = end
    return {
        "between_tasks_s": round(between, 1),
        "in_tasks_beyond_azure_s": round(inside, 1),
        "azure_s": round(azure, 1),
    }
