"""Jobs and tasks (the pipeline's smoke test) through the real azure-batch clients over HTTPS."""

from __future__ import annotations

import contextlib

import pytest
from azure.batch import models as bm
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from tests.integration import clients
from tests.integration.emulator.batch_support import POLL, counts, error_values, marketplace_pool, resize, wait_until


def job(job_id: str, pool_id: str, **options) -> bm.BatchJobCreateOptions:
    return bm.BatchJobCreateOptions(id=job_id, pool_info=bm.BatchPoolInfo(pool_id=pool_id), **options)


def task(task_id: str, command: str = "/bin/bash -c 'python3 -c \"import tool\"'") -> bm.BatchTaskCreateOptions:
    return bm.BatchTaskCreateOptions(id=task_id, command_line=command)


def completed(client, job_id: str, task_id: str):
    return wait_until(lambda: (t := client.get_task(job_id, task_id)).state == "completed" and t)


@pytest.fixture
def jobs(batch):
    made = []
    yield made
    for job_id in made:
        with contextlib.suppress(HttpResponseError):
            batch.begin_delete_job(job_id, polling_interval=POLL).result()


def test_smoke_job_succeeds(batch, pools, jobs, control):
    control.patch("/durations", json={"pool_allocation_start": 300})  # the task is added before the node is idle
    pools.add(batch, marketplace_pool("smoke", 1))
    batch.create_job(job("smoke_job", "smoke"))
    jobs.append("smoke_job")
    created = batch.get_job("smoke_job")
    assert (created.state, created.pool_info.pool_id, created.url.endswith("/jobs/smoke_job")) == (
        "active",
        "smoke",
        True,
    )
    assert "smoke_job" in [j.id for j in batch.list_jobs()]
    batch.create_task("smoke_job", task("check"))
    assert batch.get_task("smoke_job", "check").state == "active"  # the node is not idle yet
    done = completed(batch, "smoke_job", "check")
    info = done.execution_info
    assert (info.exit_code, info.result, info.failure_info) == (0, "success", None)
    assert info.start_time < info.end_time
    node = next(iter(batch.list_nodes("smoke")))
    assert (done.node_info.pool_id, done.node_info.node_id) == ("smoke", node.id)
    assert done.node_info.node_url.endswith(f"/pools/smoke/nodes/{node.id}")
    assert (node.total_tasks_run, node.total_tasks_succeeded, node.state) == (1, 1, "idle")
    assert [t.id for t in batch.list_tasks("smoke_job")] == ["check"]

    poller = batch.begin_delete_job("smoke_job", polling_interval=POLL)
    poller.result()
    with pytest.raises(ResourceNotFoundError) as err:
        batch.get_job("smoke_job")
    assert err.value.error.code == "JobNotFound"


def test_failing_tasks_report_their_exit_code(batch, pools, jobs, control):
    pools.add(batch, marketplace_pool("failing", 2))
    batch.create_job(job("failing_job", "failing"))
    jobs.append("failing_job")
    control.post(
        "/faults", json={"kind": "task_failed", "match": {"job": "^failing_job$", "task": "^faulted$"}, "exit_code": 42}
    )
    batch.create_task("failing_job", task("exits", "/bin/bash -c 'test -x /opt/tool || exit 3'"))
    batch.create_task("failing_job", task("faulted"))
    for task_id, code in (("exits", 3), ("faulted", 42)):
        info = completed(batch, "failing_job", task_id).execution_info
        assert (info.exit_code, info.result, info.failure_info.code) == (code, "failure", "FailureExitCode")
    assert {t.id: t.execution_info.result for t in batch.list_tasks("failing_job", filter="state eq 'completed'")} == {
        "exits": "failure",
        "faulted": "failure",
    }


def test_task_waits_until_a_node_is_idle(batch, pools, jobs):
    pools.add(batch, marketplace_pool("empty", 0))
    batch.create_job(job("waiting_job", "empty"))
    jobs.append("waiting_job")
    batch.create_task("waiting_job", task("patient"))
    wait_until(lambda: batch.get_pool("empty").allocation_state == "steady")
    assert batch.get_task("waiting_job", "patient").state == "active"  # no node at all
    resize(batch, "empty", 1)
    assert completed(batch, "waiting_job", "patient").execution_info.exit_code == 0


def test_unusable_nodes_run_no_tasks(batch, pools, jobs, control):
    control.post("/faults", json={"kind": "unusable_nodes", "match": {"pool": "^broken$"}, "fraction": 1})
    pools.add(batch, marketplace_pool("broken", 1))
    batch.create_job(job("broken_job", "broken"))
    jobs.append("broken_job")
    batch.create_task("broken_job", task("stuck"))
    wait_until(lambda: counts(batch, "broken")[0] == {"unusable": 1, "total": 1})
    assert batch.get_task("broken_job", "stuck").state == "active"


def test_job_and_task_rules(batch, pools, jobs, control):
    pools.add(batch, marketplace_pool("rules", 1))
    with pytest.raises(HttpResponseError) as err:
        batch.create_job(job("orphan", "no_such_pool"))
    assert (err.value.status_code, error_values(err.value)["PropertyName"]) == (400, "poolInfo.poolId")
    batch.create_job(job("rules_job", "rules"))
    jobs.append("rules_job")
    with pytest.raises(ResourceExistsError) as err:
        batch.create_job(job("RULES_JOB", "rules"))
    assert err.value.error.code == "JobExists"
    batch.create_task("rules_job", task("once"))
    with pytest.raises(ResourceExistsError) as err:
        batch.create_task("rules_job", task("once"))
    assert err.value.error.code == "TaskExists"
    with pytest.raises(HttpResponseError) as err:
        batch.create_task("rules_job", task("bad id!"))
    assert err.value.error.code == "InvalidPropertyValue"
    with pytest.raises(ResourceNotFoundError) as err:
        batch.create_task("no_such_job", task("t"))
    assert err.value.error.code == "JobNotFound"
    with pytest.raises(ResourceNotFoundError) as err:
        batch.get_task("rules_job", "never")
    assert err.value.error.code == "TaskNotFound"

    control.patch("/durations", json={"job_delete": 600})
    batch.begin_delete_job("rules_job")
    assert batch.get_job("rules_job").state == "deleting"
    with pytest.raises(ResourceExistsError) as err:
        batch.create_task("rules_job", task("late"))
    assert err.value.error.code == "JobBeingDeleted"
    with pytest.raises(ResourceNotFoundError):
        batch.get_task("rules_job", "once")  # deleting a job removes its tasks


def test_terminate_job(batch, pools, jobs):
    pools.add(batch, marketplace_pool("terminated", 1))
    batch.create_job(job("terminated_job", "terminated"))
    jobs.append("terminated_job")
    # azure-batch 15.1.0 cannot send a terminate request without options (it fails building the header).
    batch.begin_terminate_job("terminated_job", {"terminateReason": "superseded"}, polling_interval=POLL).result()
    ended = batch.get_job("terminated_job")
    assert (ended.state, ended.execution_info.termination_reason) == ("completed", "superseded")
    with pytest.raises(ResourceExistsError) as err:
        batch.create_task("terminated_job", task("late"))
    assert err.value.error.code == "JobCompleted"


def test_job_ends_itself_when_all_tasks_complete(batch, pools, jobs):
    pools.add(batch, marketplace_pool("self_ending", 1))
    batch.create_job(job("self_ending_job", "self_ending", all_tasks_complete_mode="terminatejob"))
    jobs.append("self_ending_job")
    batch.create_task("self_ending_job", task("only"))
    ended = wait_until(lambda: (j := batch.get_job("self_ending_job")).state == "completed" and j)
    assert ended.execution_info.termination_reason == "AllTasksComplete"


async def test_async_smoke_job(info, batch, pools, jobs):
    pools.add(batch, marketplace_pool("async_smoke", 1))
    async with clients.async_credential(info) as credential, clients.async_batch(info, credential) as client:
        await client.create_job(job("async_smoke_job", "async_smoke"))
        jobs.append("async_smoke_job")
        await client.create_task("async_smoke_job", task("check", "/bin/bash -c 'exit 0'"))
        assert [t.id async for t in client.list_tasks("async_smoke_job")] == ["check"]
    assert completed(batch, "async_smoke_job", "check").execution_info.result == "success"
