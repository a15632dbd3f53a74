"""Pipelines run the way production runs them: ``make up``'s stack (scheduler, triggerer,
LocalExecutor with a few worker slots), with the bench's DAG files as a second DAG bundle.

What a run took is read from Airflow's metadata database: each run's wall time (queued to ended),
each task's start and end, and the task instances' states sampled while the runs go on, which gives
the worker-slot seconds (``running``), the waits that hold no slot (``deferred``, in the triggerer)
and the waits for a free slot (``scheduled``, ``queued``).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_fixed

from bench.settings import PARALLELISM, SPEED
from imagepool_local.run import airflow_env
from imagepool_local.stack import Stack, up

LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
# Airflow's default bundle (the dags folder), kept so the project's own DAGs parse as ``make up`` expects.
DAGS_FOLDER_BUNDLE = {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}}
SAMPLE_EVERY = 0.5
REPARSE_AFTER_S = 3600
# A bench run that has not ended after this long is stuck, not slow (a single run takes a few minutes).
RUN_TIMEOUT = 1500.0
WAITING_FOR_SLOT = ("scheduled", "queued")


@dataclass
class Measured:
    """What a set of runs started together took."""

    wall_s: float
    runs: list[dict]
    tasks: list[dict]
    slot_s: dict[str, float]
    plans: dict[str, dict] = field(default_factory=dict)
    # (end of a failed try, start of the next), as UNIX times: the retry delay and the wait for a slot.
    retry_waits: list[tuple[float, float]] = field(default_factory=list)

    @property
    def retries(self) -> dict:
        """How many tries failed and were retried, and how long the runs had a task waiting to be retried."""
        return {"tries": len(self.retry_waits), "waiting_s": round(covered_s(self.retry_waits), 1)}


def covered_s(intervals: list[tuple[float, float]]) -> float:
    """How long at least one of the intervals lasts (overlaps count once)."""
    total, reached = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end > reached:
            total += end - max(start, reached)
            reached = end
    return total


def start(data_dir: Path, families: Path) -> Stack:
    """The stack with the families' DAGs (``families/dags``, of ``families/specs``), unpaused and ready
    to trigger.

    The DAG files come in as a second DAG bundle, through the environment the stack's processes
    inherit. The bench process itself gets the stack's Airflow settings, to read the metadata database.
    """
    bundle = {"name": "imagepool-bench", "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(families / "dags")}}
    os.environ["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps([DAGS_FOLDER_BUNDLE, bundle])
    # The DAG files do not change while the bench runs: parsed once, not every 30 s (Airflow's default),
    # which on two cores would take a good part of the CPU the pipelines' tasks are measured on.
    os.environ["AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL"] = str(REPARSE_AFTER_S)
    stack = up(data_dir, speed=SPEED, port=0, parallelism=PARALLELISM)
    os.environ.update(airflow_env(stack.dirs.airflow_home, stack.emulator, SPEED))
    wanted = _dag_ids(families / "specs")
    api = stack.api()
    deadline = time.monotonic() + 300
    while missing := wanted - {d["dag_id"] for d in api.get("/dags", params={"limit": 100}).json()["dags"]}:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the bench's DAGs {sorted(missing)} were not parsed; see {stack.dirs.standalone_log}")
        time.sleep(1)
    for dag_id in sorted(wanted):
        api.patch(f"/dags/{dag_id}", json={"is_paused": False})
    return stack


def _dag_ids(spec_dir: Path) -> set[str]:
    from imagepool.spec import load_spec

    return {load_spec(path).dag_id for path in spec_dir.glob("*.yaml")}


def run(stack: Stack, dag_ids: list[str]) -> Measured:
    """Trigger one run of each DAG at once and wait until all have ended, sampling task states."""
    from airflow.models import DagRun, TaskInstance
    from airflow.models.taskinstancehistory import TaskInstanceHistory
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import func

    api = stack.api()
    run_ids = [trigger(api, dag_id) for dag_id in dag_ids]
    in_runs = (TaskInstance.dag_id.in_(dag_ids), TaskInstance.run_id.in_(run_ids))
    slot_s: Counter = Counter()
    deadline = time.monotonic() + RUN_TIMEOUT
    last = time.monotonic()
    while True:
        with create_session() as session:
            states = dict(
                session.query(TaskInstance.state, func.count()).filter(*in_runs).group_by(TaskInstance.state).all()
            )
            runs = session.query(DagRun).filter(DagRun.dag_id.in_(dag_ids), DagRun.run_id.in_(run_ids)).all()
            ended = all(r.end_date is not None for r in runs)
        now = time.monotonic()
        for state, count in states.items():
            slot_s[_state_name(state)] += count * (now - last)
        last = now
        if ended:
            break
        if now > deadline:
            raise RuntimeError(f"runs of {dag_ids} still going after {RUN_TIMEOUT:.0f} s; see {stack.dirs.root}")
        time.sleep(SAMPLE_EVERY)
    with create_session() as session:
        runs = session.query(DagRun).filter(DagRun.dag_id.in_(dag_ids), DagRun.run_id.in_(run_ids)).all()
        instances = session.query(TaskInstance).filter(*in_runs).all()
        found = [
            {
                "dag_id": r.dag_id,
                "run_id": r.run_id,
                "state": _state_name(r.state),
                "queued_at": r.queued_at.timestamp(),
                "end": r.end_date.timestamp(),
            }
            for r in runs
        ]
        tasks = [
            {
                "dag_id": ti.dag_id,
                "task_id": ti.task_id,
                "map_index": ti.map_index,
                "state": _state_name(ti.state),
                "try_number": ti.try_number,
                "start": ti.start_date.timestamp() if ti.start_date else None,
                "end": ti.end_date.timestamp() if ti.end_date else None,
            }
            for ti in instances
        ]
        # Every try of every task: a failed one went to the history table when its task was retried.
        tries = {
            (h.dag_id, h.task_id, h.map_index, h.try_number): (h.start_date, h.end_date)
            for h in session.query(TaskInstanceHistory).filter(
                TaskInstanceHistory.dag_id.in_(dag_ids), TaskInstanceHistory.run_id.in_(run_ids)
            )
        }
        tries.update(
            {(ti.dag_id, ti.task_id, ti.map_index, ti.try_number): (ti.start_date, ti.end_date) for ti in instances}
        )

        def next_start(key):
            return tries.get((*key[:3], key[3] + 1), (None, None))[0]

        retry_waits = [
            (ended.timestamp(), next_start(key).timestamp())
            for key, (_, ended) in tries.items()
            if ended and next_start(key)
        ]
        # What each run decided (version, pool ids, account URLs): the plan task's XComs.
        plans: dict[str, dict] = {}
        for row in session.query(XComModel).filter(
            XComModel.dag_id.in_(dag_ids), XComModel.run_id.in_(run_ids), XComModel.task_id == "plan"
        ):
            plans.setdefault(row.dag_id, {})[row.key] = row.value
    failed = [f"{t['dag_id']}.{t['task_id']}" for t in tasks if t["state"] in ("failed", "upstream_failed")]
    if failed or any(r["state"] != "success" for r in found):
        raise RuntimeError(
            f"a bench run failed ({', '.join(failed) or 'see the run'}); task logs in "
            f"{stack.dirs.airflow_home / 'logs'}"
        )
    began = min(r["queued_at"] for r in found)
    return Measured(
        wall_s=round(max(r["end"] for r in found) - began, 3),
        runs=found,
        tasks=tasks,
        slot_s={
            "running": round(slot_s["running"], 1),
            "deferred": round(slot_s["deferred"], 1),
            "waiting_for_slot": round(sum(slot_s[s] for s in WAITING_FOR_SLOT), 1),
        },
        plans=plans,
        retry_waits=retry_waits,
    )


def trigger(api, dag_id: str) -> str:
    """Start a run of ``dag_id``; returns its id.

    The stack's SQLite database takes one writer at a time, and the API server answers 500 when a
    write waits too long for it (most often when several runs are triggered at once). The run id is
    chosen here, so triggering again cannot make a second run: a 409 says the first one was made.
    """
    run_id = f"bench-{uuid.uuid4().hex[:12]}"
    for attempt in Retrying(
        retry=retry_if_exception(lambda exc: "HTTP 500" in str(exc)),
        stop=stop_after_attempt(5),
        wait=wait_fixed(1),
        reraise=True,
    ):
        with attempt:
            try:
                api.post(f"/dags/{dag_id}/dagRuns", json={"dag_run_id": run_id, "logical_date": None})
            except RuntimeError as exc:
                if "HTTP 409" not in str(exc):
                    raise
    return run_id


def _state_name(state) -> str:
    return str(getattr(state, "value", state))
