"""Compute nodes, node counts and supported images through the real azure-batch clients over HTTPS."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from azure.batch import models as bm
from azure.core.exceptions import ResourceNotFoundError

from tests.integration import clients
from tests.integration.emulator.batch_support import POLL, counts, marketplace_pool, steady, wait_until

NODE_ID = re.compile(r"^tvmps_[0-9a-f]{64}_[dp]$")


def with_start_task(pool: bm.BatchPoolCreateOptions, wait: bool = True) -> bm.BatchPoolCreateOptions:
    pool.start_task = bm.BatchStartTask(command_line="/bin/bash -c 'apt-get install -y tool'", wait_for_success=wait)
    return pool


def test_nodes_go_through_their_states_to_idle(batch, pools, control):
    # Slow enough to see every state: allocation at 30 s, creating 120 s, starting 60 s, start task 60 s.
    control.patch(
        "/durations",
        json={"pool_allocation_per_replica_batch": 0, "node_boot": 120, "node_agent_start": 60, "start_task": 60},
    )
    pools.add(batch, with_start_task(marketplace_pool("states", 2)))
    seen = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        dedicated, _ = counts(batch, "states")
        step = {k: v for k, v in dedicated.items() if k != "total"}
        if not seen or seen[-1] != step:
            seen.append(step)
        if dedicated == {"idle": 2, "total": 2}:
            break
        time.sleep(0.02)
    assert [state for step in seen for state in step] == ["creating", "starting", "waitingForStartTask", "idle"]
    pool = batch.get_pool("states")
    assert (pool.allocation_state, pool.current_dedicated_nodes) == ("steady", 2)
    node = next(iter(batch.list_nodes("states")))
    assert NODE_ID.match(node.id)
    assert node.id.endswith("_d")
    assert node.is_dedicated
    assert (node.state, node.scheduling_state, node.vm_size) == ("idle", "enabled", "standard_d2s_v3")
    assert node.allocation_time <= node.last_boot_time <= node.state_transition_time
    assert node.ip_address
    assert node.affinity_id == f"TVM:{node.id}"
    info = node.start_task_info
    assert (info.state, info.exit_code, info.result, info.failure_info) == ("completed", 0, "success", None)
    assert node.start_task.command_line.startswith("/bin/bash")
    assert node.node_agent_info.version
    assert node.virtual_machine_info.image_reference.exact_version == "22.04.202411010"  # latest, resolved


def test_start_task_failures_and_unusable_nodes_show_in_node_counts(batch, pools, control):
    control.post(
        "/faults", json={"kind": "start_task_failed", "match": {"pool": "^faulty$"}, "fraction": 0.5, "exit_code": 7}
    )
    control.post("/faults", json={"kind": "unusable_nodes", "match": {"pool": "^faulty$"}, "fraction": 0.25})
    pools.add(batch, with_start_task(marketplace_pool("faulty", 4)))
    dedicated = wait_until(
        lambda: (found := counts(batch, "faulty")[0]).get("idle") == 1 and found.get("startTaskFailed") == 2 and found
    )
    assert dedicated == {"idle": 1, "startTaskFailed": 2, "unusable": 1, "total": 4}
    assert steady(batch, "faulty").resize_errors is None  # allocation itself succeeded
    by_state = {}
    for node in batch.list_nodes("faulty"):
        by_state.setdefault(node.state, []).append(node)
    failed = by_state["starttaskfailed"][0].start_task_info
    assert (failed.exit_code, failed.result, failed.failure_info.code) == (7, "failure", "FailureExitCode")
    unusable = by_state["unusable"][0]
    assert unusable.errors
    assert unusable.errors[0].code
    assert unusable.start_task_info is None
    # The same pool with the same faults fails the same nodes: the choice is deterministic.
    assert sorted(n.id for n in by_state["starttaskfailed"]) == sorted(
        n.id for n in batch.list_nodes("faulty", filter="state eq 'starttaskfailed'")
    )


def test_start_task_without_wait_leaves_nodes_idle(batch, pools, control):
    control.post("/faults", json={"kind": "start_task_failed", "match": {"pool": "^no_wait$"}, "fraction": 1})
    pools.add(batch, with_start_task(marketplace_pool("no_wait", 1), wait=False))
    wait_until(lambda: counts(batch, "no_wait")[0] == {"idle": 1, "total": 1})
    node = wait_until(lambda: (n := next(iter(batch.list_nodes("no_wait")))).start_task_info.state == "completed" and n)
    assert (node.state, node.start_task_info.exit_code) == ("idle", 1)


def test_low_priority_nodes_are_counted_apart(batch, pools):
    pools.add(batch, marketplace_pool("spot", 1, target_low_priority_nodes=2))
    wait_until(lambda: counts(batch, "spot") == ({"idle": 1, "total": 1}, {"idle": 2, "total": 2}))
    pool = batch.get_pool("spot")
    assert (pool.current_dedicated_nodes, pool.current_low_priority_nodes) == (1, 2)
    assert sorted(n.id[-2:] for n in batch.list_nodes("spot")) == ["_d", "_p", "_p"]


def test_list_nodes_pages_filters_and_get_node(batch, pools):
    pools.add(batch, marketplace_pool("listed", 5))
    wait_until(lambda: counts(batch, "listed")[0].get("idle") == 5)
    pages = [[n.id for n in page] for page in batch.list_nodes("listed", max_results=2).by_page()]
    assert [len(page) for page in pages] == [2, 2, 1]
    everyone = [node_id for page in pages for node_id in page]
    assert len(set(everyone)) == 5
    assert len(list(batch.list_nodes("listed", filter="state eq 'idle'"))) == 5
    assert list(batch.list_nodes("listed", filter="state eq 'running' or state eq 'starting'")) == []
    node = batch.get_node("listed", everyone[3])
    assert (node.id, node.url.endswith(f"/pools/listed/nodes/{everyone[3]}")) == (everyone[3], True)
    with pytest.raises(ResourceNotFoundError) as err:
        batch.get_node("listed", "tvmps_missing_d")
    assert err.value.error.code == "NodeNotFound"
    with pytest.raises(ResourceNotFoundError) as err:
        list(batch.list_nodes("no_such_pool"))
    assert err.value.error.code == "PoolNotFound"


def test_shrinking_removes_nodes_through_leaving_pool(batch, pools, control):
    pools.add(batch, marketplace_pool("shrunk", 3))
    wait_until(lambda: counts(batch, "shrunk")[0].get("idle") == 3)
    control.patch("/durations", json={"node_remove": 300})
    poller = batch.begin_resize_pool(
        "shrunk", bm.BatchPoolResizeOptions(target_dedicated_nodes=1), polling_interval=POLL
    )
    assert counts(batch, "shrunk")[0] == {"idle": 1, "leavingPool": 2, "total": 3}
    poller.result()
    assert counts(batch, "shrunk")[0] == {"idle": 1, "total": 1}
    assert batch.get_pool("shrunk").current_dedicated_nodes == 1


def test_supported_images_cover_the_catalogue(batch):
    images = list(batch.list_supported_images())
    agents = {(i.image_reference.publisher, i.image_reference.sku): i.node_agent_sku_id for i in images}
    assert agents[("Canonical", "22_04-lts")] == "batch.node.ubuntu 22.04"
    assert agents[("MicrosoftWindowsServer", "2022-datacenter-g2")] == "batch.node.windows amd64"
    assert {i.os_type for i in images} == {"linux", "windows"}
    assert all(
        i.verification_type == "verified"
        and i.batch_support_end_of_life
        and i.capabilities is not None
        and i.image_reference.version == "latest"
        for i in images
    )
    windows = list(batch.list_supported_images(filter="osType eq 'windows'"))
    assert windows
    assert all(i.node_agent_sku_id == "batch.node.windows amd64" for i in windows)
    assert len([page for page in batch.list_supported_images(max_results=3).by_page()]) == -(-len(images) // 3)


async def test_async_node_counts_and_nodes(info, pools, batch):
    pools.add(batch, marketplace_pool("async_nodes", 2))
    async with clients.async_credential(info) as credential, clients.async_batch(info, credential) as client:
        for _ in range(200):
            found = [c async for c in client.list_pool_node_counts(filter="poolId eq 'async_nodes'")]
            if found and found[0].dedicated.idle == 2:
                break
            await asyncio.sleep(POLL)
        assert (found[0].dedicated.total, found[0].low_priority.total) == (2, 0)
        nodes = [n async for n in client.list_nodes("async_nodes")]
        assert {n.state for n in nodes} == {"idle"}
        assert (await client.get_node("async_nodes", nodes[0].id)).id == nodes[0].id
