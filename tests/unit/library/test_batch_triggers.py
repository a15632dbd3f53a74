"""Batch triggers: each state -> Poll decision entry by entry, what each trigger reads, serialization."""

from __future__ import annotations

import importlib
import json

import pytest

from imagepool.hooks.batch import BatchHook
from imagepool.triggers import batch as triggers
from imagepool.triggers.base import FAILED, SUCCESS, WAITING
from imagepool.triggers.batch import (
    PoolDeletedTrigger,
    PoolResizeTrigger,
    PoolSteadyTrigger,
    TaskTrigger,
    deleted_poll,
    settled_poll,
    steady_poll,
    task_poll,
)

URL = "https://acct.westeurope.batch.azure.com"
COMMON = {
    "azure_conn_id": "azure_default",
    "deadline": 1_900_000_000.0,
    "poll_interval": 15.0,
    "max_poll_interval": 120.0,
    "timeout_hint": "look",
}


def pool(allocation="steady", state="active", dedicated=2, spot=0, current=None, errors=()):
    current = (dedicated, spot) if current is None else current
    return {
        "id": "p1",
        "state": state,
        "allocation_state": allocation,
        "target_dedicated_nodes": dedicated,
        "target_low_priority_nodes": spot,
        "current_dedicated_nodes": current[0],
        "current_low_priority_nodes": current[1],
        "resize_errors": list(errors),
    }


def error(code, message="m", **values):
    return {"code": code, "message": message, "values": values}


def steady(pool_doc, counts, healthy=0.95, failed=0.05):
    return steady_poll("p1", pool_doc, counts, min_healthy_fraction=healthy, max_failed_fraction=failed)


class TestSteadyPoll:
    def test_missing_pool_fails_with_next_step(self):
        found = steady(None, None)
        assert found.state == FAILED
        assert found.details["code"] == "PoolNotFound"
        assert "create it first" in found.message

    def test_deleting_pool_fails(self):
        found = steady(pool(state="deleting"), None)
        assert found.state == FAILED
        assert found.details["code"] == "PoolBeingDeleted"

    @pytest.mark.parametrize("allocation", ["resizing", "stopping"])
    def test_not_steady_waits_without_reading_counts(self, allocation):
        found = steady(pool(allocation, dedicated=3000, current=(1200, 0)), None)
        assert found.state == WAITING
        assert found.message == f"pool p1: {allocation}, 1200/3000 nodes allocated"

    def test_steady_and_healthy_succeeds(self):
        found = steady(pool(dedicated=2), {"idle": 2})
        assert found.state == SUCCESS
        assert found.message == "pool p1: steady, 2/2 idle: healthy (2 >= 2 required)"
        assert found.details == {"pool_id": "p1", "counts": {"idle": 2}, "healthy": 2, "target": 2, "warning": ""}

    def test_healthy_with_some_failed_nodes_warns(self):
        found = steady(pool(dedicated=10), {"idle": 9, "startTaskFailed": 1}, healthy=0.8, failed=0.1)
        assert found.state == SUCCESS
        assert found.details["warning"] == "1 of 10 nodes are not idle or running"

    def test_spot_nodes_count_toward_the_target(self):
        found = steady(pool(dedicated=1, spot=2), {"idle": 2, "running": 1}, healthy=1.0)
        assert found.state == SUCCESS
        assert found.details["target"] == 3

    def test_booting_nodes_keep_it_waiting_and_the_message_shows_counts(self):
        found = steady(pool(dedicated=3000), {"idle": 1800, "starting": 12, "unusable": 3})
        assert found.state == WAITING
        assert found.message == "pool p1: steady, 1800/3000 idle, 12 starting, 3 unusable"

    def test_failed_nodes_above_tolerance_fail_with_where_to_look(self):
        found = steady(pool(dedicated=10), {"idle": 7, "startTaskFailed": 3}, healthy=0.7, failed=0.2)
        assert found.state == FAILED
        assert found.details["code"] == "NodesFailed"
        assert "3 of 10 nodes are unusable or failed their start task, more than the 2 tolerated" in found.message
        assert "stdout.txt and stderr.txt" in found.message

    @pytest.mark.parametrize(
        ("node", "why"),
        [
            (
                {
                    "id": "n1",
                    "state": "starttaskfailed",
                    "start_task_exit_code": 3,
                    "errors": [{"code": "FailureExitCode", "message": "The task exited with a failure exit code"}],
                },
                "(node n1: start task exited with 3, Azure error FailureExitCode: The task exited with a failure exit code)",
            ),
            (
                {
                    "id": "n2",
                    "state": "unusable",
                    "start_task_exit_code": None,
                    "errors": [{"code": "UnusableNode", "message": "The node agent did not start"}],
                },
                "(node n2: Azure error UnusableNode: The node agent did not start)",
            ),
        ],
    )
    def test_failed_nodes_name_one_node_and_why(self, node, why):
        found = steady_poll(
            "p1",
            pool(dedicated=10),
            {"idle": 7, "unusable": 3},
            min_healthy_fraction=0.7,
            max_failed_fraction=0.2,
            failed_node=node,
        )
        assert found.state == FAILED
        assert why in found.message
        assert found.message.index(why) < found.message.index(" -> ")  # the why, then the next step

    def test_short_pool_with_nothing_on_the_way_fails(self):
        found = steady(pool(dedicated=10, spot=0), {"idle": 8, "preempted": 2})
        assert found.state == FAILED
        assert found.details["code"] == "PoolShort"
        assert "only 8 of the 10 required" in found.message

    def test_fatal_resize_error_fails_now_with_code_and_next_step(self):
        found = steady(
            pool(dedicated=3, current=(1, 0), errors=[error("AccountCoreQuotaReached", "quota")]), {"idle": 1}
        )
        assert found.state == FAILED
        assert found.details["code"] == "AccountCoreQuotaReached"
        assert found.details["retryable"] is False
        assert "Azure error AccountCoreQuotaReached: quota; 1/3 nodes allocated" in found.message
        assert "request more dedicated cores" in found.message

    def test_retryable_resize_error_asks_for_a_resize(self):
        found = steady(pool(dedicated=4, current=(2, 0), errors=[error("AllocationTimedout")]), {"idle": 2})
        assert found.state == FAILED
        assert found.details["code"] == "AllocationTimedout"
        assert found.details["retryable"] is True

    def test_a_fatal_error_wins_over_a_retryable_one(self):
        errors = [error("AllocationFailed", Reason="capacity"), error("AccountLowPriorityCoreQuotaReached")]
        found = steady(pool(dedicated=2, spot=2, current=(1, 0), errors=errors), {"idle": 1})
        assert found.details["code"] == "AccountLowPriorityCoreQuotaReached"
        assert found.details["retryable"] is False
        assert "AllocationFailed: m (Reason: capacity)" in found.message

    def test_resize_errors_are_read_before_health(self):
        found = steady(pool(dedicated=2, errors=[error("AllocationFailed")]), {"idle": 2})
        assert found.state == FAILED


class TestSettledPoll:
    def test_gone_pool_is_settled(self):
        found = settled_poll("p1", None, None)
        assert found.state == SUCCESS
        assert found.details == {"pool_id": "p1", "exists": False}

    def test_steady_pool_is_settled(self):
        found = settled_poll("p1", pool(dedicated=0, current=(0, 0)), None)
        assert found.state == SUCCESS
        assert found.details == {"pool_id": "p1", "exists": True, "nodes": 0}

    def test_draining_pool_shows_what_still_runs(self):
        found = settled_poll("p1", pool("resizing", dedicated=0, current=(3, 0)), {"running": 2, "leavingPool": 1})
        assert found.state == WAITING
        assert found.message == "pool p1: resizing to 0 nodes, 2 running, 1 leavingPool"

    def test_stopping_pool_without_counts(self):
        assert settled_poll("p1", pool("stopping"), {}).message == "pool p1: stopping to 2 nodes"


class TestDeletedPoll:
    def test_gone_is_done(self):
        assert deleted_poll("p1", None).state == SUCCESS

    def test_deleting_waits(self):
        found = deleted_poll("p1", pool(state="deleting", current=(1, 0)))
        assert found.state == WAITING
        assert found.message == "pool p1: deleting, 1 nodes left"


def task(state, exit_code=None, node_id=None, failure=None, result=None):
    return {
        "id": "smoke",
        "state": state,
        "exit_code": exit_code,
        "result": result,
        "failure": failure,
        "node_id": node_id,
    }


class TestTaskPoll:
    @pytest.mark.parametrize(
        ("doc", "message"),
        [
            (task("active"), "task smoke in job j: active"),
            (task("preparing", node_id="n1"), "task smoke in job j: preparing on node n1"),
            (task("running", node_id="n1"), "task smoke in job j: running on node n1"),
        ],
    )
    def test_unfinished_task_waits(self, doc, message):
        found = task_poll("j", doc)
        assert found.state == WAITING
        assert found.message == message

    @pytest.mark.parametrize("exit_code", [0, 3])
    def test_completed_task_is_done_whatever_its_exit_code(self, exit_code):
        failure = {"code": "FailureExitCode", "message": "m"} if exit_code else None
        found = task_poll("j", task("completed", exit_code, "n1", failure, "failure" if exit_code else "success"))
        assert found.state == SUCCESS
        assert found.details == {
            "job_id": "j",
            "task_id": "smoke",
            "exit_code": exit_code,
            "result": "failure" if exit_code else "success",
            "failure": failure,
            "node_id": "n1",
        }


# --- the triggers themselves -------------------------------------------------------------------------

ALL_TRIGGERS = [
    PoolSteadyTrigger(pool_id="p1", min_healthy_fraction=0.9, max_failed_fraction=0.1, batch_account_url=URL, **COMMON),
    PoolResizeTrigger(pool_id="p1", batch_account_url=URL, **COMMON),
    PoolDeletedTrigger(pool_id="p1", **COMMON),
    TaskTrigger(job_id="j", task_id="t", batch_account_url=URL, **COMMON),
]


@pytest.mark.parametrize("trigger", ALL_TRIGGERS, ids=lambda t: type(t).__name__)
def test_serialization_round_trips_through_json(trigger):
    classpath, kwargs = trigger.serialize()
    assert classpath == f"imagepool.triggers.batch.{type(trigger).__name__}"
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))
    assert rebuilt.serialize() == (classpath, kwargs)


def test_serialization_prunes_a_missing_account_url():
    assert "batch_account_url" not in PoolDeletedTrigger(pool_id="p1", **COMMON).serialize()[1]


def test_every_trigger_class_has_a_round_trip_test():
    bases = {triggers.BatchTrigger, triggers.PoolTrigger}
    classes = {
        cls
        for cls in vars(triggers).values()
        if isinstance(cls, type) and issubclass(cls, triggers.BatchTrigger) and cls not in bases
    }
    assert classes == {type(t) for t in ALL_TRIGGERS}


def test_hook_gets_the_account_url():
    hook = ALL_TRIGGERS[0].make_hook()
    assert isinstance(hook, BatchHook)
    assert hook.batch_account_url == URL
    assert hook.azure_conn_id == "azure_default"


class FakeHook:
    def __init__(self, pool_doc=None, counts=None, task_doc=None):
        self.pool_doc, self.counts, self.task_doc = pool_doc, counts, task_doc
        self.calls: list[str] = []

    async def aget_pool(self, pool_id):
        self.calls.append(f"pool {pool_id}")
        return self.pool_doc

    async def apool_node_counts(self, pool_id):
        self.calls.append(f"counts {pool_id}")
        return self.counts

    async def aget_task(self, job_id, task_id):
        self.calls.append(f"task {job_id}/{task_id}")
        return self.task_doc

    async def afailed_node(self, pool_id):
        self.calls.append(f"failed node {pool_id}")
        return {"id": "n1", "state": "starttaskfailed", "start_task_exit_code": 2, "errors": []}


async def test_steady_trigger_reads_counts_only_once_steady():
    hook = FakeHook(pool("resizing", current=(0, 0)))
    assert (await ALL_TRIGGERS[0].poll(hook)).state == WAITING
    assert hook.calls == ["pool p1"]
    hook = FakeHook(pool(), {"idle": 2})
    assert (await ALL_TRIGGERS[0].poll(hook)).state == SUCCESS
    assert hook.calls == ["pool p1", "counts p1"]


async def test_steady_trigger_reads_one_failed_node_only_when_failed_nodes_fail_the_pool():
    hook = FakeHook(pool(dedicated=10), {"idle": 9, "startTaskFailed": 1})
    assert (await ALL_TRIGGERS[0].poll(hook)).state == SUCCESS
    assert "failed node p1" not in hook.calls
    hook = FakeHook(pool(dedicated=10), {"idle": 7, "startTaskFailed": 3})
    found = await ALL_TRIGGERS[0].poll(hook)
    assert found.state == FAILED
    assert "(node n1: start task exited with 2)" in found.message
    assert hook.calls == ["pool p1", "counts p1", "failed node p1"]


async def test_resize_trigger_reads_counts_only_while_moving():
    hook = FakeHook(pool("resizing", dedicated=0, current=(1, 0)), {"running": 1})
    assert (await ALL_TRIGGERS[1].poll(hook)).message == "pool p1: resizing to 0 nodes, 1 running"
    hook = FakeHook(pool(dedicated=0, current=(0, 0)))
    assert (await ALL_TRIGGERS[1].poll(hook)).state == SUCCESS
    assert hook.calls == ["pool p1"]


async def test_deleted_and_task_triggers():
    assert (await ALL_TRIGGERS[2].poll(FakeHook(None))).state == SUCCESS
    hook = FakeHook(task_doc=task("completed", 0))
    assert (await ALL_TRIGGERS[3].poll(hook)).details["exit_code"] == 0
    assert hook.calls == ["task j/t"]


async def test_task_trigger_polls_the_batch_task_once_the_triggerer_gave_it_its_airflow_task():
    """The triggerer sets ``task_instance`` on a trigger it loads, which sets BaseTrigger's ``task_id``
    to the Airflow task's id; the Batch task polled and serialized stays the one the trigger was made for.
    """

    class AirflowTaskInstance:
        task_id = "region_westeurope.pool_p.smoke"

    trigger = TaskTrigger(job_id="j", task_id="t", batch_account_url=URL, **COMMON)
    trigger.task_instance = AirflowTaskInstance()
    hook = FakeHook(task_doc=task("completed", 0))
    assert (await trigger.poll(hook)).state == SUCCESS
    assert hook.calls == ["task j/t"]
    assert trigger.serialize()[1]["task_id"] == "t"
