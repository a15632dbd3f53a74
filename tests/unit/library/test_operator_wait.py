"""How an operator waits before deferring: one look by default, or looks for up to ``defer_after``
seconds, so work about to finish ends on the worker instead of paying a deferral's two task starts.
"""

from __future__ import annotations

import time

import pytest
from airflow.sdk.exceptions import TaskDeferred

from imagepool.operators.base import ImagepoolBaseOperator
from imagepool.triggers.base import Poll
from tests.unit.library.test_trigger_base import ScriptedTrigger

NEARLY_DONE = [
    Poll.waiting("creating", retry_after=0.01),
    Poll.waiting("creating", retry_after=0.01),
    Poll.done("created", resource="r1"),
]


class Waiting(ImagepoolBaseOperator):
    def __init__(self, *, script, **kwargs):
        super().__init__(task_id="wait", **kwargs)
        self.trigger = ScriptedTrigger(script, azure_conn_id="c", deadline=10**10, poll_interval=0.01)

    def execute(self, context):
        return self.wait_for(context, self.trigger)

    def execute_complete(self, context, event):
        return self.check_event(event)["resource"]


def test_by_default_one_look_then_the_wait_defers():
    op = Waiting(script=list(NEARLY_DONE))
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({})
    assert op.trigger.polls == 1
    assert deferred.value.trigger is op.trigger
    # The wait it hands over ends no sooner than a few seconds from now, and says so when stored.
    assert time.time() + 4 < op.trigger.not_before <= time.time() + 5
    assert op.trigger.serialize()[1]["not_before"] == op.trigger.not_before


def test_work_that_ends_within_defer_after_finishes_on_the_worker():
    op = Waiting(script=list(NEARLY_DONE), defer_after=5)
    assert op.execute({}) == "r1"
    assert op.trigger.polls == 3


def test_work_still_going_after_defer_after_defers():
    op = Waiting(script=[Poll.waiting("creating", retry_after=0.05)] * 50, defer_after=0.2)
    with pytest.raises(TaskDeferred):
        op.execute({})
    assert 2 <= op.trigger.polls <= 6


def test_a_failure_seen_before_deferring_is_reported_at_once():
    op = Waiting(script=[Poll.waiting("creating", retry_after=0.01), Poll.failed("Failed: code X")], defer_after=5)
    with pytest.raises(Exception, match="code X"):
        op.execute({})
