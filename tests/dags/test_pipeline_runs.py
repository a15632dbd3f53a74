"""The demo pipeline run end to end against the local Azure cloud, the way ``airflow dags test`` runs
it: every task, deferral and trigger for real, in this process, on a copy of the spec.
"""

from __future__ import annotations

import re

# The demo spec's pools: account, id prefix, target nodes (dedicated + spot).
POOLS = [("imagepoolbatch", "render-we", 6), ("imagepoolbatchne", "render-ne", 2)]
VM_PUT = re.compile(r"/providers/Microsoft\.Compute/virtualMachines/[^/]+$", re.IGNORECASE)


def pool_states(cloud, account: str, pool_id: str) -> tuple[str, list[str]]:
    """A pool's allocation state and its nodes' states."""
    with cloud.batch(account) as batch:
        pool = batch.get_pool(pool_id)
        return pool.allocation_state, sorted(node.state for node in batch.list_nodes(pool_id))


def batch_pools(cloud, account: str) -> list[str]:
    with cloud.batch(account) as batch:
        return sorted(pool.id for pool in batch.list_pools())


def vm_puts(run) -> list[str]:
    """The run's requests that created (or changed) a virtual machine."""
    return [r["path"] for r in run.requests if r["method"] == "PUT" and VM_PUT.search(r["path"])]


def test_first_run_builds_the_image_and_both_pools(pipeline):
    cloud = pipeline.cloud
    run = pipeline.run()

    assert run.state == "success", run.failed_tasks()
    assert (run.plan["build"], run.plan["version"]) == (True, "1.0.0")
    assert cloud.names("arm/galleryImageVersions") == ["1.0.0"]
    for account, prefix, nodes in POOLS:
        pool_id = f"{prefix}-1-0-0"
        assert batch_pools(cloud, account) == [pool_id]
        assert pool_states(cloud, account, pool_id) == ("steady", ["idle"] * nodes)
        job = f"/jobs/smoke-{pool_id}"
        calls = [
            (r["method"], r["path"].split(f"/batch/{account}", 1)[-1])
            for r in run.requests
            if r["service"] == "batch" and f"/batch/{account}/jobs" in r["path"]
        ]
        assert ("POST", f"{job}/tasks") in calls
        assert ("DELETE", job) in calls
        with cloud.batch(account) as batch:
            assert [j.id for j in batch.list_jobs() if j.state != "deleting"] == []
    assert cloud.build_resources() == []
    assert run.asset_events["imagepool/ubuntu-batch/image"] == [{"version": "1.0.0"}] * 2
    for account, prefix, _ in POOLS:
        [event] = run.asset_events[f"imagepool/ubuntu-batch/pool/{prefix}"]
        assert event == {"pool_id": f"{prefix}-1-0-0", "version": "1.0.0", "account": account, "retiring": []}


def test_a_second_run_with_nothing_changed_builds_nothing(pipeline):
    cloud = pipeline.cloud
    assert pipeline.run().state == "success"

    run = pipeline.run()

    assert run.state == "success", run.failed_tasks()
    assert (run.plan["build"], run.plan["version"]) == (False, "1.0.0")
    assert vm_puts(run) == []
    assert run.tasks["image.create_build_vm"] == "skipped"
    assert cloud.names("arm/galleryImageVersions") == ["1.0.0"]
    for account, prefix, nodes in POOLS:
        assert batch_pools(cloud, account) == [f"{prefix}-1-0-0"]
        assert pool_states(cloud, account, f"{prefix}-1-0-0") == ("steady", ["idle"] * nodes)


def test_a_changed_build_script_rolls_the_pools_onto_a_new_version(pipeline):
    cloud = pipeline.cloud
    assert pipeline.run().state == "success"
    pipeline.edit_script("render toolchain 1.4", "render toolchain 1.5")
    pipeline.edit_spec(lambda spec: spec["version"].update(retention=1))

    run = pipeline.run()

    assert run.state == "success", run.failed_tasks()
    assert (run.plan["build"], run.plan["version"]) == (True, "1.0.1")
    assert len(vm_puts(run)) == 1
    for account, prefix, nodes in POOLS:
        assert batch_pools(cloud, account) == [f"{prefix}-1-0-1"]
        assert pool_states(cloud, account, f"{prefix}-1-0-1") == ("steady", ["idle"] * nodes)
    # Retention 1 leaves the new version only, and 1.0.0 goes only after the pools booting from it.
    assert cloud.names("arm/galleryImageVersions") == ["1.0.1"]
    deletes = [r["path"].rsplit("/", 1)[-1] for r in run.requests if r["method"] == "DELETE"]
    assert deletes.index("1.0.0") > max(deletes.index(f"{prefix}-1-0-0") for _, prefix, _ in POOLS)
    assert cloud.build_resources() == []


def test_a_build_that_never_finishes_fails_and_leaves_nothing_behind(pipeline):
    cloud = pipeline.cloud
    cloud.fault({"kind": "build_never_finishes", "match": {"name": "^ipb-ubuntu-batch-1-0-0$"}})
    pipeline.edit_spec(lambda spec: spec["build"].update(timeout_minutes=5))

    run = pipeline.run()

    assert run.state == "failed"
    assert run.failed_tasks() == ["image.wait_for_build"]
    # The spec's limit is the build's limit: waiting again on the same VM cannot mend it.
    assert run.tries["image.wait_for_build"] == 1
    failure = re.search(r"Timed out; last seen: build VM ipb-ubuntu-batch-1-0-0: .*", run.output)
    assert failure, run.output[-3000:]
    assert "/var/log/cloud-init-output.log" in failure.group(0)
    assert run.tasks["image.cleanup_build_resources"] == "success"
    cloud.assert_nothing_leaked(versions=[], pools={})


def test_a_failing_smoke_job_discards_the_candidate_and_keeps_the_running_pool(pipeline):
    cloud = pipeline.cloud
    assert pipeline.run().state == "success"
    pipeline.edit_spec(
        lambda spec: spec["batch"]["pools"][0].update(
            smoke_command="/bin/bash -c '/opt/render/bin/render --version; exit 3'"
        )
    )

    run = pipeline.run(force_rebuild=True)

    assert run.state == "failed"
    assert run.failed_tasks() == ["region_westeurope.pool_render-we.smoke"]
    # A check that ran and said no says no again: no retry.
    assert run.tries["region_westeurope.pool_render-we.smoke"] == 1
    assert re.search(r"Smoke task smoke in job smoke-render-we-1-0-1 on pool render-we-1-0-1 exited with 3", run.output)
    assert run.tasks["region_westeurope.pool_render-we.discard"] == "success"
    assert batch_pools(cloud, "imagepoolbatch") == ["render-we-1-0-0"]
    assert pool_states(cloud, "imagepoolbatch", "render-we-1-0-0") == ("steady", ["idle"] * 6)
    changes = [
        (r["method"], r["path"])
        for r in run.requests
        if re.search(r"/pools/render-we-1-0-0(/|$)", r["path"]) and r["method"] != "GET"
    ]
    assert changes == []
    # The other region's pool passed its smoke job and moved on to the new version.
    assert batch_pools(cloud, "imagepoolbatchne") == ["render-ne-1-0-1"]
    # Nothing is pruned after a failed rollout: the running pool's version stays.
    assert cloud.names("arm/galleryImageVersions") == ["1.0.0", "1.0.1"]
