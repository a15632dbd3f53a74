"""Scale: what one look of imagepool's waits costs as Azure grows, and what the triggerer holds for many.

- The pool sensor's poll (``PoolSteadyTrigger.poll``: the pool, then once steady its node counts) at
  50 and 5000 nodes, against listing the nodes (what the baseline and most scripts do).
- The replication sensor's poll (``ReplicationTrigger.poll``: the version with its replication
  status) at 3 and 10 regions.
- The triggerer's memory with 100 waits: ``python -m bench.scale --pool-id ... --batch-account-url ...``
  runs our triggers in one asyncio loop, as the triggerer does, and reports its resident memory
  (``VmRSS`` from /proc) with none, one and all of them waiting.

Costs are read from the emulator's request log (requests and response bytes), so they are what went
over the wire; each poll is measured after a first one has fetched the token and opened the connection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.control import Control, tally
from bench.settings import POOL_NODES, REGION_COUNTS, TRIGGERS

# Pools that stay resizing (their nodes would start arriving after Batch's longest resize timeout,
# which they are given) and pools steady at once (nodes allocated and idle as the pool is created).
NEVER_STEADY = {"pool_allocation_start": 10**7}
LONGEST_RESIZE = timedelta(days=7)
STEADY_AT_ONCE = {
    "pool_allocation_start": 0,
    "pool_allocation_per_replica_batch": 0,
    "node_boot": 0,
    "node_agent_start": 0,
    "start_task": 0,
}
# Regions added to the version's for the 10-region poll (every one known to the emulator and to specs).
MORE_REGIONS = [
    "francecentral",
    "germanywestcentral",
    "swedencentral",
    "eastus",
    "eastus2",
    "centralus",
    "westus2",
    "westus3",
    "canadacentral",
    "australiaeast",
    "japaneast",
]
VM_SIZE, NODE_AGENT = "Standard_D2s_v3", "batch.node.ubuntu 22.04"
# How long the waits poll before memory is read: several polls each, with the interval backed off.
SETTLE_S = 8.0


def measure(control: Control, spec, plan: dict) -> dict:
    """Every scale figure, on the state a pipeline run of ``spec`` left (``plan``: its plan task's XComs).

    The resizing pools go to one of the spec's Batch accounts and the steady ones to the other: a
    5000-node pool of each would not fit in one account's core quota.
    """
    resizing_url, steady_url = (plan[f"account_url:{account.name}"] for account in spec.batch.accounts[:2])
    image_id = plan["image_version_id"]
    control.pin(NEVER_STEADY)
    resizing = {
        nodes: create_pool(resizing_url, image_id, f"scale-{nodes}-resizing", nodes, LONGEST_RESIZE)
        for nodes in POOL_NODES
    }
    control.pin(STEADY_AT_ONCE)
    pools = {
        str(nodes): {
            "resizing": pool_poll(control, resizing_url, resizing[nodes], "waiting"),
            **steady_pool(control, steady_url, image_id, nodes),
        }
        for nodes in POOL_NODES
    }
    regions = replication_polls(control, spec, plan["version"])
    memory = trigger_memory(resizing[POOL_NODES[0]], resizing_url)
    return {"pool_poll": pools, "replication_poll": regions, "triggerer_memory": memory}


def create_pool(url: str, image_id: str, pool_id: str, nodes: int, timeout: timedelta) -> str:
    from imagepool.hooks.batch import BatchHook, PoolSpec

    BatchHook(batch_account_url=url).create_pool(
        PoolSpec(
            pool_id=pool_id,
            vm_size=VM_SIZE,
            image_id=image_id,
            node_agent_sku_id=NODE_AGENT,
            target_dedicated_nodes=nodes,
            target_low_priority_nodes=0,
            resize_timeout=timeout,
        )
    )
    return pool_id


def steady_pool(control: Control, url: str, image_id: str, nodes: int) -> dict:
    """A steady pool's poll, and what listing its nodes costs instead."""
    from imagepool.hooks.batch import BatchHook
    from imagepool.pool_sizing import resize_timeout

    pool_id = create_pool(url, image_id, f"scale-{nodes}", nodes, resize_timeout(nodes))
    steady = pool_poll(control, url, pool_id, "success")
    batch = BatchHook(batch_account_url=url)
    mark = control.mark()
    listed = sum(1 for _ in batch.connection.list_nodes(pool_id))
    return {"steady": steady, "node_listing": {**tally(control.azure_requests(mark)), "nodes": listed}}


def pool_poll(control: Control, url: str, pool_id: str, expected: str) -> dict:
    """One poll of the pool sensor (``PoolSteadyTrigger``), which must find the pool ``expected``."""
    from imagepool.triggers.batch import PoolSteadyTrigger

    trigger = PoolSteadyTrigger(
        azure_conn_id="azure_default",
        deadline=time.time() + 600,
        pool_id=pool_id,
        batch_account_url=url,
        min_healthy_fraction=0.9,
        max_failed_fraction=0.1,
    )

    async def poll() -> dict:
        async with trigger.make_hook() as hook:
            return await _one_poll(control, trigger, hook)

    found = asyncio.run(poll())
    if found["state"] != expected:
        raise RuntimeError(f"pool {pool_id}: the sensor found it {found['state']}, not {expected}")
    return found


async def _one_poll(control: Control, trigger, hook) -> dict:
    await trigger.poll(hook)  # fetches the token and opens the connection
    mark = control.mark()
    found = await trigger.poll(hook)
    return {**tally(control.azure_requests(mark)), "state": found.state}


def replication_polls(control: Control, spec, version: str) -> dict:
    """The replication sensor's poll at the spec's region count, then with the version in more regions."""
    from imagepool.hooks.versions import ImageVersionHook
    from imagepool.triggers.versions import ReplicationTrigger

    versions = ImageVersionHook()
    group, gallery, image = spec.resource_group, spec.gallery.name, spec.gallery.image_definition
    trigger = ReplicationTrigger(
        azure_conn_id="azure_default",
        deadline=time.time() + 600,
        resource_group_name=group,
        gallery_name=gallery,
        image_name=image,
        version=version,
    )

    async def poll() -> dict:
        async with trigger.make_hook() as hook:
            return await _one_poll(control, trigger, hook)

    found = {}
    for count in REGION_COUNTS:
        targets = versions.get_version(group, gallery, image, version)["target_regions"]
        added = [r for r in MORE_REGIONS if r not in {t["name"] for t in targets}][: count - len(targets)]
        if added:
            versions.begin_target_regions(
                group, gallery, image, version, targets + [{"name": r, "regional_replica_count": 1} for r in added]
            )
        found[str(count)] = {**asyncio.run(poll()), "regions": len(targets) + len(added)}
    return found


def trigger_memory(pool_id: str, url: str) -> dict:
    """The resident memory of a process running our triggers, as the triggerer runs them (a subprocess,
    so that nothing else this process loaded is counted).
    """
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "memory.json"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.scale",
                "--pool-id",
                pool_id,
                "--batch-account-url",
                url,
                "--waits",
                str(TRIGGERS),
                "--out",
                str(out),
            ],
            env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the triggerer memory measurement failed:\n{done.stderr[-3000:]}")
        return json.loads(out.read_text())


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


async def _hold_waits(pool_id: str, url: str, waits: int) -> dict:
    from airflow.configuration import conf

    from imagepool.triggers.batch import PoolSteadyTrigger

    def trigger() -> PoolSteadyTrigger:
        return PoolSteadyTrigger(
            azure_conn_id="azure_default",
            deadline=time.time() + 3600,
            pool_id=pool_id,
            batch_account_url=url,
            min_healthy_fraction=0.9,
            max_failed_fraction=0.1,
            poll_interval=conf.getfloat("imagepool", "poll_interval"),
            max_poll_interval=conf.getfloat("imagepool", "max_poll_interval"),
        )

    found = {"idle_kb": rss_kb()}
    running = [asyncio.create_task(anext(trigger().run()))]
    await asyncio.sleep(SETTLE_S)
    found["one_wait_kb"] = rss_kb()
    running += [asyncio.create_task(anext(trigger().run())) for _ in range(waits - 1)]
    await asyncio.sleep(SETTLE_S)
    found[f"{waits}_waits_kb"] = rss_kb()
    ended = [task for task in running if task.done()]
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    if ended:
        raise RuntimeError(f"{len(ended)} waits ended early: {ended[0].result()}")
    found["per_wait_kb"] = round((found[f"{waits}_waits_kb"] - found["one_wait_kb"]) / (waits - 1), 1)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pool-id", required=True, help="a pool that stays resizing (the waits never end)")
    parser.add_argument("--batch-account-url", required=True)
    parser.add_argument("--waits", type=int, default=TRIGGERS)
    parser.add_argument("--out", type=Path, required=True, help="where to write the figures (JSON)")
    args = parser.parse_args(argv)
    # Everything the triggerer would have loaded is loaded before the first reading.
    import imagepool.triggers.batch  # noqa: F401

    found = asyncio.run(_hold_waits(args.pool_id, args.batch_account_url, args.waits))
    args.out.write_text(json.dumps({"waits": args.waits, **found}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
