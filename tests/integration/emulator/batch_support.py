"""Shared pieces of the Batch data-plane tests: fast durations, pool bodies, waiting, cleanup."""

from __future__ import annotations

import contextlib
import time

import pytest
from azure.batch import models as bm
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import HttpResponseError

from tests.integration import clients

# A pool reaches idle nodes in well under a second of real time at the test emulator's speed (600).
FAST = {
    "pool_allocation_start": 30,
    "pool_allocation_per_replica_batch": 60,
    "node_boot": 30,
    "node_agent_start": 12,
    "start_task": 12,
    "pool_delete": 30,
    "node_remove": 12,
    "pool_resize_stop": 12,
    "task_schedule": 3,
    "task_run": 12,
    "job_delete": 6,
    "job_terminate": 6,
}
UBUNTU = {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts", "version": "latest"}
UBUNTU_AGENT = "batch.node.ubuntu 22.04"
POLL = 0.05


def marketplace_pool(
    pool_id: str,
    dedicated: int | None = 2,
    *,
    image: dict | None = None,
    agent: str = UBUNTU_AGENT,
    vm_size: str = "Standard_D2s_v3",
    **options,
) -> bm.BatchPoolCreateOptions:
    config = bm.VirtualMachineConfiguration(
        image_reference=bm.BatchVmImageReference(**(image or UBUNTU)), node_agent_sku_id=agent
    )
    return bm.BatchPoolCreateOptions(
        id=pool_id, vm_size=vm_size, virtual_machine_configuration=config, target_dedicated_nodes=dedicated, **options
    )


def gallery_pool(pool_id: str, image_id: str, dedicated: int = 2, **options) -> bm.BatchPoolCreateOptions:
    config = bm.VirtualMachineConfiguration(
        image_reference=bm.BatchVmImageReference(virtual_machine_image_id=image_id), node_agent_sku_id=UBUNTU_AGENT
    )
    return bm.BatchPoolCreateOptions(
        id=pool_id,
        vm_size="Standard_D2s_v3",
        virtual_machine_configuration=config,
        target_dedicated_nodes=dedicated,
        **options,
    )


def wait_until(check, timeout: float = 10.0):
    """Poll ``check`` until it returns something truthy; that value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s; last value {found!r}")
        time.sleep(POLL)


def resize(client, pool_id: str, dedicated: int, **options) -> None:
    """Resize through the SDK's poller and wait for it (steady)."""
    client.begin_resize_pool(
        pool_id, bm.BatchPoolResizeOptions(target_dedicated_nodes=dedicated, **options), polling_interval=POLL
    ).result()


def steady(client, pool_id: str):
    return wait_until(lambda: (p := client.get_pool(pool_id)).allocation_state == "steady" and p)


def error_values(err: HttpResponseError) -> dict[str, str]:
    """The Batch error's ``values`` (key -> value)."""
    return {item["key"]: item["value"] for item in err.response.json().get("values", [])}


def counts(client, pool_id: str) -> tuple[dict, dict]:
    """(dedicated, low-priority) node counts of one pool, zero counters left out."""
    found = list(client.list_pool_node_counts(filter=f"poolId eq '{pool_id}'"))
    assert [c.pool_id for c in found] == [pool_id]
    return tuple({k: v for k, v in kind.as_dict().items() if v} for kind in (found[0].dedicated, found[0].low_priority))


@pytest.fixture(scope="session")
def second_batch(info, credential):
    """The second Batch account, in another region than the first."""
    with clients.batch(info, credential, endpoint=info["batch_accounts"][1]["endpoint"]) as client:
        yield client


def shared_key(info, account: int = 0, key_of: int | None = None):
    """A client signing with an account's SharedKey (or, to test refusals, another account's key)."""
    name, endpoint = info["batch_accounts"][account]["name"], info["batch_accounts"][account]["endpoint"]
    key = info["batch_accounts"][account if key_of is None else key_of]["key"]
    return clients.batch(info, AzureNamedKeyCredential(name, key), endpoint=endpoint)


@pytest.fixture(scope="session")
def shared_key_batch(info):
    with shared_key(info) as client:
        yield client


@pytest.fixture
def fast(control):
    control.patch("/durations", json=FAST)
    return control


class PoolCleanup:
    """Pools a test made, deleted afterwards so other tests see only their own."""

    def __init__(self):
        self.made: list[tuple[object, str]] = []

    def add(self, client, pool: bm.BatchPoolCreateOptions) -> str:
        client.create_pool(pool)
        self.made.append((client, pool.id))
        return pool.id

    def delete_all(self) -> None:
        for client, pool_id in self.made:
            with contextlib.suppress(HttpResponseError):
                client.begin_delete_pool(pool_id, polling_interval=POLL).result()


@pytest.fixture
def pools(fast):
    cleanup = PoolCleanup()
    yield cleanup
    cleanup.delete_all()
