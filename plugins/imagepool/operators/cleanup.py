"""Delete what a build made (the build VM, its disks and NIC, snapshots, the managed image), failure or not."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException

from imagepool.errors import AzureOperationFailed
from imagepool.hooks.disks import DiskHook
from imagepool.hooks.vm import VmHook
from imagepool.operators.base import ImagepoolBaseOperator
from imagepool.operators.disks import IMAGE_ID, SNAPSHOT_ID
from imagepool.operators.vm import vm_name_problems
from imagepool.triggers.arm import ArmOperationsTrigger

if TYPE_CHECKING:
    from imagepool.hooks.arm import ArmOperation

LEFT_BEHIND = "they still cost money: re-run this task, or delete them in the portal"


class AzureBuildResourcesCleanupOperator(ImagepoolBaseOperator):
    """Delete the build VM and everything made from it; return ``{deleted: [ids], kept: [ids]}``.

    Run it as the pipeline's teardown (``trigger_rule="all_done"``): it deletes what exists and
    treats what is already gone as deleted, so it is safe whichever steps ran. Deleting the VM takes
    its disks, NIC and public IP along (``deleteOption: Delete``); disks and network resources named
    or tagged after the VM that were left over (detached, or from a failed create) are deleted too,
    and so are the snapshots and managed images tagged with the VM's name. Its own failure names
    what was left behind; the failure of the build itself is reported by the step that failed.

    :param vm_name: the build VM (templated).
    :param snapshot_ids: snapshots to delete: ids or the snapshot tasks' results; ``None`` entries
        (steps that never ran) are skipped (templated).
    :param image_id: managed image to delete, or ``None`` (templated).
    :param keep: delete nothing and log what is kept, for debugging a failed build (templated; default False).
    :param resource_group_name: resource group (templated); default: the connection's.
    :param timeout: seconds to wait for the deletions (default 3600).
    """

    template_fields: Sequence[str] = (
        *ImagepoolBaseOperator.template_fields,
        "vm_name",
        "snapshot_ids",
        "image_id",
        "keep",
        "resource_group_name",
    )
    ui_color = "#f6e3d3"

    def __init__(
        self,
        *,
        vm_name: str,
        snapshot_ids: list[Any] | None = None,
        image_id: str | None = None,
        keep: bool = False,
        resource_group_name: str | None = None,
        timeout: float = 3600,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vm_name = vm_name
        self.snapshot_ids = snapshot_ids
        self.image_id = image_id
        self.keep = keep
        self.resource_group_name = resource_group_name
        self.timeout = timeout

    def _given(self) -> tuple[list[str], list[str]]:
        """(ids of the given snapshots and image, problems)."""
        entries = [self.snapshot_ids] if isinstance(self.snapshot_ids, str) else list(self.snapshot_ids or [])
        ids = [e.get("snapshot_id") if isinstance(e, dict) else e for e in entries]
        problems = [
            f"snapshot_ids entry {i!r} must be a snapshot resource id"
            for i in ids
            if i is not None and not (isinstance(i, str) and SNAPSHOT_ID.match(i))
        ]
        if self.image_id is not None and not (isinstance(self.image_id, str) and IMAGE_ID.match(self.image_id)):
            problems.append(f"image_id {self.image_id!r} must be a managed image resource id")
        if str(self.keep).lower() not in ("true", "false"):
            problems.append(f"keep {self.keep!r} must be true or false")
        return [i for i in [*ids, self.image_id] if i], problems

    def _hooks(self) -> tuple[VmHook, DiskHook, str]:
        vms = VmHook(self.azure_conn_id)
        return vms, DiskHook(self.azure_conn_id, settings=vms.settings), vms.resource_group(self.resource_group_name)

    def execute(self, context):
        given, problems = self._given()
        self.reject(vm_name_problems(self.vm_name) + problems)
        vms, disks, group = self._hooks()
        vm = vms.get_vm(group, self.vm_name)
        made_from_vm = _unique(given + disks.tagged(group, self.vm_name))
        leftovers = disks.disk_leftovers(group, self.vm_name) + vms.network_leftovers(group, self.vm_name)
        if str(self.keep).lower() == "true":
            kept = ([vm["vm_id"]] if vm else []) + made_from_vm + leftovers
            self.log.warning(
                "keep is set: nothing deleted. Kept for debugging (%s when done): %s",
                LEFT_BEHIND,
                ", ".join(kept) or "nothing found",
            )
            return {"deleted": [], "kept": kept}
        starts = [lambda: vms.begin_delete_vm(group, self.vm_name)] if vm else []
        starts += [lambda i=i: disks.begin_delete(i) for i in made_from_vm]
        starts += self._leftover_starts(vms, disks, leftovers)
        operations, errors = self._start(starts)
        return self._wait(context, operations, "execute_leftovers", deleted=[], errors=errors)

    def execute_leftovers(self, context, event=None, deleted: Sequence[str] = (), errors: Sequence[str] = ()):
        """After the VM is gone: delete what it released rather than deleted (``Detach``)."""
        deleted, errors = _tally(event, list(deleted), list(errors))
        vms, disks, group = self._hooks()
        leftovers = disks.disk_leftovers(group, self.vm_name) + vms.network_leftovers(group, self.vm_name)
        if not leftovers:
            return self._finish(deleted, errors)
        operations, more = self._start(self._leftover_starts(vms, disks, leftovers))
        return self._wait(context, operations, "execute_complete", deleted=deleted, errors=errors + more)

    def execute_complete(self, context, event=None, deleted: Sequence[str] = (), errors: Sequence[str] = ()):
        return self._finish(*_tally(event, list(deleted), list(errors)))

    @staticmethod
    def _leftover_starts(vms: VmHook, disks: DiskHook, leftovers: list[str]) -> list[Callable[[], ArmOperation]]:
        return [
            lambda i=i: vms.begin_delete_network(i) if "/Microsoft.Network/" in i else disks.begin_delete(i)
            for i in leftovers
        ]

    def _start(self, starts: list[Callable[[], ArmOperation]]) -> tuple[list[ArmOperation], list[str]]:
        """Start every deletion; one refused does not stop the others."""
        operations, errors = [], []
        for start in starts:
            try:
                operation = start()
            except AzureOperationFailed as exc:
                errors.append(str(exc))
                continue
            if operation.done:  # Azure answered 204: nothing of that id exists
                self.log.info("%s is already gone", operation.resource_id)
                continue
            self.log.info("Deleting %s", operation.resource_id)
            operations.append(operation)
        return operations, errors

    def _wait(
        self, context, operations: list[ArmOperation], method_name: str, *, deleted: list[str], errors: list[str]
    ):
        trigger = ArmOperationsTrigger(
            operations=[o.to_dict() for o in operations], action=LEFT_BEHIND, **self.polling(self.timeout)
        )
        return self.wait_for(context, trigger, method_name, kwargs={"deleted": deleted, "errors": errors})

    def _finish(self, deleted: list[str], errors: list[str]) -> dict:
        self.log.info("Deleted %d build resources: %s", len(deleted), ", ".join(deleted) or "none were left")
        if errors:
            raise AirflowException(
                f"cleanup of build VM {self.vm_name} left resources behind ({LEFT_BEHIND}): " + "; ".join(errors)
            )
        return {"deleted": deleted, "kept": []}


def _tally(event: dict | None, deleted: list[str], errors: list[str]) -> tuple[list[str], list[str]]:
    """Add what a wait for deletions ended with to the running totals."""
    if event is None:
        return deleted, errors + ["the wait for deletions ended without an event"]
    failed = set(event.get("failed_ids", []))
    deleted = deleted + [i for i in event.get("resource_ids", []) if i not in failed]
    if event.get("status") != "success":
        errors = errors + [event.get("message") or str(event)]
    return deleted, errors


def _unique(ids: list[str]) -> list[str]:
    """Each id once (Azure ids compare case-insensitively), in order."""
    seen: dict[str, str] = {}
    for resource_id in ids:
        seen.setdefault(resource_id.lower(), resource_id)
    return list(seen.values())
