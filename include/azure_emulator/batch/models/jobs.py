"""Jobs: a pool to run on and a set of tasks. Deleting removes the tasks; terminating ends them.

A job whose ``onAllTasksComplete`` is ``terminatejob`` reads as completed once all its tasks have
completed (see :func:`.tasks.current_job`).
"""

from __future__ import annotations

from azure_emulator import timeline
from azure_emulator.batch.models import tasks
from azure_emulator.batch.models.common import (
    COMMAND,
    JOBS,
    NAME_VALUES,
    POOLS,
    check_id,
    job_being_deleted,
    job_key,
    job_not_found,
    pool_key,
    touch,
)
from azure_emulator.clock import iso
from azure_emulator.errors import AzureError, batch_invalid_property, batch_missing_property

ON_ALL_TASKS_COMPLETE = ("noaction", "terminatejob")
KEPT = (
    "displayName",
    "priority",
    "maxParallelTasks",
    "allowTaskPreemption",
    "usesTaskDependencies",
    "metadata",
    "commonEnvironmentSettings",
    "jobManagerTask",
    "jobPreparationTask",
    "jobReleaseTask",
    "networkConfiguration",
    "onTaskFailure",
)
# The JSON types of what a job add and terminate are read for (see azure_emulator.shapes).
BODY = {
    "id": str,
    "displayName": str,
    "priority": int,
    "maxParallelTasks": int,
    "allowTaskPreemption": bool,
    "usesTaskDependencies": bool,
    "metadata": NAME_VALUES,
    "commonEnvironmentSettings": NAME_VALUES,
    "jobManagerTask": {**COMMAND, "id": str, "displayName": str, "killJobOnCompletion": bool, "runExclusive": bool},
    "jobPreparationTask": {**COMMAND, "id": str, "waitForSuccess": bool, "rerunOnNodeRebootAfterSuccess": bool},
    "jobReleaseTask": {**COMMAND, "id": str},
    "networkConfiguration": dict,
    "onAllTasksComplete": str,
    "onTaskFailure": str,
    "poolInfo": {"poolId": str, "autoPoolSpecification": dict},
    "constraints": {"maxWallClockTime": str, "maxTaskRetryCount": int},
}
TERMINATE = {"terminateReason": str}


def create(backend, account: str, spec: dict) -> dict:
    job_id = check_id(spec.get("id"))
    pool_info = spec.get("poolInfo") or {}
    if not pool_info.get("poolId"):
        raise batch_missing_property("poolInfo.poolId")
    pool = backend.view(POOLS, pool_key(account, pool_info["poolId"]))
    if pool is None:
        raise batch_invalid_property("poolInfo.poolId", f"The pool '{pool_info['poolId']}' does not exist.")
    on_complete = spec.get("onAllTasksComplete") or "noaction"
    if on_complete not in ON_ALL_TASKS_COMPLETE:
        raise batch_invalid_property(
            "onAllTasksComplete", f"The value must be one of {', '.join(ON_ALL_TASKS_COMPLETE)}."
        )
    key = job_key(account, job_id)
    existing = backend.view(JOBS, key)
    if existing is not None:
        raise (
            job_being_deleted()
            if existing["state"] == "deleting"
            else AzureError("JobExists", "The specified job already exists.")
        )
    now = backend.now()
    doc = {
        "id": job_id,
        "creationTime": iso(now),
        "state": "active",
        "stateTransitionTime": iso(now),
        "priority": 0,
        "maxParallelTasks": -1,
        "allowTaskPreemption": False,
        "usesTaskDependencies": False,
        "constraints": {
            "maxWallClockTime": "P10675199DT2H48M5.4775807S",
            "maxTaskRetryCount": 0,
            **(spec.get("constraints") or {}),
        },
        "poolInfo": {"poolId": pool["id"]},
        "onAllTasksComplete": on_complete,
        "onTaskFailure": "noaction",
        "executionInfo": {"startTime": iso(now), "poolId": pool["id"]},
    }
    doc.update({k: spec[k] for k in KEPT if spec.get(k) is not None})
    touch(doc, now)
    return backend.save(JOBS, key, doc)


def get(backend, account: str, job_id: str) -> dict:
    found = backend.view(JOBS, job_key(account, job_id))
    if found is None:
        raise job_not_found()
    return tasks.current_job(backend, account, found)


def listing(backend, account: str) -> list[dict]:
    return sorted(
        (tasks.current_job(backend, account, j) for j in backend.views(JOBS, f"{account}/")),
        key=lambda j: j["id"].lower(),
    )


def _settled_job(backend, account: str, job_id: str) -> dict:
    """The stored job ready to change, after the same derivation reads apply."""
    doc = backend.settled(JOBS, job_key(account, job_id))
    if doc is None:
        raise job_not_found()
    if doc["state"] == "deleting":
        raise job_being_deleted()
    return tasks.current_job(backend, account, doc)


def delete(backend, account: str, job_id: str) -> None:
    doc = _settled_job(backend, account, job_id)
    now = backend.now()
    tasks.stop_job_tasks(backend, account, doc, now, delete=True)
    timeline.cancel(doc, "state", "stateTransitionTime", "previousState", "previousStateTransitionTime")
    doc.update(
        previousState=doc["state"],
        previousStateTransitionTime=doc["stateTransitionTime"],
        state="deleting",
        stateTransitionTime=iso(now),
    )
    timeline.schedule(doc, now + backend.durations["job_delete"], {timeline.DELETED: True})
    backend.save(JOBS, job_key(account, doc["id"]), doc)


def terminate(backend, account: str, job_id: str, reason: str | None) -> None:
    doc = _settled_job(backend, account, job_id)
    if doc["state"] == "completed":
        raise tasks.job_completed()
    if doc["state"] == "terminating":
        return
    now = backend.now()
    tasks.stop_job_tasks(backend, account, doc, now, delete=False)
    done = now + backend.durations["job_terminate"]
    doc.update(
        previousState=doc["state"],
        previousStateTransitionTime=doc["stateTransitionTime"],
        state="terminating",
        stateTransitionTime=iso(now),
    )
    doc["executionInfo"]["terminateReason"] = reason or "UserTerminate"
    timeline.schedule(
        doc,
        done,
        {
            "state": "completed",
            "stateTransitionTime": iso(done),
            "previousState": "terminating",
            "previousStateTransitionTime": iso(now),
            "executionInfo.endTime": iso(done),
        },
    )
    touch(doc, now)
    backend.save(JOBS, job_key(account, doc["id"]), doc)
