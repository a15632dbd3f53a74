"""What every Batch model shares: stored kinds and keys, id rules, ETags and Batch's not-found errors.

Batch ids are case-insensitive and case-preserving: documents are keyed by the lower-cased
``account/id`` (the store lower-cases keys) and keep the caller's spelling inside.
"""

from __future__ import annotations

import re

from azure_emulator.clock import iso
from azure_emulator.errors import AzureError, batch_invalid_property, batch_missing_property

POOLS = "batch/pools"
JOBS = "batch/jobs"
TASKS = "batch/tasks"

ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# JSON types of parts of request bodies several models keep (see azure_emulator.shapes).
NAME_VALUES = [{"name": str, "value": str}]
PACKAGES = [{"applicationId": str, "version": str}]
EXIT_OPTIONS = {"jobAction": str, "dependencyAction": str}
# What every kind of task (a pool's start task, a job's manager, preparation and release tasks, a task) runs.
COMMAND = {
    "commandLine": str,
    "environmentSettings": NAME_VALUES,
    "resourceFiles": [dict],
    "userIdentity": {"userName": str, "autoUser": {"scope": str, "elevationLevel": str}},
    "containerSettings": {
        "imageName": str,
        "containerRunOptions": str,
        "workingDirectory": str,
        "registry": {"registryServer": str, "username": str, "password": str},
    },
}

# .NET ticks at the Unix epoch: Batch ETags are hex tick counts ("0x8D413091E739A56").
_EPOCH_TICKS = 621355968000000000


def pool_key(account: str, pool_id: str) -> str:
    return f"{account}/{pool_id}"


def job_key(account: str, job_id: str) -> str:
    return f"{account}/{job_id}"


def task_key(account: str, job_id: str, task_id: str) -> str:
    return f"{account}/{job_id}/{task_id}"


def check_id(value: str | None, prop: str = "id") -> str:
    """An id as Batch accepts it: up to 64 letters, digits, hyphens and underscores."""
    if not value:
        raise batch_missing_property(prop)
    if not ID.match(value):
        raise batch_invalid_property(
            prop,
            "The id can contain any combination of alphanumeric characters "
            "including hyphens and underscores, and cannot contain more than 64 "
            "characters.",
        )
    return value


def etag(at: float) -> str:
    return f"0x{int(at * 10_000_000) + _EPOCH_TICKS:X}"


def touch(doc: dict, now: float) -> None:
    """Record a change made by the caller (not a scheduled state transition)."""
    doc["lastModified"] = iso(now)
    doc["eTag"] = etag(now)


def pool_not_found() -> AzureError:
    return AzureError("PoolNotFound", "The specified pool does not exist.")


def job_not_found() -> AzureError:
    return AzureError("JobNotFound", "The specified job does not exist.")


def task_not_found() -> AzureError:
    return AzureError("TaskNotFound", "The specified task does not exist.")


def node_not_found() -> AzureError:
    return AzureError("NodeNotFound", "The specified node does not exist.")


def pool_being_deleted() -> AzureError:
    return AzureError("PoolBeingDeleted", "The specified pool has been marked for deletion and is being reclaimed.")


def job_being_deleted() -> AzureError:
    return AzureError(
        "JobBeingDeleted", "The specified job has been marked for deletion and is being garbage collected."
    )


def invalid_state(reason: str) -> AzureError:
    return AzureError(
        "OperationInvalidForCurrentState",
        "The specified operation is not valid for the current state of the resource.",
        values=[("Reason", reason)],
    )
