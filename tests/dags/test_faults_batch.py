"""The demo pipeline run end to end while Azure Batch misbehaves: throttling, server errors, dropped
connections, allocation timeouts, a core quota, failing start tasks and unusable nodes.

Each run either completes or fails naming the pool or account, Azure's error code and what to do
next; either way it leaves no build resources, no smoke job and no pool twice, and a pool that fails
its checks is discarded while the pool already in service stays.
"""

from __future__ import annotations

import re

import pytest

from tests.dags.faults import failure, remaining_faults

WE, NE = "imagepoolbatch", "imagepoolbatchne"
FIRST_POOLS = {WE: ["render-we-1-0-0"], NE: ["render-ne-1-0-0"]}
WE_POOL = "region_westeurope.pool_render-we"


def pool_add_statuses(run) -> list[int]:
    """What Batch answered each pool creation of the run, in both accounts (0: no answer)."""
    return sorted(
        r["status"]
        for r in run.requests
        if r["service"] == "batch" and r["method"] == "POST" and re.search(r"/batch/[^/]+/pools$", r["path"])
    )


def resizes(run, pool_id: str) -> int:
    return sum(1 for r in run.requests if r["method"] == "POST" and r["path"].endswith(f"/pools/{pool_id}/resize"))


# --- transient trouble: the SDK's retries and Airflow's absorb it --------------------------------------------
def storm(kind: str, **parameters) -> list[dict]:
    """A fault on every family of Batch calls the rollout makes. Four on the pool creations are one more than
    the SDK's three retries of a request, so the creating task fails once and its next try creates the pool.
    """
    families = [("POST", r"/pools$", 4), ("GET", r"/pools/[^/]+$", 3), ("GET", r"/nodecounts$", 3), (".*", r"/jobs", 3)]
    return [
        {
            "kind": kind,
            "count": count,
            "match": {"service": "batch", "method": f"^{method}$", "path": path},
            **parameters,
        }
        for method, path, count in families
    ]


# A dropped answer to a pool creation that Batch carried out: the retry finds the pool (409) and reuses it.
LOST_POOL_ANSWER = {
    "kind": "drop",
    "applied": True,
    "count": 1,
    "match": {"service": "batch", "method": "^POST$", "path": r"/pools$"},
}


@pytest.mark.parametrize(
    ("rules", "pool_adds"),
    [
        pytest.param(storm("throttle", retry_after=1), [201, 201, 429, 429, 429, 429], id="throttling-429"),
        pytest.param(storm("server_error", status=503), [201, 201, 503, 503, 503, 503], id="server-errors-503"),
        pytest.param([LOST_POOL_ANSWER, *storm("drop")[1:]], [0, 201, 409], id="dropped-connections"),
    ],
)
def test_transient_batch_trouble_is_retried_and_the_run_completes(pipeline, rules, pool_adds):
    cloud = pipeline.cloud
    for rule in rules:
        cloud.fault(rule)

    run = pipeline.run()

    assert run.state == "success", run.failed_tasks()
    assert remaining_faults(cloud) == []  # every fault fired
    # Each pool was created once: a refused creation made nothing, a lost answer's retry found the pool.
    assert pool_add_statuses(run) == pool_adds
    cloud.assert_nothing_leaked(versions=["1.0.0"], pools=FIRST_POOLS)


# --- allocation ---------------------------------------------------------------------------------------------
def test_an_allocation_timeout_is_resized_again_and_the_run_completes(pipeline):
    cloud = pipeline.cloud
    cloud.fault({"kind": "allocation_timeout", "count": 1, "match": {"account": f"^{WE}$", "pool": "^render-we"}})

    run = pipeline.run()

    assert run.state == "success", run.failed_tasks()
    assert run.tries[f"{WE_POOL}.steady"] == 1
    failure(
        run,
        r"pool render-we-1-0-0 in Batch account \S+/imagepoolbatch: Azure error AllocationTimedout: .*"
        r"resizing to 4 dedicated \+ 2 spot nodes again \(1 of 2\)",
    )
    assert resizes(run, "render-we-1-0-0") == 1
    assert pool_add_statuses(run) == [201, 201]
    cloud.assert_nothing_leaked(versions=["1.0.0"], pools=FIRST_POOLS)


def test_persistent_allocation_timeouts_fail_discard_the_candidate_and_keep_the_running_pool(pipeline):
    cloud = pipeline.cloud
    assert pipeline.run().state == "success"
    cloud.fault({"kind": "allocation_timeout", "match": {"account": f"^{WE}$", "pool": "^render-we-1-0-1$"}})

    run = pipeline.run(force_rebuild=True)

    assert run.state == "failed"
    assert run.failed_tasks() == [f"{WE_POOL}.steady"]
    # The sensor spent its resizes: an Airflow retry would only spend them again.
    assert run.tries[f"{WE_POOL}.steady"] == 1
    assert resizes(run, "render-we-1-0-1") == 2 + 1  # two more allocations, then the discard's shrink to 0
    failure(
        run,
        r"AirflowFailException: pool render-we-1-0-1 in Batch account \S+/imagepoolbatch: Azure error "
        r"AllocationTimedout: .* -> allocation outlasted the resize timeout; if it keeps happening, raise "
        r"resize_timeout or add image replicas in the region \(gave up after 2 resizes\)",
    )
    assert run.tasks[f"{WE_POOL}.discard"] == "success"
    # The candidate is gone, the pool in service untouched; the other region moved on to the new version.
    cloud.assert_nothing_leaked(versions=["1.0.0", "1.0.1"], pools={WE: ["render-we-1-0-0"], NE: ["render-ne-1-0-1"]})
    assert [
        (r["method"], r["path"])
        for r in run.requests
        if re.search(r"/pools/render-we-1-0-0(/|$)", r["path"]) and r["method"] != "GET"
    ] == []


def test_a_core_quota_fails_at_once_naming_the_account_and_the_quota_to_raise(pipeline):
    cloud = pipeline.cloud
    # Room for two of the pool's four dedicated Standard_D2s_v3 nodes (2 cores each).
    cloud.fault({"kind": "core_quota", "dedicated_cores": 4, "match": {"account": f"^{WE}$"}})

    run = pipeline.run()

    assert run.state == "failed"
    assert run.failed_tasks() == [f"{WE_POOL}.steady"]
    assert run.tries[f"{WE_POOL}.steady"] == 1
    assert resizes(run, "render-we-1-0-0") == 1  # the discard's shrink only: a quota is not worth another try
    failure(
        run,
        r"AirflowFailException: pool render-we-1-0-0 in Batch account \S+/imagepoolbatch: Azure error "
        r"AccountCoreQuotaReached: .* -> request more dedicated cores for the Batch account \(Azure portal "
        r"> Batch account > Quotas\)",
    )
    assert run.tasks[f"{WE_POOL}.discard"] == "success"
    assert pool_add_statuses(run) == [201, 201]
    cloud.assert_nothing_leaked(versions=["1.0.0"], pools={NE: ["render-ne-1-0-0"]})


# --- nodes that never become usable -------------------------------------------------------------------------
# The spec asks 80 % of render-we's 6 nodes to be healthy: 1 failed node is tolerated, 2 are not.
FAILED_NODE_WHY = {
    "start_task_failed": r"start task exited with 1, Azure error FailureExitCode: [^)]*",
    "unusable_nodes": r"Azure error UnusableNode: [^)]*",
}


@pytest.mark.parametrize("kind", sorted(FAILED_NODE_WHY))
@pytest.mark.parametrize(("failing", "completes"), [(1, True), (2, False)], ids=["tolerated", "too-many"])
def test_failed_nodes_against_the_spec_tolerance(pipeline, kind, failing, completes):
    cloud = pipeline.cloud
    pipeline.edit_spec(lambda spec: spec["batch"]["pools"][0].update(required_healthy_fraction=0.8))
    # The fault picks floor(6 * fraction) of the pool's new nodes.
    cloud.fault({"kind": kind, "fraction": (failing + 0.1) / 6, "match": {"account": f"^{WE}$", "pool": "^render-we"}})

    run = pipeline.run()

    if completes:
        assert run.state == "success", run.failed_tasks()
        failure(run, r"Pool render-we-1-0-0 is usable, but 1 of 6 nodes are not idle or running")
        cloud.assert_nothing_leaked(versions=["1.0.0"], pools=FIRST_POOLS)
        return
    assert run.state == "failed"
    assert run.failed_tasks() == [f"{WE_POOL}.steady"]
    assert run.tries[f"{WE_POOL}.steady"] == 1  # failed nodes do not recover
    failure(
        run,
        r"AirflowFailException: pool render-we-1-0-0: steady, .*: 2 of 6 nodes are unusable or failed their "
        rf"start task, more than the 1 tolerated \(node \w+: {FAILED_NODE_WHY[kind]}\) -> Look at the start "
        r"task's stdout.txt and stderr.txt on a failed node",
    )
    assert run.tasks[f"{WE_POOL}.discard"] == "success"
    cloud.assert_nothing_leaked(versions=["1.0.0"], pools={NE: ["render-ne-1-0-0"]})
