"""Reads change nothing: views share the stored documents' containers (copy-on-write, see ``timeline``), so a GET
that changed what it was given would change the stored resource. Every read route is called in-process on settled
resources of each kind, and the store must be exactly as before.
"""

from __future__ import annotations

import json

import httpx
import pytest

from azure_emulator import timeline
from azure_emulator.app import EmulatorApp
from azure_emulator.backend import Backend

BATCH_API = "2025-06-01"
# What azure-mgmt-compute 39 sends to each family (ARM refuses a version a resource type never had).
ARM_APIS = {
    "/disks": "2026-03-02",
    "/snapshots": "2026-03-02",
    "/galleries": "2026-03-03",
    "/virtualMachines": "2026-04-01",
}


def arm_api(path: str) -> str | None:
    return next((version for family, version in ARM_APIS.items() if family in path), None)


UBUNTU = {
    "publisher": "Canonical",
    "offer": "0001-com-ubuntu-server-jammy",
    "sku": "22_04-lts-gen2",
    "version": "latest",
}


class FrozenClock:
    """Emulated time that moves only when the test says so."""

    def __init__(self, start: float):
        self.at = start

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def backend(tmp_path):
    backend = Backend(tmp_path, speed=1)
    backend.clock.now = FrozenClock(backend.clock.now())
    return backend


def stored(backend) -> str:
    return json.dumps({kind: dict(backend.store.items(kind)) for kind in backend.store.kinds()}, sort_keys=True)


def settle_everything(backend) -> None:
    """Apply every due change to the stored documents: views then share all their containers with them."""
    for kind in backend.store.kinds():
        for key, _ in list(backend.store.items(kind)):
            doc = backend.settled(kind, key)
            if doc is not None:
                backend.save(kind, key, doc)
                assert not timeline.pending(doc, backend.now()), (kind, key)


async def test_no_read_changes_a_stored_resource(backend):
    s = backend.settings
    arm = {"Authorization": f"Bearer {backend.tokens.issue(s.client_id, 'https://management.azure.com')}"}
    batch = {"Authorization": f"Bearer {backend.tokens.issue(s.client_id, 'https://batch.core.windows.net/')}"}
    compute = f"/subscriptions/{s.subscription_id}/resourceGroups/{s.resource_group}/providers/Microsoft.Compute"
    account = f"/batch/{s.batch_accounts[0].name}"
    version = f"{compute}/galleries/gal/images/def/versions/1.0.0"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=EmulatorApp(backend)), base_url="https://127.0.0.1"
    ) as client:

        async def send(method: str, path: str, body: dict | None = None, *, headers=arm, api=None, **query):
            response = await client.request(
                method, path, json=body, headers=headers, params={"api-version": api or arm_api(path) or "", **query}
            )
            assert response.status_code < 300, (method, path, response.text)
            return response

        location = s.location
        await send(
            "PUT",
            f"{compute}/disks/disk",
            {
                "location": location,
                "properties": {
                    "creationData": {"createOption": "Empty"},
                    "diskSizeGB": 30,
                    "osType": "Linux",
                    "hyperVGeneration": "V2",
                },
            },
        )
        await send(
            "PUT",
            f"{compute}/snapshots/snap",
            {
                "location": location,
                "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": f"{compute}/disks/disk"}},
            },
        )
        backend.clock.now.at += 3600
        await send("PUT", f"{compute}/galleries/gal", {"location": location})
        await send(
            "PUT",
            f"{compute}/galleries/gal/images/def",
            {
                "location": location,
                "properties": {
                    "osType": "Linux",
                    "osState": "Generalized",
                    "hyperVGeneration": "V2",
                    "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
                },
            },
        )
        await send(
            "PUT",
            version,
            {
                "location": location,
                "properties": {
                    "publishingProfile": {"targetRegions": [{"name": location}]},
                    "storageProfile": {"osDiskImage": {"source": {"id": f"{compute}/snapshots/snap"}}},
                },
            },
        )
        nic = {
            "name": "nic",
            "properties": {
                "primary": True,
                "ipConfigurations": [{"name": "ip", "properties": {"subnet": {"id": s.subnet_id}}}],
            },
        }
        await send(
            "PUT",
            f"{compute}/virtualMachines/vm",
            {
                "location": location,
                "properties": {
                    "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
                    "storageProfile": {"imageReference": UBUNTU},
                    "osProfile": {
                        "adminUsername": "builder",
                        "adminPassword": "Read-0nly!",
                        "linuxConfiguration": {"disablePasswordAuthentication": False},
                    },
                    "networkProfile": {"networkApiVersion": "2020-11-01", "networkInterfaceConfigurations": [nic]},
                    "userData": "dXNlcmRhdGE=",
                },
            },
        )
        await send(
            "POST",
            f"{account}/pools",
            {
                "id": "pool",
                "vmSize": "Standard_D2s_v3",
                "targetDedicatedNodes": 2,
                "virtualMachineConfiguration": {"imageReference": UBUNTU, "nodeAgentSKUId": "batch.node.ubuntu 22.04"},
            },
            headers=batch,
            api=BATCH_API,
        )
        backend.clock.now.at += 3600
        await send(
            "POST",
            f"{account}/jobs",
            {"id": "job", "poolInfo": {"poolId": "pool"}, "onAllTasksComplete": "terminatejob"},
            headers=batch,
            api=BATCH_API,
        )
        await send(
            "POST", f"{account}/jobs/job/tasks", {"id": "task", "commandLine": "true"}, headers=batch, api=BATCH_API
        )
        backend.clock.now.at += 3600
        settle_everything(backend)
        before = stored(backend)

        node = (await send("GET", f"{account}/pools/pool/nodes", headers=batch, api=BATCH_API)).json()["value"][0]
        assert (await send("GET", f"{account}/jobs/job", headers=batch, api=BATCH_API)).json()["state"] == "completed"
        for path, query in [
            (f"{compute}/virtualMachines/vm", {"$expand": "instanceView"}),
            (f"{compute}/virtualMachines/vm", {"$expand": "userData"}),
            (f"{compute}/virtualMachines/vm/instanceView", {}),
            (f"{compute}/virtualMachines", {"$expand": "instanceView"}),
            (version, {"$expand": "ReplicationStatus"}),
            (f"{compute}/galleries/gal/images/def/versions", {}),
            (f"{compute}/disks/disk", {}),
            (f"{compute}/snapshots/snap", {}),
            (f"{compute}/galleries/gal", {}),
            (f"{compute}/galleries/gal/images", {}),
        ]:
            await send("GET", path, **query)
        for path in (
            "/pools",
            "/pools/pool",
            f"/pools/pool/nodes/{node['id']}",
            "/nodecounts",
            "/jobs",
            "/jobs/job",
            "/jobs/job/tasks",
            "/jobs/job/tasks/task",
            "/supportedimages",
        ):
            await send("GET", f"{account}{path}", headers=batch, api=BATCH_API)
        await send("GET", "/_emulator/resources", headers={}, api=None)

    assert stored(backend) == before
