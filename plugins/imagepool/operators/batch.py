"""Azure Batch pools on a Compute Gallery image: create one, prove it with a smoke job, retire it.

Waiting for a new pool's nodes is the sensor's job (``sensors.batch``), so the DAG shows allocation
as its own step.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferred

from imagepool import pool_sizing
from imagepool.errors import AzureOperationFailed
from imagepool.hooks.batch import BatchHook, PoolSpec, StartTask
from imagepool.links.portal import BatchPoolLink
from imagepool.operators.base import ImagepoolBaseOperator
from imagepool.triggers.batch import PoolDeletedTrigger, PoolResizeTrigger, TaskTrigger

GALLERY_VERSION_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/galleries/"
    r"[^/]+/images/[^/]+/versions/[^/]+$",
    re.IGNORECASE,
)
OS_TYPES = ("linux", "windows")
POOL_SECURITY_TYPES = {"trustedlaunch": "trustedLaunch", "confidentialvm": "confidentialvm"}
# Gallery image definition security type -> the pool security types its versions can boot as
# (None: a standard VM).
IMAGE_SECURITY = {
    "standard": {None},
    "trustedlaunch": {"trustedLaunch"},
    "trustedlaunchsupported": {None, "trustedLaunch"},
    "confidentialvm": {"confidentialvm"},
    "confidentialvmsupported": {None, "confidentialvm"},
    "trustedlaunchandconfidentialvmsupported": {None, "trustedLaunch", "confidentialvm"},
}


def pool_resource_id(subscription_id: str, resource_group: str, account: str, pool_id: str) -> str:
    """The ARM id the portal opens a Batch pool by: the account's id plus ``/pools/{pool}``."""
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/Microsoft.Batch/"
        f"batchAccounts/{account}/pools/{pool_id}"
    )


def security_problem(image_security_type: str | None, security_type: str | None) -> str | None:
    """Why a pool with ``security_type`` cannot boot an image of ``image_security_type``, or None."""
    if image_security_type is None:
        return None
    allowed = IMAGE_SECURITY.get(image_security_type.lower())
    if allowed is None:
        return f"image_security_type {image_security_type!r} is not a gallery security type"
    if security_type not in allowed:
        wanted = " or ".join(sorted(repr(s) if s else "none (a standard VM)" for s in allowed))
        return (
            f"security_type {security_type or 'none'!r} cannot boot an image whose definition is "
            f"{image_security_type!r}: use security_type {wanted}"
        )
    return None


def node_agent_problem(sku: str, supported: dict[str, str], os_type: str | None) -> str | None:
    """Why ``sku`` cannot run the image, given the account's supported SKUs (SKU -> OS type), or None."""
    found = next((os for known, os in supported.items() if known.lower() == sku.lower()), None)
    if found is None:
        listed = {os: sorted(s for s, o in supported.items() if o == os) for os in sorted(set(supported.values()))}
        offer = "; ".join(f"{os}: {', '.join(skus)}" for os, skus in listed.items())
        return f"node agent SKU {sku!r} is not supported by the Batch account (supported: {offer})"
    if os_type and found != os_type.lower():
        return f"node agent SKU {sku!r} is for {found} nodes but the image's OS type is {os_type}"
    return None


def smoke_job_id(pool_id: str) -> str:
    """``smoke-{pool}``, shortened with a digest when that would pass Batch's 64 characters."""
    job_id = f"smoke-{pool_id}"
    if len(job_id) <= 64:
        return job_id
    return f"smoke-{pool_id[:49]}-{hashlib.sha256(pool_id.lower().encode()).hexdigest()[:8]}"


class AzureBatchPoolCreateOperator(ImagepoolBaseOperator):
    """Create a fixed-size Batch pool whose nodes boot a Compute Gallery image version; reuse it if it exists.

    The node agent SKU is checked against the account's supported images (and the image's OS type,
    when given) and the security profile against the image definition's security type, before
    anything is created. The pool id should be derived from the image version, so a retry finds
    the pool its first try created; a pool with that id but another image is an error. The
    connection must use Entra ID: Batch refuses account-key (SharedKey) callers for gallery images.

    Returns ``{"pool_id", "batch_account_url"}`` for the sensor and the smoke job.

    :param pool_id: pool id (templated): 1-64 letters, digits, ``-``, ``_``.
    :param image_version_id: resource id of the gallery image version (templated); it must be
        replicated to the Batch account's region.
    :param vm_size: VM size (templated), e.g. ``standard_d2s_v3``.
    :param node_agent_sku_id: node agent SKU matching the image's OS (templated), e.g. ``batch.node.ubuntu 22.04``.
    :param target_dedicated_nodes: dedicated nodes (templated); default 0.
    :param target_low_priority_nodes: spot (low-priority) nodes (templated); default 0.
    :param resize_timeout: allocation timeout in seconds (templated); default
        ``pool_sizing.resize_timeout(nodes)``: 15 minutes per started 1000 nodes, at least 15. Minimum 300.
    :param start_task_command: command every node runs when it joins (templated); default none.
    :param start_task_wait_for_success: nodes take no tasks until the start task succeeds; default True.
    :param start_task_elevated: run the start task as the pool's admin auto-user; default False.
    :param start_task_max_retries: retries of a failing start task; default 0.
    :param task_slots_per_node: concurrent tasks per node (templated); default 1.
    :param os_type: the image's OS type, ``Linux`` or ``Windows`` (templated); checked against the SKU.
    :param image_security_type: the image definition's security type (templated), e.g. ``TrustedLaunchSupported``.
    :param security_type: pool VM security type: ``trustedLaunch``, ``confidentialVM`` or None (templated).
    :param secure_boot: UEFI secure boot with a security type; default True.
    :param vtpm: virtual TPM with a security type; default True.
    :param metadata: pool metadata (templated), e.g. the image version for humans reading the portal.
    :param batch_account_url: account endpoint (templated); default: the connection's ``batch_account_url``.
    :param batch_account_name: account name for the portal link; default: the connection's, else the
        endpoint's first label.
    :param resource_group_name: the account's resource group for the portal link; default: the connection's.
    """

    template_fields: Sequence[str] = (
        *ImagepoolBaseOperator.template_fields,
        "pool_id",
        "image_version_id",
        "vm_size",
        "node_agent_sku_id",
        "target_dedicated_nodes",
        "target_low_priority_nodes",
        "resize_timeout",
        "start_task_command",
        "task_slots_per_node",
        "os_type",
        "image_security_type",
        "security_type",
        "metadata",
        "batch_account_url",
        "batch_account_name",
        "resource_group_name",
    )
    operator_extra_links = (BatchPoolLink(),)

    def __init__(
        self,
        *,
        pool_id: str,
        image_version_id: str,
        vm_size: str,
        node_agent_sku_id: str,
        target_dedicated_nodes: int = 0,
        target_low_priority_nodes: int = 0,
        resize_timeout: float | None = None,
        start_task_command: str | None = None,
        start_task_wait_for_success: bool = True,
        start_task_elevated: bool = False,
        start_task_max_retries: int = 0,
        task_slots_per_node: int = 1,
        os_type: str | None = None,
        image_security_type: str | None = None,
        security_type: str | None = None,
        secure_boot: bool = True,
        vtpm: bool = True,
        metadata: dict[str, str] | None = None,
        batch_account_url: str | None = None,
        batch_account_name: str | None = None,
        resource_group_name: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.pool_id = pool_id
        self.image_version_id = image_version_id
        self.vm_size = vm_size
        self.node_agent_sku_id = node_agent_sku_id
        self.target_dedicated_nodes = target_dedicated_nodes
        self.target_low_priority_nodes = target_low_priority_nodes
        self.resize_timeout = resize_timeout
        self.start_task_command = start_task_command
        self.start_task_wait_for_success = start_task_wait_for_success
        self.start_task_elevated = start_task_elevated
        self.start_task_max_retries = start_task_max_retries
        self.task_slots_per_node = task_slots_per_node
        self.os_type = os_type
        self.image_security_type = image_security_type
        self.security_type = security_type
        self.secure_boot = secure_boot
        self.vtpm = vtpm
        self.metadata = metadata or {}
        self.batch_account_url = batch_account_url
        self.batch_account_name = batch_account_name
        self.resource_group_name = resource_group_name

    def _spec(self) -> PoolSpec:
        """The rendered arguments as a pool spec; every invalid value is named at once."""
        problems = [pool_sizing.pool_id_problem(self.pool_id)]
        if not GALLERY_VERSION_ID.match(str(self.image_version_id or "")):
            problems.append(
                f"image_version_id {self.image_version_id!r} is not a gallery image version id "
                "(/subscriptions/.../galleries/G/images/I/versions/X.Y.Z)"
            )
        if not self.vm_size:
            problems.append("vm_size is empty")
        if not self.node_agent_sku_id:
            problems.append("node_agent_sku_id is empty")
        dedicated, spot = (_whole(self.target_dedicated_nodes), _whole(self.target_low_priority_nodes))
        if dedicated is None or dedicated < 0 or spot is None or spot < 0:
            problems.append(
                f"target_dedicated_nodes {self.target_dedicated_nodes!r} and target_low_priority_nodes "
                f"{self.target_low_priority_nodes!r} must be whole numbers >= 0"
            )
            dedicated, spot = 0, 0
        timeout = pool_sizing.resize_timeout(dedicated + spot)
        if self.resize_timeout is not None:
            seconds = _number(self.resize_timeout)
            timeout = timedelta(seconds=seconds or 0)
            if timeout < pool_sizing.MIN_RESIZE_TIMEOUT:
                problems.append(
                    f"resize_timeout {self.resize_timeout!r} must be at least Batch's minimum of "
                    f"{int(pool_sizing.MIN_RESIZE_TIMEOUT.total_seconds())} seconds"
                )
        slots = _whole(self.task_slots_per_node)
        if slots is None or not 1 <= slots <= 256:
            problems.append(f"task_slots_per_node {self.task_slots_per_node!r} must be 1-256")
        if self.os_type and self.os_type.lower() not in OS_TYPES:
            problems.append(f"os_type {self.os_type!r} must be Linux or Windows")
        security = POOL_SECURITY_TYPES.get((self.security_type or "").lower()) if self.security_type else None
        if self.security_type and security is None:
            problems.append(f"security_type {self.security_type!r} must be trustedLaunch or confidentialVM")
        problems.append(security_problem(self.image_security_type, security))
        self.reject([p for p in problems if p])
        start = (
            StartTask(
                self.start_task_command,
                self.start_task_wait_for_success,
                self.start_task_elevated,
                self.start_task_max_retries,
            )
            if self.start_task_command
            else None
        )
        return PoolSpec(
            pool_id=self.pool_id,
            vm_size=self.vm_size,
            image_id=self.image_version_id,
            node_agent_sku_id=self.node_agent_sku_id,
            target_dedicated_nodes=dedicated,
            target_low_priority_nodes=spot,
            resize_timeout=timeout,
            start_task=start,
            task_slots_per_node=slots,
            security_type=security,
            secure_boot=self.secure_boot,
            vtpm=self.vtpm,
            metadata={str(k): str(v) for k, v in self.metadata.items()},
        )

    def execute(self, context) -> dict[str, str]:
        spec = self._spec()
        hook = BatchHook(self.azure_conn_id, batch_account_url=self.batch_account_url)
        hook.require_entra_id(f"create pool {spec.pool_id} from a Compute Gallery image")
        problem = node_agent_problem(spec.node_agent_sku_id, hook.supported_node_agent_skus(), self.os_type)
        if problem:
            raise AzureOperationFailed(
                f"pool {spec.pool_id}",
                "UnsupportedNodeAgentSku",
                problem,
                "use a node agent SKU the account lists for the image's OS (Batch supported images)",
            )
        created = hook.create_pool(spec)
        self._persist_link(context, hook, spec.pool_id)
        if created:
            self.log.info(
                "Pool %s created on %s: %s x %s dedicated + %s spot, resize timeout %s",
                spec.pool_id,
                hook.endpoint,
                spec.vm_size,
                spec.target_dedicated_nodes,
                spec.target_low_priority_nodes,
                spec.resize_timeout,
            )
        else:
            self._reuse(hook, spec)
        return {"pool_id": spec.pool_id, "batch_account_url": hook.endpoint}

    def _reuse(self, hook: BatchHook, spec: PoolSpec) -> None:
        """Reuse the pool with this id if it boots the same image, resized to the spec's targets."""
        existing = hook.get_pool(spec.pool_id)
        if existing is None or existing["state"] == "deleting":
            raise AzureOperationFailed(
                f"pool {spec.pool_id}",
                "PoolBeingDeleted",
                "a pool with this id is being deleted",
                "wait until it is gone, then re-run the task",
            )
        if (existing["image_id"] or "").lower() != spec.image_id.lower():
            raise AzureOperationFailed(
                f"pool {spec.pool_id}",
                "PoolExists",
                f"the pool exists with image {existing['image_id']}, not {spec.image_id}",
                "derive the pool id from the image version, or retire the existing pool first",
            )
        self.log.info("Pool %s already exists with image %s; reusing it", spec.pool_id, spec.image_id)
        wanted = (spec.target_dedicated_nodes, spec.target_low_priority_nodes)
        targets = (existing["target_dedicated_nodes"], existing["target_low_priority_nodes"])
        # A steady pool keeps its last resize's errors until the next resize, so a pool that fell short
        # (quota since raised, capacity back) is resized again; one still resizing is the sensor's to watch.
        if existing["allocation_state"] == "steady" and (targets != wanted or existing["resize_errors"]):
            errors = ", ".join(e["code"] for e in existing["resize_errors"]) or "none"
            self.log.info(
                "Pool %s targets %s dedicated + %s spot nodes (last resize errors: %s); resizing to %s + %s",
                spec.pool_id,
                *targets,
                errors,
                *wanted,
            )
            hook.resize(spec.pool_id, dedicated=wanted[0], low_priority=wanted[1], resize_timeout=spec.resize_timeout)

    def _persist_link(self, context, hook: BatchHook, pool_id: str) -> None:
        group = self.resource_group_name or hook.settings.resource_group
        if not (hook.settings.subscription_id and group):
            self.log.info("No portal link: the connection has no subscriptionId or resource group")
            return
        BatchPoolLink.persist(
            context,
            hook.settings,
            pool_resource_id(hook.settings.subscription_id, group, hook.account_name(self.batch_account_name), pool_id),
        )


class AzureBatchSmokeJobOperator(ImagepoolBaseOperator):
    """Run the spec's check command as one task on the pool; fail unless it exits with 0.

    The job and task ids are derived from the pool, so a retry finds and waits for what the first
    try started. The job (and with it the task and its output) is deleted when the operator ends,
    whatever the outcome.

    Returns ``{"pool_id", "job_id", "task_id", "exit_code", "node_id"}``.

    :param pool_id: pool to test (templated).
    :param command_line: the check command (templated), e.g. ``/bin/bash -c 'my-tool --version'``.
    :param elevated: run as the pool's admin auto-user; default False.
    :param job_id: job id (templated); default ``smoke-{pool_id}``.
    :param task_id_in_job: the task's id in the job; default ``smoke``.
    :param batch_account_url: account endpoint (templated); default: the connection's.
    :param timeout: seconds the task may take, waiting for a node included (default 1800); Batch
        also stops the task after this long.
    """

    template_fields: Sequence[str] = (
        *ImagepoolBaseOperator.template_fields,
        "pool_id",
        "command_line",
        "job_id",
        "batch_account_url",
    )

    def __init__(
        self,
        *,
        pool_id: str,
        command_line: str,
        elevated: bool = False,
        job_id: str | None = None,
        task_id_in_job: str = "smoke",
        batch_account_url: str | None = None,
        timeout: float = 1800,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.pool_id = pool_id
        self.command_line = command_line
        self.elevated = elevated
        self.job_id = job_id
        self.task_id_in_job = task_id_in_job
        self.batch_account_url = batch_account_url
        self.timeout = timeout
        self._job_deleted = False

    @property
    def _job(self) -> str:
        return self.job_id or smoke_job_id(self.pool_id)

    def _hook(self) -> BatchHook:
        return BatchHook(self.azure_conn_id, batch_account_url=self.batch_account_url)

    def execute(self, context):
        problems = [pool_sizing.pool_id_problem(self.pool_id)]
        problems += [
            f"{name} {value!r} must be 1-64 letters, digits, '-' or '_'"
            for name, value in (("job_id", self._job), ("task_id_in_job", self.task_id_in_job))
            if pool_sizing.pool_id_problem(value)
        ]
        if not (self.command_line or "").strip():
            problems.append("command_line is empty")
        self.reject([p for p in problems if p])
        hook = self._hook()
        if hook.create_job(self._job, self.pool_id):
            self.log.info("Job %s created on pool %s", self._job, self.pool_id)
        else:
            self.log.info("Job %s already exists; reusing it", self._job)
        with self._deleting_job(hook):
            if not hook.create_task(
                self._job,
                self.task_id_in_job,
                self.command_line,
                elevated=self.elevated,
                max_wall_clock=timedelta(seconds=self.timeout),
            ):
                self.log.info("Task %s already exists in job %s; waiting for it", self.task_id_in_job, self._job)
            trigger = TaskTrigger(
                job_id=self._job,
                task_id=self.task_id_in_job,
                batch_account_url=hook.endpoint,
                **self.polling(self.timeout, f"Check pool {self.pool_id}'s nodes: the task waits for an idle node."),
            )
            return self.wait_for(context, trigger)

    def execute_complete(self, context, event=None):
        with self._deleting_job(self._hook()):
            event = self.check_event(event)
            if event["exit_code"] != 0:
                failure = event.get("failure") or {}
                why = f" ({failure.get('code')}: {failure.get('message')})" if failure else ""
                # A check that ran and said no says no again on the same image: no retry. A task that never
                # ran (no exit code) may run on a healthy node next time.
                error = AirflowException if event["exit_code"] is None else AirflowFailException
                raise error(
                    f"Smoke task {event['task_id']} in job {event['job_id']} on pool {self.pool_id} exited with "
                    f"{event['exit_code']}{why} on node {event.get('node_id')}; the pool stays un-promoted. Run the "
                    "check command on one of the pool's nodes to see why, fix the image or the command, and re-run."
                )
            self.log.info(
                "Smoke task %s on pool %s exited with 0 on node %s",
                event["task_id"],
                self.pool_id,
                event.get("node_id"),
            )
            return {
                "pool_id": self.pool_id,
                "job_id": event["job_id"],
                "task_id": event["task_id"],
                "exit_code": 0,
                "node_id": event.get("node_id"),
            }

    def on_kill(self) -> None:
        self._delete_job(self._hook())

    @contextmanager
    def _deleting_job(self, hook: BatchHook):
        """Delete the job when the block ends, unless it deferred (the wait goes on in the triggerer)."""
        try:
            yield
        except TaskDeferred:
            raise
        except BaseException:
            self._delete_job(hook)
            raise
        self._delete_job(hook)

    def _delete_job(self, hook: BatchHook) -> None:
        if self._job_deleted:  # a wait that ends in the worker passes through two cleanup blocks
            return
        self._job_deleted = True
        try:
            if hook.delete_job(self._job):
                self.log.info("Deleting job %s", self._job)
        except Exception:  # the task's own outcome matters more than a failed cleanup
            self.log.exception("Could not delete job %s; delete it in the portal", self._job)


class AzureBatchPoolRetireOperator(ImagepoolBaseOperator):
    """Retire a pool: let running tasks finish, remove its nodes, delete it, wait until it is gone.

    Batch has no pool-wide "disable scheduling" (only per node, one call per node), so the pool is
    shrunk to 0 with ``nodeDeallocationOption=taskcompletion``: Batch schedules no new tasks on the
    leaving nodes and removes each once its running tasks complete. Once no node is left, the pool
    is deleted. Each step reads the pool first, so a retry continues where the last try stopped; a
    pool that does not exist is already retired. Autoscale pools must have autoscale disabled first.

    Returns ``{"pool_id", "deleted"}`` (``deleted`` is False if the pool did not exist).

    :param pool_id: pool to retire (templated).
    :param batch_account_url: account endpoint (templated); default: the connection's.
    :param drain_timeout: seconds to wait for running tasks to finish and nodes to leave (default 6 h).
    :param delete_timeout: seconds to wait for the deletion (default 1800).
    """

    template_fields: Sequence[str] = (*ImagepoolBaseOperator.template_fields, "pool_id", "batch_account_url")

    def __init__(
        self,
        *,
        pool_id: str,
        batch_account_url: str | None = None,
        drain_timeout: float = 6 * 3600,
        delete_timeout: float = 1800,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.pool_id = pool_id
        self.batch_account_url = batch_account_url
        self.drain_timeout = drain_timeout
        self.delete_timeout = delete_timeout

    def execute(self, context):
        self.reject([p for p in [pool_sizing.pool_id_problem(self.pool_id)] if p])
        return self._advance(context, existed=False)

    def execute_complete(self, context, event=None, existed: bool = True):
        self.check_event(event)
        return self._advance(context, existed=existed)

    def _advance(self, context, existed: bool) -> Any:
        """Take the next step from what the pool looks like now, and wait for it."""
        hook = BatchHook(self.azure_conn_id, batch_account_url=self.batch_account_url)
        pool = hook.get_pool(self.pool_id)
        if pool is None:
            self.log.info("Pool %s is gone" if existed else "Pool %s does not exist; nothing to retire", self.pool_id)
            return {"pool_id": self.pool_id, "deleted": existed}
        common = {"pool_id": self.pool_id, "batch_account_url": hook.endpoint}
        if pool["state"] == "deleting":
            trigger = PoolDeletedTrigger(**common, **self.polling(self.delete_timeout))
        elif pool["allocation_state"] != "steady":
            if pool["target_dedicated_nodes"] or pool["target_low_priority_nodes"]:
                # Batch resizes only steady pools: stop the growth first, then shrink.
                self.log.info("Pool %s is %s; stopping that resize", self.pool_id, pool["allocation_state"])
                hook.stop_resize(self.pool_id)
            trigger = PoolResizeTrigger(
                **common, **self.polling(self.drain_timeout, "Tasks still run on the pool's nodes.")
            )
        elif pool["current_dedicated_nodes"] or pool["current_low_priority_nodes"]:
            self.log.info("Pool %s: no new tasks; removing its nodes as their running tasks complete", self.pool_id)
            hook.resize(self.pool_id, dedicated=0, low_priority=0, node_deallocation_option="taskcompletion")
            trigger = PoolResizeTrigger(
                **common, **self.polling(self.drain_timeout, "Tasks still run on the pool's nodes.")
            )
        else:
            self.log.info("Pool %s has no nodes; deleting it", self.pool_id)
            hook.delete_pool(self.pool_id)
            trigger = PoolDeletedTrigger(**common, **self.polling(self.delete_timeout))
        return self.wait_for(context, trigger, kwargs={"existed": True})


def _number(value) -> float | None:
    """A templated number (rendered templates are strings), or None if it is not one."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _whole(value) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None
