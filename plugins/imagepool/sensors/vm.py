"""Wait for the build script to finish: it powers the build VM off as its last step."""

from __future__ import annotations

from collections.abc import Sequence

from airflow.sdk.exceptions import AirflowSensorTimeout

from imagepool.hooks.vm import VmHook
from imagepool.links.portal import BuildVmLink
from imagepool.operators.base import ImagepoolBaseOperator
from imagepool.operators.vm import vm_name_problems
from imagepool.triggers.vm import BUILD_TIMEOUT_HINT, VmPowerStateTrigger


class AzureBuildVmFinishedSensor(ImagepoolBaseOperator):
    """Wait until the build VM is powered off (stopped or deallocated); return that power state.

    It waits through the same polling loop as the operators, deferred to the triggerer by
    default (a build takes 10-40 minutes) or in the worker with ``deferrable=False``. A failed
    provisioning ends the wait at once with Azure's error code; a build that does not finish in
    ``timeout`` fails, without retries, with where to look (boot diagnostics, the cloud-init log).

    :param vm_name: the build VM (templated).
    :param resource_group_name: resource group (templated); default: the connection's.
    :param timeout: seconds the build may take (default 10800).
    """

    template_fields: Sequence[str] = (*ImagepoolBaseOperator.template_fields, "vm_name", "resource_group_name")
    operator_extra_links = (BuildVmLink(),)
    ui_color = "#e6f1f2"

    def __init__(self, *, vm_name: str, resource_group_name: str | None = None, timeout: float = 10800, **kwargs):
        super().__init__(**kwargs)
        self.vm_name = vm_name
        self.resource_group_name = resource_group_name
        self.timeout = timeout

    def execute(self, context):
        self.reject(vm_name_problems(self.vm_name))
        hook = VmHook(self.azure_conn_id)
        group = hook.resource_group(self.resource_group_name)
        BuildVmLink.persist(context, hook.settings, hook.compute_id(group, "virtualMachines", self.vm_name))
        return self.wait_for(
            context,
            VmPowerStateTrigger(
                resource_group=group, vm_name=self.vm_name, **self.polling(self.timeout, BUILD_TIMEOUT_HINT)
            ),
        )

    def execute_complete(self, context, event=None):
        if event and event.get("status") == "timeout":
            # The spec's limit is the build's: a retry would only wait on the same stuck VM again, so the
            # task fails at once, as Airflow's own sensors do when they time out.
            raise AirflowSensorTimeout(event.get("message"))
        return self.check_event(event)["power_state"]
