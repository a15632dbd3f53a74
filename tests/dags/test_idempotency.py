"""Running the pipeline's tasks again converges: after a run succeeded, and after tries that died between
Azure taking a write and the task hearing back. Same resources, nothing twice, no second image version.
"""

from __future__ import annotations

import re
from unittest import mock

from tests.dags.conftest import PipelineRun, _recorded

VERSION = "1.0.0"
POOLS = {"imagepoolbatch": ["render-we-1-0-0"], "imagepoolbatchne": ["render-ne-1-0-0"]}
BUILD_VM = "ipb-ubuntu-batch-1-0-0"


def inventory(cloud) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """Every ARM resource (kind, id) and every Batch pool: what a converged run leaves."""
    return sorted((r["kind"], r["id"]) for r in cloud.resources()), cloud.pools()


def run_again(pipeline, finished: PipelineRun, keep: str = "plan") -> PipelineRun:
    """The ``finished`` run with every task but ``keep`` cleared and run again, in that same run
    (its XComs kept), the way ``dag.test()`` runs tasks: in this process, triggers inline.

    ``dag.test()`` replaces the run at a logical date with a new one; here it is handed the existing run
    instead. ``keep`` (the plan) is marked done without running: its decision is the run's input, and
    planning again after a finished build decides a different run (nothing to build), which
    test_pipeline_runs covers.
    """
    from airflow.models import DagRun, dagrun as dagrun_module
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from sqlalchemy import select

    from imagepool.pipeline import pipeline_dag

    dag = pipeline_dag(pipeline.spec_path)
    same = select(DagRun).where(DagRun.dag_id == dag.dag_id, DagRun.run_id == finished.run_id)
    with create_session() as session:
        logical_date, run_after = session.execute(same.with_only_columns(DagRun.logical_date, DagRun.run_after)).one()

    def the_same_run(*, dag, session, **_):
        run = session.scalars(same).one()
        run.dag, run.state = dag, DagRunState.RUNNING
        session.commit()
        return run

    first_request = pipeline.cloud.last_request_id()
    pipeline.capture.readouterr()
    with mock.patch.object(dagrun_module, "get_or_create_dagrun", the_same_run):
        dag.test(logical_date=logical_date, run_after=run_after, mark_success_pattern=keep)
    output = pipeline.capture.readouterr()
    return _recorded(dag.dag_id, finished.run_id, pipeline.cloud.requests_since(first_request), output.out + output.err)


def writes(run: PipelineRun, path: str) -> list[tuple[str, int, str | None]]:
    """The run's requests that could change something at ``path`` (a regular expression): method, status, fault."""
    return [
        (r["method"], r["status"], r["fault"])
        for r in run.requests
        if r["method"] in ("PUT", "POST", "PATCH", "DELETE") and re.search(path, r["path"], re.IGNORECASE)
    ]


def test_running_every_task_of_a_finished_run_again_changes_nothing(pipeline):
    cloud = pipeline.cloud
    first = pipeline.run()
    assert first.state == "success", first.failed_tasks()
    before = inventory(cloud)

    again = run_again(pipeline, first)

    assert again.state == "success", again.failed_tasks()
    ran_before = sorted(task for task, state in first.tasks.items() if state == "success" and task != "plan")
    assert {task: again.tasks[task] for task in ran_before} == {task: "success" for task in ran_before}
    assert {task: again.tries[task] for task in ran_before} == {task: first.tries[task] + 1 for task in ran_before}
    assert inventory(cloud) == before
    cloud.assert_nothing_leaked(versions=[VERSION], pools=POOLS)
    # The version and the pools were found and reused: no write to them was accepted.
    assert [w for w in writes(again, r"/versions/|/pools(/|$)") if 200 <= w[1] < 300] == []


# Tries that die after Azure applied their write: the first attempt is applied and its answer lost, and the
# SDK's own retries of an idempotent PUT (3 for a lost answer) are lost before Azure sees them, so the try
# fails and Airflow's retry has to find what the dead try started. A POST is not retried by the SDK.
ARM_PUT_RETRIES = 3
CRASHES = {
    "image.create_build_vm": ("arm", "PUT", rf"/virtualMachines/{BUILD_VM}$"),
    "image.snapshot[0]": ("arm", "PUT", rf"/snapshots/{BUILD_VM}-osdisk-[^/]+$"),
    "image.managed_image": ("arm", "PUT", r"/images/ubuntu-batch-1-0-0$"),
    "image.publish_version": ("arm", "PUT", rf"/versions/{re.escape(VERSION)}$"),
    "region_westeurope.pool_render-we.create": ("batch", "POST", r"/batch/imagepoolbatch/pools$"),
    "region_westeurope.pool_render-we.smoke": ("batch", "POST", r"/batch/imagepoolbatch/jobs$"),
}
# A smoke try that fails once its task is added deletes its job on the way out (a job is never left behind),
# so its retry runs the check afresh in a new job.
SMOKE_TASK_CRASH = (
    "region_northeurope.pool_render-ne.smoke",
    ("batch", "POST", r"/batch/imagepoolbatchne/jobs/[^/]+/tasks$"),
)
SMOKE_JOB_NE = r"/batch/imagepoolbatchne/jobs(/smoke-render-ne-1-0-0)?$"


def crash_after_the_write(cloud, service: str, method: str, path: str) -> None:
    match = {"service": service, "method": method, "path": path}
    cloud.fault({"kind": "drop", "applied": True, "count": 1, "match": match})
    if method == "PUT":
        cloud.fault({"kind": "drop", "count": ARM_PUT_RETRIES, "match": match})


def test_tries_that_died_after_their_write_are_retried_onto_what_they_started(pipeline):
    cloud = pipeline.cloud
    crashes = dict([*CRASHES.items(), SMOKE_TASK_CRASH])
    for service, method, path in crashes.values():
        crash_after_the_write(cloud, service, method, path)

    run = pipeline.run()

    assert run.state == "success", run.failed_tasks()
    assert cloud.control.get("/faults").json()["value"] == []  # every crash happened
    assert {task: run.tries[task] for task in crashes} == {task: 2 for task in crashes}
    for task, (_, method, path) in CRASHES.items():
        lost = [(method, 0, "drop")] * (1 + (ARM_PUT_RETRIES if method == "PUT" else 0))
        # The retry found what the dead try started: Azure accepted no second write (only the clean-up's delete).
        assert writes(run, path)[: len(lost)] == lost, task
        assert [w for w in writes(run, path)[len(lost) :] if 200 <= w[1] < 300 and w[0] != "DELETE"] == [], task
    assert [(method, status) for method, status, _ in writes(run, SMOKE_JOB_NE)] == [
        ("POST", 201),
        ("DELETE", 202),
        ("POST", 201),
        ("DELETE", 202),
    ]
    cloud.assert_nothing_leaked(versions=[VERSION], pools=POOLS)
