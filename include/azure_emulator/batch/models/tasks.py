"""Tasks: booked onto a node of their job's pool when added, run for ``task_run``, then completed.

Booking looks ahead: a node's records say when it becomes usable and which runs it already holds,
so a task is given the earliest free task slot (after ``task_schedule``) on any node that is or
will be idle, and its running and completed states are scheduled on the task's timeline. A task
with nowhere to run (no usable node yet) stays ``active`` until a resize books it. The exit code
is 0, or N when the command line ends with ``exit N``, or the ``task_failed`` fault's exit code.
"""

from __future__ import annotations

import re

from azure_emulator import timeline
from azure_emulator.batch.models import nodes
from azure_emulator.batch.models.common import (
    COMMAND,
    EXIT_OPTIONS,
    JOBS,
    PACKAGES,
    POOLS,
    TASKS,
    check_id,
    job_being_deleted,
    job_key,
    job_not_found,
    pool_key,
    task_key,
    task_not_found,
    touch,
)
from azure_emulator.clock import iso
from azure_emulator.errors import AzureError, batch_invalid_property, batch_missing_property

EXIT = re.compile(r"\bexit\s+(-?\d+)\W*$")
FAILURE = {
    "category": "usererror",
    "code": "FailureExitCode",
    "message": "The task exited with an exit code representing a failure",
}
ENDED = {"category": "usererror", "code": "TaskEnded", "message": "Task Was Ended by User Request"}
# Fields a booking schedules; a requeue or termination cancels what has not happened yet.
BOOKED_FIELDS = (
    "state",
    "stateTransitionTime",
    "previousState",
    "previousStateTransitionTime",
    "executionInfo",
    "nodeInfo",
)
KEPT = (
    "displayName",
    "exitConditions",
    "resourceFiles",
    "outputFiles",
    "environmentSettings",
    "affinityInfo",
    "userIdentity",
    "containerSettings",
    "applicationPackageReferences",
    "multiInstanceSettings",
    "dependsOn",
)
# The JSON types of what a task add is read for (see azure_emulator.shapes).
BODY = {
    **COMMAND,
    "id": str,
    "displayName": str,
    "requiredSlots": int,
    "constraints": {"maxWallClockTime": str, "retentionTime": str, "maxTaskRetryCount": int},
    "exitConditions": {"default": EXIT_OPTIONS, "exitCodes": [{"code": int, "exitOptions": EXIT_OPTIONS}]},
    "outputFiles": [dict],
    "affinityInfo": {"affinityId": str},
    "applicationPackageReferences": PACKAGES,
    "multiInstanceSettings": {"numberOfInstances": int, "coordinationCommandLine": str},
    "dependsOn": {"taskIds": [str], "taskIdRanges": [{"start": int, "end": int}]},
}


def job_completed() -> AzureError:
    return AzureError("JobCompleted", "The specified job is already in a completed state.")


def add(backend, account: str, job_id: str, spec: dict) -> dict:
    task_id = check_id(spec.get("id"))
    job = backend.view(JOBS, job_key(account, job_id))
    if job is None:
        raise job_not_found()
    job = current_job(backend, account, job)
    if job["state"] == "deleting":
        raise job_being_deleted()
    if job["state"] in ("terminating", "completed"):
        raise job_completed()
    command = spec.get("commandLine")
    if not command:
        raise batch_missing_property("commandLine")
    slots = spec.get("requiredSlots", 1)
    if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
        raise batch_invalid_property("requiredSlots", "The number of required slots must be at least 1.")
    key = task_key(account, job["id"], task_id)
    if backend.view(TASKS, key) is not None:
        raise AzureError("TaskExists", "The specified task already exists.")
    now = backend.now()
    rule = backend.faults.take("task_failed", job=job["id"], task=task_id)
    matched = EXIT.search(command.strip())
    exit_code = int(rule.get("exit_code", 1)) if rule else int(matched.group(1)) if matched else 0
    doc = {
        "id": task_id,
        "creationTime": iso(now),
        "state": "active",
        "stateTransitionTime": iso(now),
        "commandLine": command,
        "requiredSlots": slots,
        "constraints": {
            "maxWallClockTime": "P10675199DT2H48M5.4775807S",
            "retentionTime": "P7D",
            "maxTaskRetryCount": 0,
            **(spec.get("constraints") or {}),
        },
        "executionInfo": {"retryCount": 0, "requeueCount": 0},
        "_job": job["id"],
        "_pool": job["poolInfo"]["poolId"],
        "_exitCode": exit_code,
        "_queued": now,
        "_placement": None,
    }
    doc.update({k: spec[k] for k in KEPT if spec.get(k) is not None})
    touch(doc, now)
    pool = backend.settled(POOLS, pool_key(account, doc["_pool"]))
    if pool is not None and pool["state"] == "active":
        _book(backend, pool, doc, now)
        backend.save(POOLS, pool_key(account, pool["id"]), pool)
    return backend.save(TASKS, key, doc)


def current_job(backend, account: str, job: dict) -> dict:
    """The job with ``terminatejob`` completion applied: derived when read, since tasks complete on
    their own timelines. ``job`` is not changed (it may be a view); a completed job is a new document.
    """
    if job["state"] != "active" or job["onAllTasksComplete"] != "terminatejob":
        return job
    found = backend.views(TASKS, task_key(account, job["id"], ""))
    if not found or any(t["state"] != "completed" for t in found):
        return job
    ended = max(t["stateTransitionTime"] for t in found)
    return dict(
        job,
        state="completed",
        previousState="active",
        previousStateTransitionTime=job["stateTransitionTime"],
        stateTransitionTime=ended,
        executionInfo=dict(job["executionInfo"], endTime=ended, terminateReason="AllTasksComplete"),
    )


def get(backend, account: str, job_id: str, task_id: str) -> dict:
    if backend.view(JOBS, job_key(account, job_id)) is None:
        raise job_not_found()
    found = backend.view(TASKS, task_key(account, job_id, task_id))
    if found is None:
        raise task_not_found()
    return found


def listing(backend, account: str, job_id: str) -> list[dict]:
    if backend.view(JOBS, job_key(account, job_id)) is None:
        raise job_not_found()
    return sorted(backend.views(TASKS, task_key(account, job_id, "")), key=lambda t: (t["_queued"], t["id"]))


# --- booking ---------------------------------------------------------------------------------------


def _usage(node: dict, at: float) -> int:
    return sum(run["slots"] for run in nodes.runs(node) if run["start"] <= at < run["end"])


def _earliest_start(node: dict, now: float, slots: int, need: int, delay: float, length: float) -> float | None:
    usable = nodes.available_from(node)
    if usable is None:
        return None
    first = max(usable, now) + delay
    booked = nodes.runs(node)
    for start in sorted({first} | {run["end"] for run in booked if run["end"] > first}):
        checkpoints = [start] + [run["start"] for run in booked if start < run["start"] < start + length]
        if all(_usage(node, at) + need <= slots for at in checkpoints):
            return start
    return None


def _book(backend, pool: dict, task: dict, now: float) -> bool:
    """Book ``task`` on the node of ``pool`` that can start it first; False if none ever can."""
    slots = pool["taskSlotsPerNode"]
    delay, length = backend.durations["task_schedule"], backend.durations["task_run"]
    pack = pool.get("taskSchedulingPolicy", {}).get("nodeFillType") == "pack"
    best = None
    for index, node in enumerate(pool.get("_nodes", [])):
        start = _earliest_start(node, now, slots, task["requiredSlots"], delay, length)
        if start is None:
            continue
        load = sum(1 for run in nodes.runs(node) if run["end"] > start)
        rank = (start, -load if pack else load, index)
        if best is None or rank < best[0]:
            best = (rank, node, start)
    if best is None:
        return False
    _, node, start = best
    end = start + length
    code = task["_exitCode"]
    node.setdefault("tasks", []).append(
        {
            "job": task["_job"],
            "task": task["id"],
            "start": start,
            "end": end,
            "exitCode": code,
            "slots": task["requiredSlots"],
        }
    )
    task["_placement"] = {"node": node["id"], "start": start, "end": end}
    timeline.schedule(
        task,
        start,
        {
            "state": "running",
            "stateTransitionTime": iso(start),
            "previousState": "active",
            "previousStateTransitionTime": task["stateTransitionTime"],
            "executionInfo.startTime": iso(start),
            "nodeInfo": {
                "affinityId": f"TVM:{node['id']}",
                "poolId": pool["id"],
                "nodeId": node["id"],
                "taskRootDirectory": f"workitems/{task['_job']}/job-1/{task['id']}",
            },
        },
    )
    finished = {
        "state": "completed",
        "stateTransitionTime": iso(end),
        "previousState": "running",
        "previousStateTransitionTime": iso(start),
        "executionInfo.endTime": iso(end),
        "executionInfo.exitCode": code,
        "executionInfo.result": "success" if code == 0 else "failure",
    }
    if code != 0:
        finished["executionInfo.failureInfo"] = FAILURE
    timeline.schedule(task, end, finished)
    return True


def book_waiting(backend, account: str, pool: dict, now: float) -> None:
    """Book the tasks waiting for ``pool`` (oldest first) onto its nodes; the caller saves the pool."""
    active_jobs = {j["id"] for j in backend.views(JOBS, f"{account}/") if j["state"] == "active"}
    waiting = [
        t
        for t in backend.views(TASKS, f"{account}/")
        if t["_job"] in active_jobs
        and t["_pool"].lower() == pool["id"].lower()
        and t["_placement"] is None
        and t["state"] == "active"
    ]
    for found in sorted(waiting, key=lambda t: (t["_queued"], t["id"])):
        key = task_key(account, found["_job"], found["id"])
        task = backend.settled(TASKS, key)
        if _book(backend, pool, task, now):
            backend.save(TASKS, key, task)


def _unbook(node: dict | None, task: dict, now: float) -> None:
    """Take the task's run off its node: a run that started ends now, a future one disappears."""
    if node is None:
        return
    for run in list(nodes.runs(node)):
        if run["job"] == task["_job"] and run["task"] == task["id"] and run["end"] > now:
            if run["start"] <= now:
                run.update(end=now, exitCode=None)
            else:
                node["tasks"].remove(run)


def _stop(backend, account: str, pool: dict | None, task_ref: tuple[str, str], now: float, *, terminate: bool) -> None:
    """Take a task that has not completed by ``now`` off its node: back to ``active`` and unbooked, or
    (``terminate``) completed as ended by the user if it was running.
    """
    key = task_key(account, *task_ref)
    task = backend.settled(TASKS, key)
    if task is None or task["state"] == "completed":
        return
    node = next(
        (n for n in (pool or {}).get("_nodes", []) if task["_placement"] and n["id"] == task["_placement"]["node"]),
        None,
    )
    _unbook(node, task, now)
    timeline.cancel(task, *BOOKED_FIELDS)
    was, info = task["state"], task["executionInfo"]
    task["_placement"] = None
    task["nodeInfo"] = None
    if terminate and was == "running":
        task.update(
            state="completed",
            previousState=was,
            previousStateTransitionTime=task["stateTransitionTime"],
            stateTransitionTime=iso(now),
        )
        info.update(endTime=iso(now), result="failure", failureInfo=ENDED)
    elif was == "running":
        task.update(
            state="active",
            previousState=was,
            previousStateTransitionTime=task["stateTransitionTime"],
            stateTransitionTime=iso(now),
        )
        info.pop("startTime", None)
        info.update(requeueCount=info.get("requeueCount", 0) + 1, lastRequeueTime=iso(now))
    backend.save(TASKS, key, task)


def evict(backend, account: str, pool: dict, node: dict, now: float, *, terminate: bool, keep_running: bool) -> None:
    """Move a leaving node's tasks off it: those not started are requeued; running ones are requeued,
    terminated, or (``keep_running``) left to finish. The caller books the requeued ones again.
    """
    for run in list(nodes.runs(node)):
        if run["end"] <= now or (keep_running and run["start"] <= now):
            continue
        _stop(backend, account, pool, (run["job"], run["task"]), now, terminate=terminate)


def stop_job_tasks(backend, account: str, job: dict, now: float, *, delete: bool) -> None:
    """End a job's running tasks and unbook the others (job terminate: they stay active and are not
    scheduled any more), or delete them all (job delete).
    """
    pool_id = job["poolInfo"]["poolId"]
    pool = backend.settled(POOLS, pool_key(account, pool_id))
    for task in backend.views(TASKS, task_key(account, job["id"], "")):
        _stop(backend, account, pool, (job["id"], task["id"]), now, terminate=True)
        if delete:
            doomed = backend.settled(TASKS, task_key(account, job["id"], task["id"]))
            doomed[timeline.DELETED] = True
            backend.save(TASKS, task_key(account, job["id"], task["id"]), doomed)
    if pool is not None:
        backend.save(POOLS, pool_key(account, pool_id), pool)
