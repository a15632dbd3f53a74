"""What Airflow knows of an image family's DAG: whether it is on, its next scheduled run, and its last runs
with what each decided (the plan task's XComs), why it failed (what the failed tasks recorded, see
:mod:`imagepool.notifications`), which pools ended degraded, and each task's times for the timeline.

Read from Airflow's metadata database: the view runs inside Airflow's API server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from imagepool.notifications import FAILURE_KEY, PLAN_TASK

RUNS_SHOWN = 5
PLAN_KEYS = ("build", "reason", "version")


@dataclass
class TaskTimes:
    task_id: str
    map_index: int
    state: str | None
    start: datetime | None
    end: datetime | None


@dataclass
class Run:
    run_id: str
    run_type: str
    state: str
    run_after: datetime
    start: datetime | None
    end: datetime | None
    plan: dict[str, Any] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    degraded: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[TaskTimes] = field(default_factory=list)


@dataclass
class DagFacts:
    dag_id: str
    exists: bool
    is_paused: bool | None = None
    next_run: datetime | None = None
    runs: list[Run] = field(default_factory=list)


def schedules_run() -> bool:
    """Whether this Airflow starts scheduled runs at all (``[scheduler] use_job_schedule``)."""
    from airflow.configuration import conf

    return conf.getboolean("scheduler", "use_job_schedule", fallback=True)


def read_dags(dag_ids: list[str], runs_shown: int = RUNS_SHOWN) -> dict[str, DagFacts]:
    """Each DAG's facts, its newest runs first."""
    from airflow.models import DagModel, DagRun, TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    schedules_on = schedules_run()
    found: dict[str, DagFacts] = {}
    with create_session() as session:
        models = {m.dag_id: m for m in session.scalars(select(DagModel).where(DagModel.dag_id.in_(dag_ids)))}
        for dag_id in dag_ids:
            model = models.get(dag_id)
            if model is None or model.is_stale:
                found[dag_id] = DagFacts(dag_id, exists=False)
                continue
            facts = found[dag_id] = DagFacts(
                dag_id,
                exists=True,
                is_paused=model.is_paused,
                next_run=model.next_dagrun_create_after if model.timetable_periodic and schedules_on else None,
            )
            runs = session.scalars(
                select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.run_after.desc()).limit(runs_shown)
            ).all()
            run_ids = [r.run_id for r in runs]
            instances: dict[str, list[Any]] = {}
            for ti in session.scalars(
                select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id.in_(run_ids))
            ):
                instances.setdefault(ti.run_id, []).append(ti)
            xcoms: dict[str, list[Any]] = {}
            for xcom in session.scalars(
                select(XComModel).where(XComModel.dag_id == dag_id, XComModel.run_id.in_(run_ids))
            ):
                xcoms.setdefault(xcom.run_id, []).append(xcom)
            for run in runs:
                facts.runs.append(_run(run, instances.get(run.run_id, []), xcoms.get(run.run_id, [])))
    return found


def _run(run: Any, instances: list[Any], xcoms: list[Any]) -> Run:
    from airflow.models.xcom import XComModel

    found = Run(
        run_id=run.run_id,
        run_type=str(run.run_type),
        state=str(run.state),
        run_after=run.run_after,
        start=run.start_date,
        end=run.end_date,
    )
    for xcom in xcoms:
        if xcom.task_id == PLAN_TASK and xcom.key in PLAN_KEYS:
            found.plan[xcom.key] = XComModel.deserialize_value(xcom)
        elif xcom.key == FAILURE_KEY:
            found.failures.append(XComModel.deserialize_value(xcom))
        elif xcom.key == "return_value" and xcom.task_id.endswith(".steady"):
            value = XComModel.deserialize_value(xcom)
            if isinstance(value, dict) and value.get("healthy_nodes", 0) < value.get("target_nodes", 0):
                found.degraded.append({"task_id": xcom.task_id, **value})
    failed_without_reason = {ti.task_id for ti in instances if str(ti.state) == "failed"} - {
        f["task_id"] for f in found.failures
    }
    # A task Airflow failed itself (killed, timed out by the scheduler) recorded nothing.
    found.failures += [
        {"task_id": task_id, "code": None, "detail": "no reason recorded (the task was killed or timed out)"}
        for task_id in sorted(failed_without_reason)
    ]
    found.failures.sort(key=lambda f: f["task_id"])
    found.tasks = sorted(
        (
            TaskTimes(ti.task_id, ti.map_index, str(ti.state) if ti.state else None, ti.start_date, ti.end_date)
            for ti in instances
        ),
        key=lambda t: (t.start is None, t.start or run.run_after, t.task_id),
    )
    return found
