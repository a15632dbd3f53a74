"""Wait for a build VM to power itself off: its build script's last step, so "stopped" means "built"."""

from __future__ import annotations

from typing import Any

from imagepool.hooks.vm import POWERED_OFF, VmHook, VmState
from imagepool.triggers.base import AzurePollingTrigger, Poll

BUILD_TIMEOUT_HINT = (
    "The build did not power the VM off in time. Look at the VM's boot diagnostics and serial console in the "
    "portal, and at /var/log/cloud-init-output.log on Linux (C:\\AzureData\\build.log on Windows); the build "
    "script's last command must deprovision and power off (waagent -force -deprovision+user && shutdown -h now; "
    "Sysprep /generalize /oobe /shutdown). Keep the VM for debugging with the cleanup task's keep flag."
)


def power_state_poll(vm_name: str, state: VmState | None) -> Poll:
    """What the build VM's state means for the wait (the state table, as one pure function)."""
    if state is None:
        return Poll.waiting(f"build VM {vm_name}: not found (yet)")
    if state.error_code:
        return Poll.failed(
            f"build VM {vm_name}: provisioning failed: Azure error {state.error_code}: "
            f"{state.error_message or ''} -> check the image, size and build script; delete the VM "
            "(the cleanup task) before building again",
            code=state.error_code,
            power_state=state.power,
        )
    if state.power in POWERED_OFF:
        return Poll.done(f"build VM {vm_name}: {state.power}; the build script has finished", power_state=state.power)
    return Poll.waiting(
        f"build VM {vm_name}: provisioning {state.provisioning or 'unknown'}, power "
        f"{state.power or 'unknown'}; the build is running"
    )


class VmPowerStateTrigger(AzurePollingTrigger):
    """Poll a build VM's instance view until it is powered off (stopped or deallocated).

    :param resource_group: the VM's resource group.
    :param vm_name: the build VM.
    """

    hook_class = VmHook

    def __init__(self, *, resource_group: str, vm_name: str, **kwargs):
        super().__init__(**kwargs)
        self.resource_group = resource_group
        self.vm_name = vm_name

    def _kwargs(self) -> dict[str, Any]:
        return {"resource_group": self.resource_group, "vm_name": self.vm_name}

    async def poll(self, hook: VmHook) -> Poll:
        return power_state_poll(self.vm_name, await hook.vm_state(self.resource_group, self.vm_name))
