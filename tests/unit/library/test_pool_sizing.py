"""Pool sizing rules: resize timeouts, resize error classes, node health, progress text, pool ids."""

from __future__ import annotations

from datetime import timedelta

import pytest

from imagepool import pool_sizing
from imagepool.pool_sizing import (
    FAILED,
    HEALTHY,
    RESIZE_ERRORS,
    SHORT,
    WAITING,
    assess,
    describe_counts,
    describe_states,
    pool_id_problem,
    resize_error_rule,
    resize_timeout,
    steady_timeout,
)


@pytest.mark.parametrize(
    ("nodes", "minutes"), [(0, 15), (1, 15), (1000, 15), (1001, 30), (2000, 30), (3000, 45), (3001, 60), (-5, 15)]
)
def test_resize_timeout_is_15_minutes_per_started_1000_nodes(nodes, minutes):
    assert resize_timeout(nodes) == timedelta(minutes=minutes)


def test_steady_timeout_adds_node_start_up_to_the_resize_timeout():
    assert steady_timeout(3000) == timedelta(minutes=45 + 30)
    assert steady_timeout(10, timedelta(hours=1)) == timedelta(minutes=90)


# Every code in the table, with what the sensor must do about it: a meta-test below keeps them in step.
RESIZE_ERROR_TABLE = {
    "AllocationFailed": (True, "Reason"),
    "AllocationTimedout": (True, "raise resize_timeout"),
    "InternalError": (True, "transient"),
    "ServerBusy": (True, "busy"),
    "OperationTimedOut": (True, "transient"),
    "AccountCoreQuotaReached": (False, "request more dedicated cores"),
    "AccountLowPriorityCoreQuotaReached": (False, "request more spot (low-priority) cores"),
    "AccountSpotCoreQuotaReached": (False, "request more spot cores"),
    "AccountVMSeriesCoreQuotaReached": (False, "request more per-VM-series cores"),
    "InvalidPropertyValue": (False, "fix the pool property"),
    "ResizeStopped": (False, "stopped the resize"),
    "RemoveNodesFailed": (False, "removing nodes failed"),
    "CommunicationEnabledPoolReachedMaxVMCount": (False, "lower the target"),
}


@pytest.mark.parametrize(("code", "retryable", "step"), [(c, *v) for c, v in RESIZE_ERROR_TABLE.items()])
def test_resize_error_classification(code, retryable, step):
    rule = resize_error_rule(code)
    assert rule.retryable is retryable
    assert step in rule.next_step


def test_every_resize_error_rule_is_tested():
    assert set(RESIZE_ERROR_TABLE) == set(RESIZE_ERRORS)


def test_unknown_resize_error_is_not_retried():
    assert resize_error_rule("SomethingNew") == pool_sizing.UNKNOWN_RESIZE_ERROR
    assert resize_error_rule("SomethingNew").retryable is False


# (counts, target, min healthy, max failed) -> (verdict, healthy, failed, pending, required, tolerated)
HEALTH_TABLE = [
    ({}, 0, 0.95, 0.05, (HEALTHY, 0, 0, 0, 0, 0)),
    ({"idle": 3000}, 3000, 1.0, 0.0, (HEALTHY, 3000, 0, 0, 3000, 0)),
    ({"idle": 1800, "running": 1050, "starting": 150}, 3000, 0.95, 0.05, (HEALTHY, 2850, 0, 150, 2850, 150)),
    ({"idle": 1800, "starting": 12, "unusable": 3}, 3000, 0.95, 0.05, (WAITING, 1800, 3, 12, 2850, 150)),
    ({"idle": 9, "startTaskFailed": 1}, 10, 0.8, 0.1, (HEALTHY, 9, 1, 0, 8, 1)),
    ({"idle": 7, "startTaskFailed": 3}, 10, 0.7, 0.2, (FAILED, 7, 3, 0, 7, 2)),
    ({"idle": 2, "unusable": 2}, 4, 0.5, 0.0, (FAILED, 2, 2, 0, 2, 0)),
    ({"idle": 1, "unusable": 1, "creating": 2}, 4, 0.95, 0.5, (WAITING, 1, 1, 2, 4, 2)),
    ({"idle": 8, "preempted": 2}, 10, 0.95, 0.05, (SHORT, 8, 0, 0, 10, 0)),
    ({"idle": 2, "waitingForStartTask": 1}, 3, 1.0, 0.0, (WAITING, 2, 0, 1, 3, 0)),
    ({"running": 2, "rebooting": 1}, 3, 0.5, 0.0, (HEALTHY, 2, 0, 1, 2, 0)),
    ({"leavingPool": 2}, 2, 0.5, 0.0, (SHORT, 0, 0, 0, 1, 0)),
]


@pytest.mark.parametrize(("counts", "target", "min_healthy", "max_failed", "expected"), HEALTH_TABLE)
def test_health(counts, target, min_healthy, max_failed, expected):
    health = assess(counts, target, min_healthy, max_failed)
    assert (
        health.verdict,
        health.healthy,
        health.failed,
        health.pending,
        health.required,
        health.tolerated,
    ) == expected


def test_fractions_of_exact_products_do_not_round_up():
    # 0.95 * 100 is 95.00000000000001 in floating point; 95 nodes are enough.
    assert assess({"idle": 95}, 100, 0.95, 0.05).verdict == HEALTHY
    assert assess({"idle": 97, "unusable": 3}, 100, 0.95, 0.03).verdict == HEALTHY


def test_unusable_and_failed_start_tasks_are_never_done():
    for state in pool_sizing.FAILED_STATES:
        assert state not in pool_sizing.HEALTHY_STATES
        assert state not in pool_sizing.PENDING_STATES
    assert assess({"unusable": 2}, 2, 0.0, 0.0).verdict == FAILED


def test_describe_counts_shows_idle_against_target_then_the_rest():
    counts = {"idle": 1800, "running": 0, "starting": 12, "unusable": 3, "total": 1815}
    assert describe_counts(counts, 3000) == "1800/3000 idle, 12 starting, 3 unusable"
    assert describe_counts({}, 0) == "0/0 idle"
    assert describe_counts({"idle": 1, "deallocated": 2, "running": 4}, 7) == "1/7 idle, 4 running, 2 deallocated"


def test_describe_states_lists_nonzero_counters():
    assert (
        describe_states({"idle": 2, "running": 1, "leavingPool": 3, "total": 6}) == "2 idle, 1 running, 3 leavingPool"
    )
    assert describe_states({"idle": 0, "total": 0}) == ""


@pytest.mark.parametrize(
    ("pool_id", "ok"),
    [
        ("render-1-4-2", True),
        ("a" * 64, True),
        ("p_1", True),
        ("a" * 65, False),
        ("", False),
        ("render.1.4.2", False),
        ("pool 1", False),
        (None, False),
        (7, False),
    ],
)
def test_pool_id_rules(pool_id, ok):
    assert (pool_id_problem(pool_id) is None) is ok
