"""End-to-end fixtures: the stack ``make up`` starts (emulator, scheduler, triggerer, DAG processor, API
server), on a temporary data dir, shared by the tests of this folder and always stopped at the end.
"""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from imagepool_local.stack import Stack, down, up

DAG_ID = "imagepool_ubuntu_batch"
SPEED = 60.0
# Generous for a run on a 2-core machine that other work shares: a build run takes 4 to 8 minutes there.
RUN_TIMEOUT = 1200.0
# A test's limit also covers the stack's start (the first test of the session pays for it).
TEST_TIMEOUT = RUN_TIMEOUT + 600
# Nodes take 25 emulated minutes to boot instead of 2: a pool wait then lasts well beyond
# ``DEFER_AFTER`` and a loaded worker's start-up, so the sensor never finds the pool ready before
# deferring, and the wait always goes through the triggerer.
DURATIONS = {"node_boot": 1500}
# How long a task keeps looking on its worker before deferring: the default's double, so that a task
# waiting for its VM is reliably seen running (and can be killed) on a loaded machine.
DEFER_AFTER = 10.0


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    data_dir = tmp_path_factory.mktemp("stack")
    try:
        with pytest.MonkeyPatch.context() as patch:
            # The suite's unit-test mode (tests/conftest.py) would point the stack at a test database.
            patch.delenv("AIRFLOW__CORE__UNIT_TEST_MODE", raising=False)
            patch.setenv("AIRFLOW__IMAGEPOOL__DEFER_AFTER", str(DEFER_AFTER))
            running = up(data_dir, speed=SPEED, port=0)
        info = running.emulator
        requests.patch(
            f"{info['control_endpoint']}/durations", json=DURATIONS, verify=info["ca_bundle"], timeout=30
        ).raise_for_status()
        yield running
    finally:
        down(data_dir)


def run_to_end(api, dag_id: str, run_id: str, timeout: float = RUN_TIMEOUT) -> dict:
    """The run once it has ended (success or failed)."""
    deadline = time.monotonic() + timeout
    while True:
        run = api.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()
        if run["state"] in ("success", "failed"):
            return run
        if time.monotonic() > deadline:
            pytest.fail(f"run {run_id} of {dag_id} still {run['state']} after {timeout:.0f} s")
        time.sleep(2)


def a_successful_run(stack: Stack) -> str:
    """The demo DAG's newest successful run, triggered (and waited for) if it has none yet."""
    api = stack.api()
    runs = api.get(f"/dags/{DAG_ID}/dagRuns", params={"state": "success", "order_by": "-run_after", "limit": 1})
    found = runs.json()["dag_runs"]
    if found:
        return found[0]["dag_run_id"]
    api.patch(f"/dags/{DAG_ID}", json={"is_paused": False})
    run_id = f"e2e-{uuid.uuid4().hex[:8]}"
    api.post(f"/dags/{DAG_ID}/dagRuns", json={"dag_run_id": run_id, "logical_date": None})
    assert run_to_end(api, DAG_ID, run_id)["state"] == "success", f"see {stack.dirs.standalone_log}"
    return run_id
