"""The pipeline as a user would script it from Microsoft's documentation: one step after the other,
each long-running call as ``begin_*(...).result()`` with the SDKs' default polling.

It follows these pages (the Python SDK calls they show, azure-mgmt-compute 39 and azure-batch 15.1):

- Create and manage a VM with the Azure SDK for Python
  (learn.microsoft.com/azure/developer/python/sdk/examples/azure-sdk-example-virtual-machines):
  ``ComputeManagementClient``, ``virtual_machines.begin_create_or_update(...).result()``;
- Create a gallery / Create an image definition and an image version
  (learn.microsoft.com/azure/virtual-machines/create-gallery, .../image-version);
- Remove machine specific information by generalizing a VM (learn.microsoft.com/azure/virtual-machines/generalize):
  the build script deprovisions and powers off, then deallocate and generalize;
- Create a snapshot of a virtual hard disk (learn.microsoft.com/azure/virtual-machines/snapshot-copy-managed-disk)
  and Create a legacy managed image (learn.microsoft.com/azure/virtual-machines/capture-image-resource);
- Use the Azure Compute Gallery to create a custom image pool (learn.microsoft.com/azure/batch/batch-sig-images),
  ``BatchClient.create_pool`` with ``virtualMachineImageId``;
- Quickstart: Use Python API to run an Azure Batch job (learn.microsoft.com/azure/batch/quick-run-python):
  create a job and a task, poll until the task completes (every second), delete the job;
- waiting for a pool's nodes as Microsoft's azure-batch-samples do (``common/helpers.py``
  ``wait_for_all_nodes_state``: read the pool for resize errors, list its nodes, every 10 seconds).

No SDK polling is tuned: ARM's poller waits the Retry-After each answer carries, Batch's ``begin_*``
pollers sleep their default 5 s. The script's own waits (a VM that powers itself off, a pool's
nodes, a task) have no SDK poller; they poll at the documented intervals in Azure's time, divided by
the emulator's speed, so that compressed time does not count against them.

It reads the same spec as the pipeline (``imagepool.spec``, parsing only) so that both do the same
work: the build VM with its data disks, a snapshot per disk, the managed image, the version in every
target region with the same replicas, each pool with its start task, a smoke job per pool, and the
build resources deleted at the end.

``python bench/baseline.py --ready-file READY --spec SPEC --speed N`` prints one JSON document:
``{"wall_s": ..., "steps": [{"step": ..., "start": s, "end": s}, ...]}`` (seconds from the start).
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import time
from contextlib import contextmanager
from pathlib import Path

from azure.batch import BatchClient, models
from azure.identity import ClientSecretCredential
from azure.mgmt.compute import ComputeManagementClient

from imagepool.spec import build_script, load_spec

# Documented poll intervals, in Azure's seconds: azure-batch-samples' node wait, the quickstart's task
# wait; nothing documents the wait for a build VM to power itself off, so it polls like the node wait.
NODE_POLL, TASK_POLL, BUILD_POLL = 10.0, 1.0, 10.0
VERSION = "1.0.0"
HEALTHY = {"idle", "running"}
SETTLED = HEALTHY | {"starttaskfailed", "unusable"}


class Steps:
    """When each step started and ended, in seconds from the script's start."""

    def __init__(self):
        self.started = time.monotonic()
        self.done: list[dict] = []

    @contextmanager
    def step(self, name: str):
        start = time.monotonic() - self.started
        yield
        self.done.append({"step": name, "start": round(start, 3), "end": round(time.monotonic() - self.started, 3)})


def run(info: dict, spec_path: Path, speed: float) -> dict:
    spec = load_spec(spec_path)
    rg, sub, ca = info["resource_group"], info["subscription_id"], info["ca_bundle"]
    credential = ClientSecretCredential(
        info["tenant_id"],
        info["client_id"],
        info["client_secret"],
        authority=info["authority_host"],
        disable_instance_discovery=True,
        connection_verify=ca,
    )
    compute = ComputeManagementClient(
        credential, sub, base_url=info["arm_endpoint"], credential_scopes=[info["arm_scope"]], connection_verify=ca
    )
    steps = Steps()
    build, gallery = spec.build, spec.gallery
    vm_name = f"{spec.name}-build"

    with steps.step("gallery"):
        compute.galleries.begin_create_or_update(rg, gallery.name, {"location": gallery.location}).result()
    with steps.step("image definition"):
        compute.gallery_images.begin_create_or_update(
            rg,
            gallery.name,
            gallery.image_definition,
            {
                "location": gallery.location,
                "properties": {
                    "osType": spec.os_type,
                    "osState": "Generalized",
                    "hyperVGeneration": spec.hyper_v_generation,
                    "identifier": {"publisher": gallery.publisher, "offer": gallery.offer, "sku": gallery.sku},
                },
            },
        ).result()
    with steps.step("build VM"):
        vm = compute.virtual_machines.begin_create_or_update(rg, vm_name, vm_body(spec, vm_name, spec_path)).result()
    with steps.step("build script"):
        while "PowerState/stopped" not in {
            s.code for s in compute.virtual_machines.instance_view(rg, vm_name).statuses
        }:
            time.sleep(BUILD_POLL / speed)
    with steps.step("deallocate, generalize"):
        compute.virtual_machines.begin_deallocate(rg, vm_name).result()
        compute.virtual_machines.generalize(rg, vm_name)
    disks = [(None, vm.storage_profile.os_disk.managed_disk.id)]
    disks += [(d.lun, d.managed_disk.id) for d in vm.storage_profile.data_disks]
    snapshots = {}
    for lun, disk_id in disks:
        name = f"{vm_name}-snap-{'os' if lun is None else lun}"
        with steps.step(f"snapshot {'os' if lun is None else f'lun {lun}'}"):
            snapshots[lun] = (
                compute.snapshots.begin_create_or_update(
                    rg,
                    name,
                    {
                        "location": build.location,
                        "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk_id}},
                    },
                )
                .result()
                .id
            )
    with steps.step("managed image"):
        image = compute.images.begin_create_or_update(
            rg,
            f"{spec.name}-image",
            {
                "location": build.location,
                "properties": {
                    "hyperVGeneration": spec.hyper_v_generation,
                    "storageProfile": {
                        "osDisk": {
                            "osType": spec.os_type,
                            "osState": "Generalized",
                            "snapshot": {"id": snapshots.pop(None)},
                        },
                        "dataDisks": [{"lun": lun, "snapshot": {"id": i}} for lun, i in sorted(snapshots.items())],
                    },
                },
            },
        ).result()
    replicas = spec.replicas_per_region()
    with steps.step("image version (every region)"):
        version = compute.gallery_image_versions.begin_create_or_update(
            rg,
            gallery.name,
            gallery.image_definition,
            VERSION,
            {
                "location": gallery.location,
                "properties": {
                    "publishingProfile": {
                        "targetRegions": [
                            {
                                "name": r.name,
                                "regionalReplicaCount": replicas[r.name],
                                "storageAccountType": r.storage_account_type,
                            }
                            for r in spec.target_regions
                        ]
                    },
                    "storageProfile": {"source": {"id": image.id}},
                },
            },
        ).result()
    urls = {a["name"]: a["endpoint"] for a in info["batch_accounts"]}
    for pool in spec.batch.pools:
        batch = BatchClient(endpoint=urls[pool.account], credential=credential, connection_verify=ca)
        pool_id = pool.pool_id(VERSION)
        with steps.step(f"pool {pool.id_prefix}: create, wait for nodes"):
            batch.create_pool(pool_body(pool, pool_id, version.id))
            wait_for_nodes(batch, pool_id, pool.target_nodes, pool.required_healthy_fraction, speed)
        with steps.step(f"pool {pool.id_prefix}: smoke job"):
            smoke(batch, pool_id, pool.smoke_command, speed)
    with steps.step("delete build VM"):
        compute.virtual_machines.begin_delete(rg, vm_name).result()
    with steps.step("delete snapshots, image"):
        for lun, _ in disks:
            compute.snapshots.begin_delete(rg, f"{vm_name}-snap-{'os' if lun is None else lun}").result()
        compute.images.begin_delete(rg, f"{spec.name}-image").result()
    return {"wall_s": round(time.monotonic() - steps.started, 3), "steps": steps.done}


def vm_body(spec, vm_name: str, spec_path: Path) -> dict:
    """The build VM as the REST reference shows it: the build script as custom data, SSH key only, an
    inline NIC and every disk deleted with the VM.
    """
    build, image = spec.build, spec.base_image
    disk = {"storageAccountType": build.os_disk_storage_account_type}
    return {
        "location": build.location,
        "properties": {
            "hardwareProfile": {"vmSize": build.vm_size},
            "storageProfile": {
                "imageReference": {
                    "publisher": image.publisher,
                    "offer": image.offer,
                    "sku": image.sku,
                    "version": image.version,
                },
                "osDisk": {
                    "createOption": "FromImage",
                    "diskSizeGB": build.os_disk_size_gb,
                    "managedDisk": disk,
                    "deleteOption": "Delete",
                },
                "dataDisks": [
                    {
                        "lun": d.lun,
                        "createOption": "Empty",
                        "diskSizeGB": d.size_gb,
                        "deleteOption": "Delete",
                        "managedDisk": {"storageAccountType": d.storage_account_type},
                    }
                    for d in build.data_disks
                ],
            },
            "osProfile": {
                "computerName": vm_name,
                "adminUsername": build.admin_username,
                "customData": base64.b64encode(build_script(spec, spec_path).encode()).decode(),
                "linuxConfiguration": {
                    "disablePasswordAuthentication": True,
                    "ssh": {
                        "publicKeys": [
                            {
                                "path": f"/home/{build.admin_username}/.ssh/authorized_keys",
                                "keyData": build.ssh_public_key,
                            }
                        ]
                    },
                },
            },
            "networkProfile": {
                "networkApiVersion": "2020-11-01",
                "networkInterfaceConfigurations": [
                    {
                        "name": f"{vm_name}-nic",
                        "properties": {
                            "primary": True,
                            "deleteOption": "Delete",
                            "ipConfigurations": [
                                {"name": "ipconfig1", "properties": {"subnet": {"id": build.subnet_id}}}
                            ],
                        },
                    }
                ],
            },
        },
    }


def pool_body(pool, pool_id: str, image_id: str) -> models.BatchPoolCreateOptions:
    start = pool.start_task
    return models.BatchPoolCreateOptions(
        id=pool_id,
        vm_size=pool.vm_size,
        virtual_machine_configuration=models.VirtualMachineConfiguration(
            image_reference=models.BatchVmImageReference(virtual_machine_image_id=image_id),
            node_agent_sku_id=pool.node_agent_sku_id,
        ),
        target_dedicated_nodes=pool.dedicated_nodes,
        target_low_priority_nodes=pool.spot_nodes,
        resize_timeout=pool.resize_timeout(),
        start_task=models.BatchStartTask(command_line=start.command, wait_for_success=start.wait_for_success)
        if start
        else None,
    )


def wait_for_nodes(batch: BatchClient, pool_id: str, target: int, healthy_fraction: float, speed: float) -> None:
    """azure-batch-samples' ``wait_for_all_nodes_state``: resize errors fail, then every node settled."""
    while True:
        pool = batch.get_pool(pool_id)
        if pool.resize_errors:
            raise RuntimeError(f"pool {pool_id}: resize errors {[e.code for e in pool.resize_errors]}")
        nodes = list(batch.list_nodes(pool_id))
        if len(nodes) >= target and all(n.state in SETTLED for n in nodes):
            break
        time.sleep(NODE_POLL / speed)
    healthy = sum(n.state in HEALTHY for n in nodes)
    if healthy < math.ceil(healthy_fraction * target):
        raise RuntimeError(f"pool {pool_id}: only {healthy} of {target} nodes are healthy")


def smoke(batch: BatchClient, pool_id: str, command: str, speed: float) -> None:
    job_id = f"smoke-{pool_id}"
    batch.create_job(models.BatchJobCreateOptions(id=job_id, pool_info=models.BatchPoolInfo(pool_id=pool_id)))
    batch.create_task(job_id, models.BatchTaskCreateOptions(id="smoke", command_line=command))
    while (task := batch.get_task(job_id, "smoke")).state != "completed":
        time.sleep(TASK_POLL / speed)
    if task.execution_info.exit_code != 0:
        raise RuntimeError(f"smoke task on pool {pool_id} exited with {task.execution_info.exit_code}")
    batch.begin_delete_job(job_id).result()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ready-file", type=Path, required=True, help="the emulator's ready file")
    parser.add_argument("--spec", type=Path, required=True, help="the pipeline spec to run")
    parser.add_argument("--speed", type=float, required=True, help="the emulator's speed")
    args = parser.parse_args(argv)
    print(json.dumps(run(json.loads(args.ready_file.read_text()), args.spec, args.speed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
