"""A run triggered through Airflow's REST API, carried out by the real scheduler, LocalExecutor workers
and triggerer: its waits are deferred to the triggerer and resumed from there, and the pool size the
run was triggered with is what Azure (the emulator) ends up with.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest

from tests.e2e.conftest import DAG_ID, RUN_TIMEOUT, TEST_TIMEOUT
from tests.integration import clients

pytestmark = pytest.mark.timeout(TEST_TIMEOUT)

POOL, ACCOUNT = "render-ne", "imagepoolbatchne"
# More nodes than the spec's 2, whichever run came before: a growing pool is a wait the sensor must defer.
SIZE = {"dedicated": 3, "spot": 0}
STEADY = f"region_northeurope.pool_{POOL}.steady"
# What Airflow's triggerer logs around a trigger it runs (the worker never does).
TRIGGER_STARTING = re.compile(r"^trigger .* starting$")
TRIGGER_FIRED = "Trigger fired event"


def wait_for_run(api, run_id: str) -> tuple[dict, dict[str, dict]]:
    """Poll until the run ends; returns it and, per task, a task instance seen while it was deferred (once
    its trigger was assigned to a triggerer, if it was ever seen so).
    """
    deferred: dict[str, dict] = {}
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        run = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}").json()
        instances = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 200}).json()
        for ti in instances["task_instances"]:
            # A task defers before a triggerer takes its trigger: keep looking until one has.
            if ti["state"] == "deferred" and (deferred.get(ti["task_id"]) or {}).get("triggerer_job") is None:
                deferred[ti["task_id"]] = ti
        if run["state"] in ("success", "failed"):
            return run, deferred
        time.sleep(1)
    pytest.fail(f"run {run_id} still {run['state']} after {RUN_TIMEOUT:.0f} s")


def log_of(api, run_id: str, task_id: str, try_number: int) -> tuple[list[str], list[dict]]:
    """A try's log as the UI reads it: the files it was read from, then its entries in time order."""
    content = api.get(
        f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
        params={"full_content": True},
        headers={"Accept": "application/json"},
    ).json()["content"]
    # The first group lists the sources: the worker's log file and one per triggerer that ran a trigger.
    end = next(i for i, entry in enumerate(content) if entry["event"] == "::endgroup::")
    return [entry["event"] for entry in content[1:end]], content[end + 1 :]


def test_a_triggered_run_defers_its_waits_to_the_triggerer_and_resizes_the_pool(stack):
    api = stack.api()
    api.patch(f"/dags/{DAG_ID}", json={"is_paused": False})
    run_id = f"e2e-{uuid.uuid4().hex[:8]}"
    api.post(
        f"/dags/{DAG_ID}/dagRuns",
        json={"dag_run_id": run_id, "logical_date": None, "conf": {"pool_nodes": {POOL: SIZE}}},
    )

    run, deferred = wait_for_run(api, run_id)

    instances = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 200}).json()
    failed = {
        ti["task_id"]: ti["state"] for ti in instances["task_instances"] if ti["state"] in ("failed", "upstream_failed")
    }
    assert run["state"] == "success", f"run {run_id} {run['state']}: {failed}; see {stack.dirs.standalone_log}"

    # While it waited, the pool's sensor held no worker: it was deferred, its trigger assigned to a triggerer.
    assert STEADY in deferred, f"{STEADY} was never seen deferred (deferred: {sorted(deferred)})"
    held = deferred[STEADY]
    assert held["trigger"]["classpath"] == "imagepool.triggers.batch.PoolSteadyTrigger"
    assert held["triggerer_job"]["job_type"] == "TriggererJob"

    # Its log tells the rest, in order, within one try: the worker deferred, the triggerer ran the trigger
    # (in a log file of its own, named after its job) and fired, then a worker resumed the task and finished.
    steady = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{STEADY}").json()
    sources, entries = log_of(api, run_id, STEADY, steady["try_number"])
    triggerer_ids = {job["id"] for job in api.get("/jobs", params={"job_type": "TriggererJob"}).json()["jobs"]}
    trigger_files = [m for s in sources if (m := re.search(r"\.log\.trigger\.(\d+)\.log$", s))]
    assert trigger_files, sources
    assert all(int(m.group(1)) in triggerer_ids for m in trigger_files), sources
    events = [str(entry["event"]) for entry in entries]
    deferring = events.index("Pausing task as DEFERRED. ")
    starting = next(i for i, event in enumerate(events) if TRIGGER_STARTING.match(event))
    progress = [
        i for i, entry in enumerate(entries) if entry.get("logger") == "imagepool.triggers.batch.PoolSteadyTrigger"
    ]
    fired = events.index(TRIGGER_FIRED)
    resumed = events.index("::group::Pre Execute", fired)
    assert deferring < starting < progress[0] <= progress[-1] < fired < resumed, events
    assert re.fullmatch(rf"pool {POOL}-\S+: steady, 3/3 idle: healthy \(3 >= 3 required\)", events[progress[-1]])
    assert "Pushing xcom" in events[resumed:], "the resumed task did not return its result"

    # The size the run was triggered with is what the pool has in Azure.
    pool_id = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{STEADY}/xcomEntries/return_value").json()[
        "value"
    ]["pool_id"]
    info = stack.emulator
    endpoint = next(a["endpoint"] for a in info["batch_accounts"] if a["name"] == ACCOUNT)
    with clients.batch(info, clients.credential(info), endpoint) as batch:
        pool = batch.get_pool(pool_id)
        states = [node.state for node in batch.list_nodes(pool_id)]
    assert (pool.target_dedicated_nodes, pool.target_low_priority_nodes) == (3, 0)
    assert (pool.current_dedicated_nodes, pool.current_low_priority_nodes) == (3, 0)
    assert states == ["idle"] * 3
