"""Waits on Azure Batch: a pool steady with healthy nodes, a resize settled, a pool gone, a task done.

Each trigger reads Batch with the aio hook and hands what it read to a pure ``*_poll`` function
that decides success, failure or "not yet"; those functions are unit-tested entry by entry.
"""

from __future__ import annotations

from typing import Any

from imagepool import pool_sizing
from imagepool.hooks.batch import BatchHook
from imagepool.triggers.base import AzurePollingTrigger, Poll

FAILED_NODES_HINT = (
    "Look at the start task's stdout.txt and stderr.txt on a failed node (Azure portal > Batch account > Pools > "
    "{pool} > Nodes > a node > Files, or `az batch node file download`). Unusable nodes on a custom image usually "
    "mean the image was not generalized, has VM extensions, or its node agent SKU does not match its OS"
)


def _target(pool: dict) -> int:
    return pool["target_dedicated_nodes"] + pool["target_low_priority_nodes"]


def _current(pool: dict) -> int:
    return pool["current_dedicated_nodes"] + pool["current_low_priority_nodes"]


def _resize_errors_text(errors: list[dict]) -> str:
    def one(error: dict) -> str:
        values = ", ".join(f"{k}: {v}" for k, v in error["values"].items())
        return f"{error['code']}: {error['message']}" + (f" ({values})" if values else "")

    return "; ".join(one(error) for error in errors)


def failed_node_text(node: dict | None) -> str:
    """Why one failed node failed: `` (node n1: start task exited with 1, Azure error FailureExitCode: ...)``."""
    if node is None:
        return ""
    exit_code = node["start_task_exit_code"]
    parts = [f"start task exited with {exit_code}"] if exit_code not in (None, 0) else []
    parts += [f"Azure error {e['code']}: {e['message']}" for e in node["errors"]]
    return f" (node {node['id']}: {', '.join(parts) or node['state']})"


def steady_poll(
    pool_id: str,
    pool: dict | None,
    counts: dict[str, int] | None,
    *,
    min_healthy_fraction: float,
    max_failed_fraction: float,
    failed_node: dict | None = None,
    account: str = "",
) -> Poll:
    """Whether a pool is steady with enough healthy nodes. ``counts`` is only read once steady; ``failed_node``
    (one unusable or startTaskFailed node, when the caller read one) tells why nodes failed; ``account`` (its
    endpoint) is named with resize errors, which quotas and capacity of the account cause.
    """
    if pool is None:
        return Poll.failed(
            f"pool {pool_id}: Azure error PoolNotFound: the pool does not exist -> create it first "
            "(AzureBatchPoolCreateOperator)",
            pool_id=pool_id,
            code="PoolNotFound",
        )
    if pool["state"] == "deleting":
        return Poll.failed(
            f"pool {pool_id}: Azure error PoolBeingDeleted: the pool is being deleted -> re-run the "
            "pool's create task once it is gone",
            pool_id=pool_id,
            code="PoolBeingDeleted",
        )
    target = _target(pool)
    if pool["allocation_state"] != "steady" or counts is None:
        return Poll.waiting(f"pool {pool_id}: {pool['allocation_state']}, {_current(pool)}/{target} nodes allocated")
    # Resize errors describe the last resize and are only set once the pool is steady.
    errors = pool["resize_errors"]
    if errors:
        fatal = [e for e in errors if not pool_sizing.resize_error_rule(e["code"]).retryable]
        chosen = (fatal or errors)[0]
        where = f"pool {pool_id}" + (f" in Batch account {account}" if account else "")
        return Poll.failed(
            f"{where}: Azure error {_resize_errors_text(errors)}; {_current(pool)}/{target} "
            f"nodes allocated -> {pool_sizing.resize_error_rule(chosen['code']).next_step}",
            pool_id=pool_id,
            code=chosen["code"],
            retryable=not fatal,
            counts=counts,
        )
    health = pool_sizing.assess(counts, target, min_healthy_fraction, max_failed_fraction)
    seen = f"pool {pool_id}: steady, {pool_sizing.describe_counts(counts, target)}"
    details = {"pool_id": pool_id, "counts": counts, "healthy": health.healthy, "target": target}
    if health.verdict == pool_sizing.FAILED:
        return Poll.failed(
            f"{seen}: {health.failed} of {target} nodes are unusable or failed their start task, more "
            f"than the {health.tolerated} tolerated{failed_node_text(failed_node)} -> "
            f"{FAILED_NODES_HINT.format(pool=pool_id)}",
            code="NodesFailed",
            **details,
        )
    if health.verdict == pool_sizing.HEALTHY:
        warning = (
            f"{target - health.healthy} of {target} nodes are not idle or running" if health.healthy < target else ""
        )
        return Poll.done(
            f"{seen}: healthy ({health.healthy} >= {health.required} required)", warning=warning, **details
        )
    if health.verdict == pool_sizing.SHORT:
        return Poll.failed(
            f"{seen}: only {health.healthy} of the {health.required} required nodes are idle or "
            "running and none are on the way -> check preempted spot nodes and the pool's nodes in "
            "the portal, then resize the pool or lower min_healthy_fraction",
            code="PoolShort",
            **details,
        )
    return Poll.waiting(seen)


def settled_poll(pool_id: str, pool: dict | None, counts: dict[str, int] | None) -> Poll:
    """Whether a resize (or stop-resize) has ended; while it runs, ``counts`` show what is draining."""
    if pool is None:
        return Poll.done(f"pool {pool_id}: does not exist", pool_id=pool_id, exists=False)
    if pool["allocation_state"] == "steady":
        return Poll.done(
            f"pool {pool_id}: steady with {_current(pool)} nodes", pool_id=pool_id, exists=True, nodes=_current(pool)
        )
    left = pool_sizing.describe_states(counts or {})
    return Poll.waiting(
        f"pool {pool_id}: {pool['allocation_state']} to {_target(pool)} nodes" + (f", {left}" if left else "")
    )


def deleted_poll(pool_id: str, pool: dict | None) -> Poll:
    if pool is None:
        return Poll.done(f"pool {pool_id}: deleted", pool_id=pool_id)
    return Poll.waiting(f"pool {pool_id}: {pool['state']}, {_current(pool)} nodes left")


def task_poll(job_id: str, task: dict) -> Poll:
    """Whether a task has completed; the caller judges its exit code."""
    where = f"task {task['id']} in job {job_id}"
    if task["state"] == "completed":
        return Poll.done(
            f"{where}: completed with exit code {task['exit_code']}",
            job_id=job_id,
            task_id=task["id"],
            exit_code=task["exit_code"],
            result=task["result"],
            failure=task["failure"],
            node_id=task["node_id"],
        )
    node = f" on node {task['node_id']}" if task["node_id"] else ""
    return Poll.waiting(f"{where}: {task['state']}{node}")


class BatchTrigger(AzurePollingTrigger):
    """A wait on one Batch account.

    :param batch_account_url: the account's endpoint; default: the connection's.
    """

    hook_class = BatchHook

    def __init__(self, *, batch_account_url: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.batch_account_url = batch_account_url

    def make_hook(self) -> BatchHook:
        return BatchHook(self.azure_conn_id, batch_account_url=self.batch_account_url)

    def _kwargs(self) -> dict[str, Any]:
        return {"batch_account_url": self.batch_account_url}


class PoolTrigger(BatchTrigger):
    """A wait on one pool.

    :param pool_id: the pool.
    """

    def __init__(self, *, pool_id: str, **kwargs):
        super().__init__(**kwargs)
        self.pool_id = pool_id

    def _kwargs(self) -> dict[str, Any]:
        return {**super()._kwargs(), "pool_id": self.pool_id}


class PoolSteadyTrigger(PoolTrigger):
    """Wait until a pool is steady and enough of its target nodes are idle or running.

    :param min_healthy_fraction: share of the target nodes that must be idle or running.
    :param max_failed_fraction: share of the target nodes that may be unusable or startTaskFailed.
    """

    def __init__(self, *, min_healthy_fraction: float, max_failed_fraction: float, **kwargs):
        super().__init__(**kwargs)
        self.min_healthy_fraction = float(min_healthy_fraction)
        self.max_failed_fraction = float(max_failed_fraction)

    def _kwargs(self) -> dict[str, Any]:
        return {
            **super()._kwargs(),
            "min_healthy_fraction": self.min_healthy_fraction,
            "max_failed_fraction": self.max_failed_fraction,
        }

    async def poll(self, hook: BatchHook) -> Poll:
        pool = await hook.aget_pool(self.pool_id)
        steady = pool is not None and pool["allocation_state"] == "steady"
        counts = await hook.apool_node_counts(self.pool_id) if steady else None
        judge = {
            "min_healthy_fraction": self.min_healthy_fraction,
            "max_failed_fraction": self.max_failed_fraction,
            "account": self.batch_account_url or hook.endpoint,
        }
        found = steady_poll(self.pool_id, pool, counts, **judge)
        if found.details.get("code") != "NodesFailed":
            return found
        # Counts say how many failed; one of the failed nodes says why (an exit code, an Azure error code).
        return steady_poll(self.pool_id, pool, counts, failed_node=await hook.afailed_node(self.pool_id), **judge)


class PoolResizeTrigger(PoolTrigger):
    """Wait until a pool's resize (or stop-resize) has ended, or the pool is gone."""

    async def poll(self, hook: BatchHook) -> Poll:
        pool = await hook.aget_pool(self.pool_id)
        moving = pool is not None and pool["allocation_state"] != "steady"
        counts = await hook.apool_node_counts(self.pool_id) if moving else None
        return settled_poll(self.pool_id, pool, counts)


class PoolDeletedTrigger(PoolTrigger):
    """Wait until a pool no longer exists."""

    async def poll(self, hook: BatchHook) -> Poll:
        return deleted_poll(self.pool_id, await hook.aget_pool(self.pool_id))


class TaskTrigger(BatchTrigger):
    """Wait until a task has completed (whatever its exit code).

    :param job_id: the task's job.
    :param task_id: the task.
    """

    def __init__(self, *, job_id: str, task_id: str, **kwargs):
        super().__init__(**kwargs)
        self.job_id = job_id
        # Not ``self.task_id``: Airflow's BaseTrigger owns that attribute, and the triggerer sets it to the
        # Airflow task's id when it loads the trigger.
        self.batch_task_id = task_id

    def _kwargs(self) -> dict[str, Any]:
        return {**super()._kwargs(), "job_id": self.job_id, "task_id": self.batch_task_id}

    async def poll(self, hook: BatchHook) -> Poll:
        return task_poll(self.job_id, await hook.aget_task(self.job_id, self.batch_task_id))
