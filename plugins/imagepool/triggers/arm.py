"""Wait for ARM long-running operations started by an operator (see ``hooks.arm.ArmHook.start``)."""

from __future__ import annotations

import asyncio
from typing import Any

from imagepool.hooks.arm import ArmHook
from imagepool.triggers.base import FAILED, WAITING, AzurePollingTrigger, Poll


class ArmOperationTrigger(AzurePollingTrigger):
    """Poll an operation's Azure-AsyncOperation (or Location) URL until it ends.

    :param operation: ``ArmOperation.to_dict()`` of the started operation.
    :param action: what to do if it fails (part of the failure message).
    """

    hook_class = ArmHook

    def __init__(self, *, operation: dict, action: str = "", **kwargs):
        super().__init__(**kwargs)
        self.operation = operation
        self.action = action

    def _kwargs(self) -> dict[str, Any]:
        return {"operation": self.operation, "action": self.action}

    async def poll(self, hook: ArmHook) -> Poll:
        client = await hook.get_async_conn()
        return operation_poll(self.operation, await hook.operation_status(client, self.operation), self.action)


class ArmOperationsTrigger(AzurePollingTrigger):
    """Wait for several operations started together (a cleanup's deletions) until every one has ended.

    One failure does not stop the wait: the event reports every failed operation, and only once
    the others have ended, so nothing is left running unreported.

    :param operations: ``ArmOperation.to_dict()`` of each started operation.
    :param action: what to do about failures (part of the failure message).
    """

    hook_class = ArmHook

    def __init__(self, *, operations: list[dict], action: str = "", **kwargs):
        super().__init__(**kwargs)
        self.operations = operations
        self.action = action
        self._ended: dict[str, Poll] = {}

    def _kwargs(self) -> dict[str, Any]:
        return {"operations": self.operations, "action": self.action}

    async def poll(self, hook: ArmHook) -> Poll:
        client = await hook.get_async_conn()
        running = [op for op in self.operations if op["resource_id"] not in self._ended]
        found = await asyncio.gather(*(hook.operation_status(client, op) for op in running))
        for operation, status in zip(running, found):
            result = operation_poll(operation, status, self.action)
            if result.state != WAITING:
                self._ended[operation["resource_id"]] = result
        return operations_poll(self.operations, self._ended)


def operation_poll(operation: dict, found: dict, action: str = "") -> Poll:
    """What one look at an operation's status (``ArmHook.operation_status``) means."""
    what = f"{operation['description']} ({operation['resource_id']})"
    status = found["status"].lower()
    if status == "succeeded":
        return Poll.done(f"{what}: succeeded", resource_id=operation["resource_id"])
    if status in ("failed", "canceled"):
        error = found.get("error") or {}
        action = action or "see the Azure error; fix the cause and retry the task"
        return Poll.failed(
            f"{what}: Azure error {error.get('code', status)}: {error.get('message', '')} -> {action}",
            resource_id=operation["resource_id"],
            code=error.get("code", status),
        )
    return Poll.waiting(f"{what}: {found['status']}", retry_after=found.get("retry_after"))


def operations_poll(operations: list[dict], ended: dict[str, Poll]) -> Poll:
    """Where a set of operations stands, given those that have ended (by resource id)."""
    ids = [op["resource_id"] for op in operations]
    running = [op for op in operations if op["resource_id"] not in ended]
    if running:
        names = ", ".join(op["description"] for op in running)
        return Poll.waiting(f"{len(ids) - len(running)}/{len(ids)} operations ended; waiting for: {names}")
    failures = [ended[i] for i in ids if ended[i].state == FAILED]
    if failures:
        return Poll.failed(
            f"{len(failures)} of {len(ids)} operations failed: " + "; ".join(f.message for f in failures),
            resource_ids=ids,
            failed_ids=[f.details["resource_id"] for f in failures],
        )
    return Poll.done(f"all {len(ids)} operations succeeded", resource_ids=ids)
