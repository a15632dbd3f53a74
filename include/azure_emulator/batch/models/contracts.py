"""The request bodies Batch reads, by the contract its OData reader deserializes them into: the property
names each contract has (those of the azure-batch 15.1 models for api-version 2025-06-01). The reader
refuses any other property with the contract's type name; the emulator names Batch's protocol entities.
"""

from __future__ import annotations

from dataclasses import dataclass

ENTITIES = "Microsoft.Azure.Batch.Protocol.Entities"


@dataclass(frozen=True)
class Contract:
    type_name: str
    members: frozenset[str]
    # Properties earlier api-versions had and 2025-06-01 dropped (certificates, Cloud Services pools...): taken
    # from a caller speaking an earlier version, and not applied.
    retired: frozenset[str] = frozenset()

    @property
    def qualified_name(self) -> str:
        return f"{ENTITIES}.{self.type_name}"


_POOL_COMMON = {
    "applicationPackageReferences",
    "displayName",
    "enableInterNodeCommunication",
    "metadata",
    "mountConfiguration",
    "networkConfiguration",
    "startTask",
    "taskSchedulingPolicy",
    "taskSlotsPerNode",
    "upgradePolicy",
    "userAccounts",
    "virtualMachineConfiguration",
    "vmSize",
}
POOL_ADD = Contract(
    "PoolAddParameter",
    frozenset(
        _POOL_COMMON
        | {
            "id",
            "resizeTimeout",
            "targetDedicatedNodes",
            "targetLowPriorityNodes",
            "enableAutoScale",
            "autoScaleFormula",
            "autoScaleEvaluationInterval",
        }
    ),
    frozenset(
        {
            "certificateReferences",
            "applicationLicenses",
            "resourceTags",
            "targetNodeCommunicationMode",
            "cloudServiceConfiguration",
        }
    ),
)
POOL_PATCH = Contract(
    "PoolPatchParameter", frozenset(_POOL_COMMON), frozenset({"certificateReferences", "targetNodeCommunicationMode"})
)
POOL_UPDATE_PROPERTIES = Contract(
    "PoolUpdatePropertiesParameter",
    frozenset({"applicationPackageReferences", "metadata", "startTask"}),
    frozenset({"certificateReferences", "targetNodeCommunicationMode"}),
)
POOL_RESIZE = Contract(
    "PoolResizeParameter",
    frozenset({"nodeDeallocationOption", "resizeTimeout", "targetDedicatedNodes", "targetLowPriorityNodes"}),
)
JOB_ADD = Contract(
    "JobAddParameter",
    frozenset(
        {
            "allowTaskPreemption",
            "commonEnvironmentSettings",
            "constraints",
            "displayName",
            "id",
            "jobManagerTask",
            "jobPreparationTask",
            "jobReleaseTask",
            "maxParallelTasks",
            "metadata",
            "networkConfiguration",
            "onAllTasksComplete",
            "onTaskFailure",
            "poolInfo",
            "priority",
            "usesTaskDependencies",
        }
    ),
)
JOB_TERMINATE = Contract("JobTerminateParameter", frozenset({"terminateReason"}))
TASK_ADD = Contract(
    "TaskAddParameter",
    frozenset(
        {
            "affinityInfo",
            "applicationPackageReferences",
            "commandLine",
            "constraints",
            "containerSettings",
            "dependsOn",
            "displayName",
            "environmentSettings",
            "exitConditions",
            "id",
            "multiInstanceSettings",
            "outputFiles",
            "requiredSlots",
            "resourceFiles",
            "userIdentity",
        }
    ),
)
