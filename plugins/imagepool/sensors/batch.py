"""Wait for a new Batch pool to be steady with enough healthy nodes, resizing again after a
transient allocation failure.

Batch reports a resize's errors only once the pool is steady, and a steady pool is not a usable
one: unusable and startTaskFailed nodes count as failures here, never as "done". The trigger only
reads; the resize a retryable error calls for happens here, in the worker, between waits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from airflow.sdk.exceptions import AirflowFailException

from imagepool import pool_sizing
from imagepool.errors import AzureResourceNotFound
from imagepool.hooks.batch import BatchHook
from imagepool.operators.base import ImagepoolBaseOperator
from imagepool.triggers.batch import PoolSteadyTrigger, failed_node_text


class AzureBatchPoolSteadySensor(ImagepoolBaseOperator):
    """Wait until a pool is steady and at least ``min_healthy_fraction`` of its target nodes are idle or running.

    Once steady, the last resize's errors decide: a fatal one (a core quota, an invalid property)
    fails at once with Azure's code and the next step; a retryable one (AllocationTimedout,
    AllocationFailed) resizes the pool to its target again, up to ``max_resizes`` times. Unusable
    and startTaskFailed nodes above ``max_failed_fraction`` of the target fail the wait (they do not
    recover), naming one failed node's exit code or error; fewer succeed with a warning. Such
    verdicts on the pool fail without Airflow retries: another try would read the same pool. Node
    counts come from Batch's node-counts API, never from listing nodes.

    Returns ``{"pool_id", "batch_account_url", "healthy_nodes", "target_nodes"}``, and ``failed_node`` (one
    failed node and why) when fewer than the target are healthy.

    :param pool_id: the pool (templated).
    :param batch_account_url: account endpoint (templated); default: the connection's.
    :param min_healthy_fraction: share of the target nodes that must be idle or running (default 0.95).
    :param max_failed_fraction: share of the target nodes that may be unusable or startTaskFailed
        (default 0.05).
    :param max_resizes: resizes after a retryable allocation error before failing (default 2).
    :param resize_timeout: seconds for those resizes; default ``pool_sizing.resize_timeout(target)``.
    :param timeout: seconds to wait for each allocation; default the resize timeout plus 30 minutes of
        node start-up.
    """

    template_fields: Sequence[str] = (
        *ImagepoolBaseOperator.template_fields,
        "pool_id",
        "batch_account_url",
        "min_healthy_fraction",
        "max_failed_fraction",
    )
    ui_color = "#e0f0d8"

    def __init__(
        self,
        *,
        pool_id: str,
        batch_account_url: str | None = None,
        min_healthy_fraction: float = 0.95,
        max_failed_fraction: float = 0.05,
        max_resizes: int = 2,
        resize_timeout: float | None = None,
        timeout: float | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.pool_id = pool_id
        self.batch_account_url = batch_account_url
        self.min_healthy_fraction = min_healthy_fraction
        self.max_failed_fraction = max_failed_fraction
        self.max_resizes = max_resizes
        self.resize_timeout = resize_timeout
        self.timeout = timeout

    def _hook(self) -> BatchHook:
        return BatchHook(self.azure_conn_id, batch_account_url=self.batch_account_url)

    def _fraction(self, name: str) -> float | None:
        try:
            value = float(getattr(self, name))
        except (TypeError, ValueError):
            return None
        return value if 0 <= value <= 1 else None

    def execute(self, context):
        problems = [pool_sizing.pool_id_problem(self.pool_id)]
        problems += [
            f"{name} {getattr(self, name)!r} must be a number from 0 to 1"
            for name in ("min_healthy_fraction", "max_failed_fraction")
            if self._fraction(name) is None
        ]
        if not isinstance(self.max_resizes, int) or self.max_resizes < 0:
            problems.append(f"max_resizes {self.max_resizes!r} must be a whole number >= 0")
        if self.resize_timeout is not None and self.resize_timeout < pool_sizing.MIN_RESIZE_TIMEOUT.total_seconds():
            problems.append(
                f"resize_timeout {self.resize_timeout!r} must be at least "
                f"{int(pool_sizing.MIN_RESIZE_TIMEOUT.total_seconds())} seconds"
            )
        self.reject([p for p in problems if p])
        return self._wait(context, self._hook(), resizes=0)

    def _wait(self, context, hook: BatchHook, resizes: int):
        pool = hook.get_pool(self.pool_id)
        if pool is None:
            raise AzureResourceNotFound(
                f"pool {self.pool_id}",
                "PoolNotFound",
                "the pool does not exist",
                "create it first (AzureBatchPoolCreateOperator)",
            )
        target = pool["target_dedicated_nodes"] + pool["target_low_priority_nodes"]
        timeout = (
            timedelta(seconds=self.timeout)
            if self.timeout is not None
            else pool_sizing.steady_timeout(target, self._resize_timeout(target))
        )
        trigger = PoolSteadyTrigger(
            pool_id=self.pool_id,
            batch_account_url=hook.endpoint,
            min_healthy_fraction=self._fraction("min_healthy_fraction"),
            max_failed_fraction=self._fraction("max_failed_fraction"),
            **self.polling(
                timeout.total_seconds(), f"See pool {self.pool_id}'s nodes and resize errors in the portal."
            ),
        )
        return self.wait_for(context, trigger, kwargs={"resizes": resizes})

    def _resize_timeout(self, target: int) -> timedelta:
        if self.resize_timeout is not None:
            return timedelta(seconds=self.resize_timeout)
        return pool_sizing.resize_timeout(target)

    def execute_complete(self, context, event=None, resizes: int = 0):
        if event and event.get("status") == "error" and event.get("retryable"):
            if resizes >= self.max_resizes:
                raise AirflowFailException(f"{event['message']} (gave up after {resizes} resizes)")
            return self._resize_again(context, event, resizes + 1)
        # A verdict on the pool (a quota, failed nodes) is final: waiting again would read the same pool, so
        # the task fails at once and the pool's discard step runs without delay.
        done = self.check_event(event, verdicts_final=True)
        if done.get("warning"):
            self.log.warning("Pool %s is usable, but %s", self.pool_id, done["warning"])
        hook = self._hook()
        result = {
            "pool_id": self.pool_id,
            "batch_account_url": hook.endpoint,
            "healthy_nodes": done["healthy"],
            "target_nodes": done["target"],
        }
        if done["healthy"] < done["target"]:
            # A degraded pool: one failed node and why, for the run's notification and the imagepool view.
            result["failed_node"] = failed_node_text(hook.failed_node(self.pool_id))
        return result

    def _resize_again(self, context, event: dict, attempt: int):
        hook = self._hook()
        pool = hook.get_pool(self.pool_id)
        if pool is None:
            raise AzureResourceNotFound(
                f"pool {self.pool_id}",
                "PoolNotFound",
                "the pool disappeared while allocating",
                "re-run the pool's create task",
            )
        dedicated, spot = pool["target_dedicated_nodes"], pool["target_low_priority_nodes"]
        self.log.warning(
            "%s; resizing to %s dedicated + %s spot nodes again (%d of %d)",
            event["message"],
            dedicated,
            spot,
            attempt,
            self.max_resizes,
        )
        hook.resize(
            self.pool_id, dedicated=dedicated, low_priority=spot, resize_timeout=self._resize_timeout(dedicated + spot)
        )
        return self._wait(context, hook, resizes=attempt)
