"""Wait for an ARM long-running operation started by an operator (see ``hooks.arm.ArmHook.start``)."""

from __future__ import annotations

from typing import Any

from ..hooks.arm import ArmHook
from .base import AzurePollingTrigger, Poll


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
        found = await hook.operation_status(client, self.operation)
        what = f"{self.operation['description']} ({self.operation['resource_id']})"
        status = found["status"].lower()
        if status == "succeeded":
            return Poll.done(f"{what}: succeeded", resource_id=self.operation["resource_id"])
        if status in ("failed", "canceled"):
            error = found.get("error") or {}
            action = self.action or "see the Azure error; fix the cause and retry the task"
            return Poll.failed(f"{what}: Azure error {error.get('code', status)}: {error.get('message', '')} "
                               f"-> {action}", resource_id=self.operation["resource_id"],
                               code=error.get("code", status))
        return Poll.waiting(f"{what}: {found['status']}", retry_after=found.get("retry_after"))
