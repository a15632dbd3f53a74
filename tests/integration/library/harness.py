"""Run an operator the way a worker and the triggerer do, without a scheduler: execute, and when it
defers, round-trip its trigger through plain JSON (as the triggerer stores it), run the trigger's
real async loop against the emulator, then resume the operator with the event.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk.exceptions import TaskDeferred


@dataclass
class RecordingTaskInstance:
    """The part of a task instance operators use: XCom pushes (portal links) are recorded."""

    xcom: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


@dataclass
class TaskRun:
    result: Any
    deferrals: list[tuple[str, dict]]
    events: list[dict]
    xcom: dict[str, Any]


def rebuild_trigger(trigger):
    """What the triggerer does: import the class by its path and build it from the stored kwargs.

    The rebuilt trigger ends as soon as its wait does: its settle time outwaits a scheduler, and
    there is none here.
    """
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    kwargs = {**json.loads(json.dumps(kwargs)), "not_before": None}
    return getattr(importlib.import_module(module), name)(**kwargs)


def run_task(operator, context: dict | None = None, max_deferrals: int = 20) -> TaskRun:
    ti = RecordingTaskInstance()
    context = {"ti": ti, "task_instance": ti, **(context or {})}
    deferrals: list[tuple[str, dict]] = []
    events: list[dict] = []
    call = lambda: operator.execute(context)
    for _ in range(max_deferrals):
        try:
            return TaskRun(call(), deferrals, events, ti.xcom)
        except TaskDeferred as deferred:
            trigger = rebuild_trigger(deferred.trigger)
            deferrals.append(deferred.trigger.serialize())
            event = asyncio.run(_first_event(trigger))
            events.append(event)
            method = getattr(operator, deferred.method_name)
            call = lambda m=method, e=event, k=deferred.kwargs or {}: m(context, event=e, **k)
    raise AssertionError(f"{operator.task_id} deferred more than {max_deferrals} times")


async def _first_event(trigger) -> dict:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("trigger ended without an event")
