"""What every benchmark run is measured with: the emulator's speed and every operation's duration,
set explicitly at the start of each measurement so that a change to the emulator's defaults never
moves the numbers; and the sizes of the concurrency and scale measurements.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "bench" / "specs" / "bench.yaml"
RESULTS = ROOT / "bench" / "results"

# The bench spec's emulated critical path is 4750 s (about 79 minutes of Azure time): at 40x it
# takes about two minutes of real time, long enough that a fixed per-task cost shows as overhead
# and short enough for the whole bench to stay within 15 minutes.
SPEED = 40.0

# Emulated seconds, as in azure_emulator.durations (where each figure comes from is documented there).
DURATIONS: dict[str, float] = {
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

# Concurrency: this many image families at once, under the scheduler with this many worker slots.
FAMILIES = 10
PARALLELISM = 4

# Scale: the pool sensor's poll at these pool sizes, the replication sensor's at these region counts,
# and the triggerer's memory with this many waits.
POOL_NODES = (50, 5000)
REGION_COUNTS = (3, 10)
TRIGGERS = 100
