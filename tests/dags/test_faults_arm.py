"""The demo pipeline run end to end while Azure Resource Manager misbehaves: throttling, server errors and
dropped connections on the build's calls, a build VM that fails to provision, a snapshot or a managed image
that Azure keeps failing, and an image version whose replication fails in one region.

Each run either completes or fails naming the resource, Azure's error code and what to do next; either way
it leaves no build resources behind and creates nothing twice. (A build that never finishes is in
test_pipeline_runs.)
"""

from __future__ import annotations

import re

import pytest

from tests.dags.faults import answers, failure, faulted, remaining_faults

VERSION = "1.0.0"
BUILD_VM = "ipb-ubuntu-batch-1-0-0"
POOLS = {"imagepoolbatch": ["render-we-1-0-0"], "imagepoolbatchne": ["render-ne-1-0-0"]}
VM_PATH = rf"/virtualMachines/{BUILD_VM}$"
VERSION_PATH = rf"/versions/{re.escape(VERSION)}$"


# --- transient trouble: the SDK's retries, the waits' own loop and Airflow's retries absorb it ------------------
# Each family of ARM calls a build makes, reads and writes, from the operators (the sync SDK, which tries a
# request 4 times in all) and from the waits (the aio SDK, then the wait's loop), with a 5xx status the SDK
# retries for that method. Four faults on the build VM's creation outlast the SDK: the task fails once, and
# its next try finds no VM and creates it.
FAMILIES = [
    ("PUT", VM_PATH, 4, 503),
    ("GET", VM_PATH, 3, 500),
    ("POST", rf"/{BUILD_VM}/deallocate$", 2, 503),
    ("PUT", r"/snapshots/[^/]+$", 2, 502),
    ("GET", VERSION_PATH, 2, 502),
]


def storm(kind: str, **parameters) -> list[dict]:
    return [
        {
            "kind": kind,
            "count": count,
            "match": {"service": "arm", "method": f"^{method}$", "path": path},
            **({"status": status} if kind == "server_error" else {}),
            **parameters,
        }
        for method, path, count, status in FAMILIES
    ]


# Dropped connections: reads (sync and aio), a creation the SDK sends again, a POST it does not (the task's
# retry does), and a version creation Azure carried out before the answer was lost: Azure refuses the SDK's
# second PUT while that version is Creating (409), and the task's retry finds the version and reuses it.
DROPS = [
    {"kind": "drop", "count": 1, "match": {"service": "arm", "method": "^PUT$", "path": VM_PATH}},
    {"kind": "drop", "count": 3, "match": {"service": "arm", "method": "^GET$", "path": VM_PATH}},
    {"kind": "drop", "count": 1, "match": {"service": "arm", "method": "^POST$", "path": rf"/{BUILD_VM}/deallocate$"}},
    {"kind": "drop", "count": 2, "match": {"service": "arm", "method": "^GET$", "path": VERSION_PATH}},
    {"kind": "drop", "applied": True, "count": 1, "match": {"service": "arm", "method": "^PUT$", "path": VERSION_PATH}},
]


# What the try that the SDK could not save said: the resource, Azure's code, and advice about Azure's state (not
# the advice for a failure of the resource itself).
@pytest.mark.parametrize(
    ("kind", "rules", "vm_puts", "version_puts", "failed_try"),
    [
        pytest.param(
            "throttle",
            storm("throttle", retry_after=1),
            [429] * 4 + [201],
            [201],
            rf"build VM {BUILD_VM} \(\S+\): Azure error TooManyRequests: .* -> Azure is throttling",
            id="throttling-429",
        ),
        pytest.param(
            "server_error",
            storm("server_error"),
            [503] * 4 + [201],
            [201],
            rf"build VM {BUILD_VM} \(\S+\): Azure error ServiceUnavailable: .* -> Azure is busy",
            id="server-errors-5xx",
        ),
        pytest.param(
            "drop",
            DROPS,
            [0, 201],
            [0, 409],
            rf"deallocate build VM {BUILD_VM} \(\S+\): Azure error ServiceResponseError: .* -> the connection "
            "broke before Azure answered",
            id="dropped-connections",
        ),
    ],
)
def test_transient_arm_trouble_is_ridden_out_and_the_run_completes(
    pipeline, kind, rules, vm_puts, version_puts, failed_try
):
    cloud = pipeline.cloud
    for rule in rules:
        cloud.fault(rule)

    run = pipeline.run()

    assert run.state == "success", run.failed_tasks()
    assert remaining_faults(cloud) == []
    assert faulted(run, kind) == sum(rule["count"] for rule in rules)
    failure(run, failed_try)
    # One build VM and one version: a request sent again, or a task tried again, created nothing twice.
    assert answers(run, "PUT", VM_PATH) == vm_puts
    assert answers(run, "PUT", VERSION_PATH) == version_puts
    cloud.assert_nothing_leaked(versions=[VERSION], pools=POOLS)


# --- Azure fails an operation ------------------------------------------------------------------------------------
def test_a_build_vm_that_fails_to_provision_fails_at_once_and_is_deleted(pipeline):
    cloud = pipeline.cloud
    cloud.fault({"kind": "vm_provisioning_failed", "match": {"name": f"^{BUILD_VM}$"}})

    run = pipeline.run()

    assert run.state == "failed"
    assert run.failed_tasks() == ["image.create_build_vm"]
    # Azure leaves the VM Failed, and a retry would only find it so.
    assert run.tries["image.create_build_vm"] == 1
    message = failure(run, rf"build VM {BUILD_VM} \(/subscriptions/\S+\): Azure error OSProvisioningTimedOut: .*")
    assert "left in state Failed: delete it with the cleanup task" in message
    # The failed VM, its disks and its NIC are deleted all the same.
    assert run.tasks["image.cleanup_build_resources"] == "success"
    assert answers(run, "PUT", VM_PATH) == [201]
    assert answers(run, "DELETE", VM_PATH) == [202]
    cloud.assert_nothing_leaked(versions=[], pools={})


@pytest.mark.parametrize(
    ("resource_type", "name", "task", "code"),
    [
        pytest.param(
            "snapshots",
            f"{BUILD_VM}-osdisk-1-0-0",
            "image.snapshot[0]",
            "InternalDiskManagementError",
            id="os-disk-snapshot",
        ),
        pytest.param(
            "images", "ubuntu-batch-1-0-0", "image.managed_image", "InternalOperationError", id="managed-image"
        ),
    ],
)
def test_a_capture_azure_keeps_failing_fails_after_its_retries_and_leaves_nothing(
    pipeline, resource_type, name, task, code
):
    cloud = pipeline.cloud
    cloud.fault(
        {
            "kind": "operation_failed",
            "code": code,
            "match": {"resource_type": f"^{resource_type}$", "name": f"^{name}$"},
        }
    )

    run = pipeline.run()

    assert run.state == "failed"
    assert run.failed_tasks() == [task]
    # Each try asked Azure again (a failure of this kind often passes), and Azure failed each.
    assert run.tries[task] == 3
    assert [rule["fired"] for rule in remaining_faults(cloud)] == [3]
    assert all(200 <= status < 300 for status in answers(run, "PUT", rf"/{resource_type}/{name}$"))
    kind = "snapshot" if resource_type == "snapshots" else "managed image"
    message = failure(run, rf"{kind} {name} \(/subscriptions/\S+\): Azure error {code}: .*")
    assert "a retry of the task" in message
    assert "then run the build again" in message
    assert run.tasks["image.publish_version"] == "upstream_failed"
    # The build VM and everything made from it (the other disk's snapshot too) are deleted.
    assert run.tasks["image.cleanup_build_resources"] == "success"
    cloud.assert_nothing_leaked(versions=[], pools={})


# --- replication fails in one region -------------------------------------------------------------------------------
NORTH_EUROPE_FAILS = {
    "kind": "replication_failed",
    "message": "Storage allocation failure.",
    "match": {"region": "^northeurope$", "version": f"^{re.escape(VERSION)}$"},
}


def test_replication_failing_in_a_region_twice_is_repaired_and_the_run_completes(pipeline):
    cloud = pipeline.cloud
    cloud.fault({**NORTH_EUROPE_FAILS, "count": 2})

    run = pipeline.run()

    assert run.state == "success", run.failed_tasks()
    assert remaining_faults(cloud) == []
    # Each failure: the region removed from the version's target regions and added back (Azure's advice).
    assert answers(run, "PATCH", VERSION_PATH) == [200] * 4
    assert answers(run, "PUT", VERSION_PATH) == [201]
    cloud.assert_nothing_leaked(versions=[VERSION], pools=POOLS)


def test_replication_failing_for_good_in_a_region_fails_there_and_the_next_run_builds_anew(pipeline):
    cloud = pipeline.cloud
    cloud.fault(NORTH_EUROPE_FAILS)

    run = pipeline.run()

    assert run.state == "failed"
    assert run.failed_tasks() == ["image.replicated_everywhere", "region_northeurope.replicated"]
    # The sensor's repairs were its retries: Airflow does not retry it on top of them.
    assert run.tries["region_northeurope.replicated"] == 1
    message = failure(
        run,
        r"/versions/1\.0\.0: Azure error ReplicationFailed: replication failed in North Europe "
        r"after 2 retries .*",
    )
    assert "Storage allocation failure." in message
    assert "re-run this task" in message
    # The failed version is kept: West Europe has its replica and its pool rolled onto it (pruning never takes a
    # version a pool boots from). North Europe's pool stays on what it had (here: nothing yet).
    assert run.tasks["region_westeurope.pool_render-we.promote"] == "success"
    assert run.tasks["region_northeurope.pool_render-ne.create"] == "upstream_failed"
    assert [v["state"] for v in cloud.resources("arm/galleryImageVersions")] == ["Failed"]
    cloud.assert_nothing_leaked(versions=[VERSION], pools={"imagepoolbatch": ["render-we-1-0-0"]})

    # Azure calls the version Failed, so the next run does not build on it: a region that failed every repair
    # is not trusted to a fourth, and a new version costs one build. Both pools roll onto the new version; the
    # failed one goes once no pool boots from it and retention lets it go.
    cloud.control.delete("/faults").raise_for_status()
    again = pipeline.run()

    assert again.state == "success", again.failed_tasks()
    assert (again.plan["build"], again.plan["version"]) == (True, "1.0.1")
    assert again.plan["reason"] == "the newest version 1.0.0 failed"
    cloud.assert_nothing_leaked(
        versions=[VERSION, "1.0.1"],
        pools={"imagepoolbatch": ["render-we-1-0-1"], "imagepoolbatchne": ["render-ne-1-0-1"]},
    )
