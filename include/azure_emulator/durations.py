"""How long each emulated Azure operation takes, in emulated seconds (compressed by ``--speed``).

Where users have published what they observe on Azure, the figure follows them; where nothing was
found the value is our estimate and says so. Sources are the anchors in the project's reference
notes (GitHub issues quoting real runs). Every value can be overridden through the control endpoint
(``PUT /_emulator/durations``), and nothing here is random: the same requests take the same time.

| key | default | observed on Azure / why |
|---|---|---|
| vm_create | 120 | estimate: VM create takes 1-5 minutes |
| build_linux | 900 | estimate: a Linux build script, 10-20 minutes |
| build_windows | 2400 | about 40 minutes for a simple Windows build (Azure/build-vm-image#9) |
| vm_power_off | 30 | estimate |
| vm_power_off_skip_shutdown | 5 | estimate: `skipShutdown=true` cuts the power without a guest shutdown |
| vm_start | 60 | estimate |
| vm_deallocate | 90 | estimate: 1-5 minutes |
| vm_delete | 60 | estimate |
| vm_update | 10 | estimate: a PUT that changes tags or the size of an existing VM |
| disk_create | 30 | estimate |
| disk_delete | 10 | estimate |
| nic_delete | 5 | estimate |
| snapshot_create | 120 | estimate: 1-5 minutes |
| snapshot_delete | 10 | estimate |
| image_create | 180 | estimate: 1-5 minutes |
| image_delete | 20 | estimate |
| gallery_create | 15 | estimate |
| gallery_delete | 15 | estimate |
| gallery_image_create | 15 | estimate |
| gallery_image_delete | 15 | estimate |
| version_prepare | 120 | estimate: the version is provisioned before regions start replicating |
| replication_per_region | 2400 | 1-3 % per minute (Azure/AgentBaker#742): 40 minutes at 2.5 %/min |
| replication_per_extra_replica | 60 | estimate: each replica beyond the first adds a minute |
| replication_failure_after | 0.5 | failures seen late (2 h 17 min, azure-cli#15539): a failing region fails at this fraction of its time |
| version_delete | 60 | estimate |
| version_update | 30 | estimate: an update that copies nothing new (fewer replicas, a region removed, new dates) |
| pool_allocation_start | 240 | 3-8 minutes before nodes start (Azure/Batch#145) |
| pool_allocation_per_replica_batch | 300 | custom-image pools of several hundred nodes take 20-30 min (CromwellOnAzure#107): each full set of `vms_per_replica` nodes per replica adds this |
| vms_per_replica | 300 | the Batch guidance's one replica per 300 VMs |
| node_boot | 120 | nodes go creating -> starting -> idle in a few minutes (6-7 min small pool to steady, azure-sdk-for-java#2968) |
| node_agent_start | 60 | estimate |
| start_task | 45 | estimate: depends on the user's start task |
| pool_delete | 180 | estimate |
| node_remove | 60 | estimate |
| task_schedule | 5 | estimate |
| task_run | 20 | estimate: a smoke command |
| pool_resize_stop | 30 | estimate: a stopped resize settles (stopping -> steady) |
| job_delete | 15 | estimate |
| job_terminate | 10 | estimate |
"""

from __future__ import annotations

DEFAULTS: dict[str, float] = {
    "vm_create": 120,
    "build_linux": 900,
    "build_windows": 2400,
    "vm_power_off": 30,
    "vm_start": 60,
    "vm_deallocate": 90,
    "vm_delete": 60,
    "vm_update": 10,
    "vm_power_off_skip_shutdown": 5,
    "disk_create": 30,
    "disk_delete": 10,
    "nic_delete": 5,
    "snapshot_create": 120,
    "snapshot_delete": 10,
    "image_create": 180,
    "image_delete": 20,
    "gallery_create": 15,
    "gallery_delete": 15,
    "gallery_image_create": 15,
    "gallery_image_delete": 15,
    "version_prepare": 120,
    "replication_per_region": 2400,
    "replication_per_extra_replica": 60,
    "replication_failure_after": 0.5,
    "version_delete": 60,
    "version_update": 30,
    "pool_allocation_start": 240,
    "pool_allocation_per_replica_batch": 300,
    "vms_per_replica": 300,
    "node_boot": 120,
    "node_agent_start": 60,
    "start_task": 45,
    "pool_delete": 180,
    "node_remove": 60,
    "task_schedule": 5,
    "task_run": 20,
    "pool_resize_stop": 30,
    "job_delete": 15,
    "job_terminate": 10,
}


class Durations:
    def __init__(self, store):
        self._store = store

    def all(self) -> dict[str, float]:
        return {**DEFAULTS, **self._store.meta_get("durations", {})}

    def __getitem__(self, key: str) -> float:
        return self.all()[key]

    def update(self, overrides: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(overrides) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"unknown duration keys {unknown}; known: {sorted(DEFAULTS)}")
        bad = [k for k, v in overrides.items() if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0]
        if bad:
            raise ValueError(f"durations must be non-negative numbers: {bad}")
        self._store.meta_put("durations", {**self._store.meta_get("durations", {}), **overrides})
        return self.all()

    def reset(self) -> None:
        self._store.meta_put("durations", {})
