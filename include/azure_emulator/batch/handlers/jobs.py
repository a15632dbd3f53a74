"""Jobs (add, get, list, delete, terminate) and their tasks (add, get, list)."""

from __future__ import annotations

from azure_emulator.batch.handlers.common import (
    ACCOUNT,
    account,
    account_url,
    body,
    changed_headers,
    created,
    entity,
    listing,
    public,
    resource_headers,
    respond,
)
from azure_emulator.batch.handlers.pools import pool_url
from azure_emulator.batch.models import contracts, jobs as job_model, tasks as task_model
from azure_emulator.routing import NAME, Call

JOBS = rf"{ACCOUNT}/jobs"
JOB = rf"{JOBS}/(?P<job>{NAME})"
TASKS = rf"{JOB}/tasks"
TASK = rf"{TASKS}/(?P<task>{NAME})"


def job_url(call: Call, job_id: str) -> str:
    return f"{account_url(call)}/jobs/{job_id}"


def task_url(call: Call, job_id: str, task_id: str) -> str:
    return f"{job_url(call, job_id)}/tasks/{task_id}"


def serialize_job(call: Call, doc: dict) -> dict:
    return {**public(doc), "url": job_url(call, doc["id"])}


def serialize_task(call: Call, doc: dict) -> dict:
    out = {**public(doc), "url": task_url(call, doc["_job"], doc["id"])}
    if "nodeInfo" in out:
        node_url = f"{pool_url(call, out['nodeInfo']['poolId'])}/nodes/{out['nodeInfo']['nodeId']}"
        out["nodeInfo"] = {
            **out["nodeInfo"],
            "nodeUrl": node_url,
            "taskRootDirectoryUrl": f"{node_url}/files/{out['nodeInfo']['taskRootDirectory']}",
        }
    return out


async def create_job(call: Call):
    doc = job_model.create(call.backend, account(call), body(call, job_model.BODY, contracts.JOB_ADD))
    return created(doc, job_url(call, doc["id"]))


async def get_job(call: Call):
    doc = job_model.get(call.backend, account(call), call.params["job"])
    return entity(call, serialize_job(call, doc), "jobs", resource_headers(doc))


async def list_jobs(call: Call):
    return listing(call, [serialize_job(call, doc) for doc in job_model.listing(call.backend, account(call))], "jobs")


async def delete_job(call: Call):
    job_model.delete(call.backend, account(call), call.params["job"])
    return respond(None, 202)


async def terminate_job(call: Call):
    reason = body(call, job_model.TERMINATE, contracts.JOB_TERMINATE, required=False).get("terminateReason")
    job_model.terminate(call.backend, account(call), call.params["job"], reason)
    doc = job_model.get(call.backend, account(call), call.params["job"])
    return respond(None, 202, changed_headers(doc, job_url(call, doc["id"])))


async def create_task(call: Call):
    doc = task_model.add(
        call.backend, account(call), call.params["job"], body(call, task_model.BODY, contracts.TASK_ADD)
    )
    return created(doc, task_url(call, doc["_job"], doc["id"]))


async def get_task(call: Call):
    doc = task_model.get(call.backend, account(call), call.params["job"], call.params["task"])
    return entity(call, serialize_task(call, doc), "tasks", resource_headers(doc))


async def list_tasks(call: Call):
    found = task_model.listing(call.backend, account(call), call.params["job"])
    return listing(call, [serialize_task(call, doc) for doc in found], "tasks")


ROUTES = [
    ("POST", JOBS, create_job),
    ("GET", JOBS, list_jobs),
    ("GET", JOB, get_job),
    ("DELETE", JOB, delete_job),
    ("POST", rf"{JOB}/terminate", terminate_job),
    ("POST", TASKS, create_task),
    ("GET", TASKS, list_tasks),
    ("GET", TASK, get_task),
]
